"""Approval requests once decided: who decided is a real mention, what they typed is not."""

from __future__ import annotations

import json

from bot.slack.blocks.render_pages import approval_closed
from tests.unit.bot.slack.blocks.test_render import FIRING


def test_a_decided_request_mentions_the_approver_for_real() -> None:
    text, blocks = approval_closed(FIRING, tier=2, outcome="approved by <@U0DAVE>")
    assert text == "Decided: approved by <@U0DAVE>"
    assert "Escalation to tier 3: *approved by <@U0DAVE>*" in json.dumps(blocks)


def test_a_denial_reason_stays_untrusted_text() -> None:
    outcome = "denied by <@U0DAVE>: ask <@U0EVE> & <!channel>"
    text, blocks = approval_closed(FIRING, tier=None, outcome=outcome)
    assert text == "Decided: denied by <@U0DAVE>: ask &lt;@U0EVE&gt; &amp; &lt;!channel&gt;"
    assert "<@U0EVE>" not in json.dumps(blocks)
    assert "<@U0DAVE>" in json.dumps(blocks)


def test_an_outcome_without_a_person_is_text() -> None:
    text, _ = approval_closed(FIRING, tier=1, outcome="denied by timeout: no approver answered")
    assert text == "Decided: denied by timeout: no approver answered"
    forged, _ = approval_closed(FIRING, tier=1, outcome="approved by <@U0DAVE|x><!here>")
    assert "<!here>" not in forged
    assert "<@U0DAVE|" not in forged
