"""The sandbox the ``template`` source evaluates an integration's mapping in (Jinja2).

Why Jinja2 alone (not JMESPath as well): one language for the whole mapping, already a
dependency (the review page), with *templates* for text (``{{ alert.host }} is down``) and
*expressions* for values (``alert.state == "ok"``, ``body.alerts``). Its
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` refuses Python internals
(``''.__class__``) and changing the body's objects; on top of it this module keeps evaluation
bounded, because a policy file must never be able to stall intake:

- a JSON object's dotted names are its fields only (``body.items`` is the field ``items``,
  not the dict's method);
- an undefined value is an error (``StrictUndefined``), so a body without what the mapping
  needs is refused naming it, rather than rendering an empty title; ``default(...)`` and
  ``is defined`` make a field optional;
- no nested loops, recursive loops, macros, call blocks, includes or imports (checked when
  the policy file loads), ``range`` stops at 100,000 (Jinja's own sandbox limit);
- ``*`` may not build text or lists longer than :data:`MAX_BUILT_CHARS`, ``**`` takes
  exponents up to :data:`MAX_EXPONENT`, ``%`` formats no text (printf widths), and no call
  takes a number above :data:`MAX_CALL_NUMBER` (``ljust(10**9)``); the filters that pad or
  wrap text to a given width are not available;
- every template and expression is at most :data:`MAX_SOURCE_CHARS` long, and rendered text
  stops at each field's own cap.

Pure: no IO, no clock. Errors are ``(field, problem)`` pairs (load time) or
:class:`escalation.errors.PayloadError` (run time), built by :mod:`escalation.sources._template`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.environment import Template, TemplateExpression
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_SOURCE_CHARS = 4096
MAX_BUILT_CHARS = 10_000
MAX_EXPONENT = 64
MAX_CALL_NUMBER = 10_000
REMOVED_FILTERS = ("center", "indent", "wordwrap", "format")
"""Filters that pad or wrap text to a width the data could give (``format``: printf)."""
_FORBIDDEN_NODES: tuple[tuple[type[nodes.Node], str], ...] = (
    (nodes.Macro, "macros"),
    (nodes.CallBlock, "call blocks"),
    (nodes.Extends, "extends"),
    (nodes.Include, "include"),
    (nodes.Import, "import"),
    (nodes.FromImport, "import"),
)

Kind = Literal["text", "expression"]


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``alert.items`` is the body's ``items`` field, not the dict's method: a JSON
        object's fields are all its dotted names (``alert|items`` lists them)."""
        if isinstance(obj, dict):
            if attribute in obj:
                return obj[attribute]
            return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is over {MAX_EXPONENT}")
        elif operator == "%" and isinstance(left, str):
            raise SecurityError("% formatting of text is not available; use ~ to join text")
        return super().call_binop(context, operator, left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            big = isinstance(value, int) and not isinstance(value, bool) and abs(value)
            if big and big > MAX_CALL_NUMBER:
                raise SecurityError(f"a call with the number {value} (over {MAX_CALL_NUMBER})")
        return super().call(context, obj, *args, **kwargs)


def _check_repeat(sequence: Any, times: Any) -> None:
    sized = isinstance(sequence, str | list | tuple) and isinstance(times, int)
    if sized and len(sequence) * times > MAX_BUILT_CHARS:
        raise SecurityError(f"* would build more than {MAX_BUILT_CHARS} characters or items")


def _finalize(value: Any) -> Any:
    """A JSON null renders as nothing, not ``None``."""
    return "" if value is None else value


def _environment() -> _BoundedSandbox:
    env = _BoundedSandbox(
        undefined=StrictUndefined,
        autoescape=False,
        finalize=_finalize,
        keep_trailing_newline=False,
    )
    for name in REMOVED_FILTERS:
        env.filters.pop(name, None)
    return env


ENVIRONMENT = _environment()
"""One environment for every mapping: it holds no state between evaluations."""


def structure_problem(source: str) -> str | None:
    """What the template's shape allows that evaluation must not (see the module), or None."""
    tree = ENVIRONMENT.parse(source)
    for node_type, what in _FORBIDDEN_NODES:
        if tree.find(node_type) is not None:
            return f"{what} are not available in templates"
    for loop in tree.find_all(nodes.For):
        if loop.recursive:
            return "recursive loops are not available in templates"
        inner = [*loop.body, *loop.else_]
        if any(isinstance(n, nodes.For) or n.find(nodes.For) is not None for n in inner):
            return "loops inside loops are not available in templates (use filters: map, join)"
    return None


def compile_text(source: str) -> Template:
    """A text template; raises :class:`TemplateError` or ``ValueError`` with the problem."""
    _check_size(source)
    problem = structure_problem(source)
    if problem is not None:
        raise ValueError(problem)
    return ENVIRONMENT.from_string(source)


def compile_expression(source: str) -> TemplateExpression:
    """An expression (what goes inside ``{{ }}``), giving a value rather than text."""
    _check_size(source)
    return ENVIRONMENT.compile_expression(source, undefined_to_none=False)


def _check_size(source: str) -> None:
    if len(source) > MAX_SOURCE_CHARS:
        raise ValueError(f"is {len(source)} characters long; at most {MAX_SOURCE_CHARS}")


def source_problem(kind: Kind, source: str) -> str | None:
    """What is wrong with ``source`` as a template or an expression, or ``None``: the check
    the policy file runs when it loads (bot.policy.policy_file passes it to ``config``)."""
    try:
        if kind == "text":
            compile_text(source)
        else:
            compile_expression(source)
    except TemplateError as exc:
        return describe(exc, kind)
    except ValueError as exc:
        return str(exc)
    return None


def describe(exc: BaseException, kind: Kind = "text") -> str:
    """A template error in one line: Jinja's message (and the line of a multi-line one)."""
    message = str(getattr(exc, "message", None) or exc or type(exc).__name__)
    line = getattr(exc, "lineno", None)
    prefix = "not a valid expression: " if kind == "expression" else ""
    where = f" (line {line} of the template)" if line and line > 1 else ""
    return f"{prefix}{message}{where}"


def render(template: Template, variables: Mapping[str, object], *, cap: int) -> str:
    """The rendered text, stopped at ``cap`` characters (the last one then ``…``)."""
    return _capped(template.generate(dict(variables)), cap).strip()


def _capped(chunks: Iterable[str], cap: int) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        out.append(chunk)
        size += len(chunk)
        if size > cap:
            break
    text = "".join(out)
    return text if len(text) <= cap else text[: cap - 1] + "…"


def evaluate(expression: TemplateExpression, variables: Mapping[str, object]) -> object:
    """The expression's value (an undefined one raises when it is used)."""
    return expression(**variables)
