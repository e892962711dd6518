"""storage.intake.batch_ingest's grades of repeat firings: remembered for the event object a
parser gives again for an unchanged alert, and never across different rules."""

from __future__ import annotations

from dataclasses import replace

from bot.policy.policy_file import load_policy
from bot.policy.rules import build_rules
from config.settings import EXAMPLE_POLICY
from escalation.model import AlertEvent, SourceStatus
from escalation.triage.grading import Grade, GradingRule
from storage.intake import batch_ingest
from storage.intake.ingest import IngestRules

EVENT = AlertEvent(
    fingerprint="graded-1", status=SourceStatus.FIRING, title="Disk full", source="generic"
)


def rules() -> IngestRules:
    policy = load_policy(EXAMPLE_POLICY, env={"TOCSIN_WEBHOOK_TOKEN": "t" * 32})
    return build_rules(policy).ingest


def test_a_repeat_is_graded_as_grade_would_grade_it() -> None:
    ingest = rules()
    assert batch_ingest._graded(EVENT, ingest) == Grade(ingest.default_level, "default level")


def test_the_same_event_under_other_rules_is_graded_again() -> None:
    ingest = rules()
    batch_ingest._graded(EVENT, ingest)
    reloaded = replace(ingest, grading=[GradingRule(level=1)])

    assert batch_ingest._graded(EVENT, reloaded) == Grade(1, "grading rule 1")


def test_an_equal_event_of_its_own_is_graded_for_itself() -> None:
    ingest = rules()
    batch_ingest._graded(EVENT, ingest)
    sourced = replace(EVENT, level=1)

    assert batch_ingest._graded(sourced, ingest) == Grade(1, "level given by the source")


def test_grades_kept_are_bounded() -> None:
    ingest = rules()
    count = batch_ingest._GRADES_KEPT + 9
    events = [replace(EVENT, fingerprint=f"graded-{n}") for n in range(count)]
    for event in events:
        batch_ingest._graded(event, ingest)

    assert len(batch_ingest._grades) == batch_ingest._GRADES_KEPT
    assert id(events[-1]) in batch_ingest._grades
