"""Places in the policy file (``routes[0].channel``, ``levels.1.name``) and their lines.

The YAML is read once into plain data for validation and, alongside, into a table from
each place to the line it is written on, so that every problem (a missing key, a wrong type,
a reference to nothing) can say where to look, not only YAML syntax errors.
"""

from __future__ import annotations

import yaml


def join(where: str, key: object) -> str:
    """The place of ``key`` inside the mapping at ``where``."""
    return f"{where}.{key}" if where else str(key)


def item(where: str, index: int) -> str:
    """The place of item ``index`` of the list at ``where``."""
    return f"{where}[{index}]"


def load_with_lines(text: str) -> tuple[object, dict[str, int]]:
    """The YAML document as plain data, and the line (from 1) of every key and list item by
    place. Raises ``yaml.YAMLError`` as ``yaml.safe_load`` does."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        data = loader.construct_document(node)
        lines: dict[str, int] = {}
        _record(loader, node, "", lines)
        return data, lines
    finally:
        loader.dispose()


def _record(loader: yaml.SafeLoader, node: yaml.Node, where: str, lines: dict[str, int]) -> None:
    # Runs after construction: merge keys (<<) are already flattened into node.value.
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # a list or mapping as a key: refused by validation, at its parent
            place = join(where, loader.construct_object(key_node))
            lines[place] = key_node.start_mark.line + 1
            _record(loader, value_node, place, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            place = item(where, index)
            lines[place] = child.start_mark.line + 1
            _record(loader, child, place, lines)


def line_of(place: str, lines: dict[str, int]) -> int | None:
    """The line of ``place``, or of the nearest enclosing place written in the file (a
    missing key: the mapping it is missing from)."""
    while place:
        if place in lines:
            return lines[place]
        place = _parent(place)
    return None


def _parent(place: str) -> str:
    if place.endswith("]"):
        return place[: place.rindex("[")]
    return place.rpartition(".")[0]


def with_line(problem: str, lines: dict[str, int]) -> str:
    """``place: what is wrong`` → ``line N: place: what is wrong`` when the place (or one
    around it) is in the file."""
    place, sep, _ = problem.partition(": ")
    line = line_of(place, lines) if sep else None
    return problem if line is None else f"line {line}: {problem}"
