"""``/tocsin list``'s text and its noise footer, rendered from what the listener read."""

from __future__ import annotations

from bot.slack.blocks.command_text import LIST_LIMIT, alerts_text
from bot.slack.blocks.noise_text import noise_footer
from escalation.model import LevelSpec, Status
from storage.alerts import AlertBrief

LEVELS = {1: LevelSpec(number=1, name="Critical", emoji=":red_circle:")}


def brief(
    alert_id: int, *, level: int = 1, owner: str | None = None, title: str = "db"
) -> AlertBrief:
    return AlertBrief(
        id=alert_id,
        fingerprint=f"f{alert_id}",
        status=Status.ACKNOWLEDGED if owner else Status.FIRING,
        level=level,
        title=title,
        labels={},
        team="ops",
        channel="#alerts",
        owner=owner,
    )


def test_no_open_alerts_says_so() -> None:
    assert alerts_text([], LEVELS) == ":white_check_mark: No open alerts."


def test_each_open_alert_is_one_line_with_its_level_status_owner_and_channel() -> None:
    text = alerts_text(
        [brief(7, owner="U0OWNER"), brief(9, level=4, title="*bold* <!here>")], LEVELS
    )
    lines = text.split("\n")
    assert lines[0] == "*2 open alert(s)*"
    assert lines[1] == (":red_circle: #7 *Critical* db — acknowledged · owner <@U0OWNER> · #alerts")
    # a level the rules no longer name, and a title that cannot format nor mention
    assert lines[2].startswith(" #9 *level 4* ")
    assert "<!here>" not in lines[2]
    assert lines[2].endswith("— firing · #alerts")


def test_a_full_page_says_only_the_first_ones_are_listed() -> None:
    text = alerts_text([brief(n) for n in range(1, LIST_LIMIT + 1)], LEVELS)
    assert text.split("\n")[0] == f"*{LIST_LIMIT} open alert(s)* (first {LIST_LIMIT})"


def test_the_noise_footer_is_empty_when_nothing_was_dropped() -> None:
    assert noise_footer(total=0, distinct=0) == ""
    footer = noise_footer(total=12, distinct=3)
    assert "12 metric event(s) of 3 alert(s) dropped as noise in the last 24 h" in footer
    assert footer.startswith("\n_:mute:")
