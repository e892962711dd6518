"""What a transition writes besides its state, for every legal path of the state machine:
one timeline line (kind, rule, summary), and the thread line last among its outbox rows."""

from __future__ import annotations

from datetime import datetime

import pytest

from escalation.events import Page, PostThreadNote
from escalation.outbox_kinds import OutboxKind, read_thread_lines
from escalation.timeline import KIND_BY_RULE, shown_in_thread
from storage.effects import _decide
from tests.unit.escalation.test_state_machine import LEGAL, NOW, Cell, _apply


class Rotations:
    def on_call(self, rotation: str, *, at: datetime) -> str | None:
        return "U0ONCALL"


@pytest.mark.parametrize("cell", LEGAL, ids=lambda c: c.id)
def test_every_legal_transition_writes_its_line_and_shows_it_where_it_should(cell: Cell) -> None:
    tr = _apply(cell)

    decided = _decide(tr, kind="ignored", now=NOW, directory=Rotations())

    assert decided.kind == KIND_BY_RULE[tr.rule]
    assert decided.rule == tr.rule
    assert decided.summary.startswith(tr.summary)
    line = decided.line(7, actor="U0ACTOR", now=NOW)
    assert (line["alert_id"], line["kind"], line["rule"], line["actor"]) == (
        7,
        decided.kind,
        tr.rule,
        "U0ACTOR",
    )
    kinds = [kind for kind, _ in decided.rows]
    assert "thread_note" not in kinds  # notes ride with the line
    if shown_in_thread(decided.kind):
        assert kinds[-1] == OutboxKind.THREAD_LINES
        assert kinds.count(OutboxKind.THREAD_LINES) == 1
        payload = read_thread_lines(decided.rows[-1][1])
        assert payload["rule"] == tr.rule
        assert payload["text"] == decided.summary
        notes = [e.text for e in tr.effects if isinstance(e, PostThreadNote)]
        assert payload["notes"] == notes
    else:
        assert OutboxKind.THREAD_LINES not in kinds


@pytest.mark.parametrize(
    "cell",
    [c for c in LEGAL if any(isinstance(e, Page) for e in _apply(c).effects)],
    ids=lambda c: c.id,
)
def test_a_page_line_names_who_it_reached(cell: Cell) -> None:
    decided = _decide(_apply(cell), kind="step", now=NOW, directory=Rotations())

    assert " → reached " in decided.summary
    page = next(e for e in _apply(cell).effects if isinstance(e, Page))
    for target in page.targets:
        if target.kind.value == "user":
            assert f"<@{target.ref}>" in decided.summary
        if target.kind.value == "oncall":
            assert "<@U0ONCALL> (on call for" in decided.summary
