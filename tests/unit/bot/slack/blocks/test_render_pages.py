"""Pages and approval requests: several pages due together in one message, the impact the
source gave, and approvals once decided (who decided is a real mention, what they typed is
not)."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.slack import ids
from bot.slack.blocks.render_pages import (
    PAGES_PER_MESSAGE,
    PageLine,
    approval_closed,
    page_dm,
    page_dms,
)
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


def test_a_page_says_the_impact_the_source_gave() -> None:
    _, blocks = page_dm(
        replace(FIRING, impact="checkout <!here> fails"),
        tier=0,
        rule="STEP-1",
        rotation=None,
        link=None,
    )
    assert "*Impact:* checkout &lt;!here&gt; fails" in json.dumps(blocks)


def test_pages_due_together_make_one_message_with_buttons_for_each_within_slacks_limits() -> None:
    alerts = [
        replace(FIRING, id=n, title=f"Queue {n} stuck") for n in range(1, PAGES_PER_MESSAGE + 1)
    ]
    text, blocks = page_dms([PageLine(a, 0, "STEP-1", None) for a in alerts])
    assert len(blocks) <= 50  # Slack's limit of blocks a message
    acks = [
        e["value"]
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.ACKNOWLEDGE
    ]
    assert acks == [str(n) for n in range(1, PAGES_PER_MESSAGE + 1)]
    assert text.startswith(f"Paged for {PAGES_PER_MESSAGE} alerts")
    assert "Queue 7 stuck" in text


def test_one_page_due_alone_is_the_single_page_message() -> None:
    alone = page_dms([PageLine(FIRING, 1, "STEP-1", "db")])
    assert alone == page_dm(FIRING, tier=1, rule="STEP-1", rotation="db", link=None)
