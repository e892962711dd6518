"""The README's policy file reference is the one generated from the models."""

from __future__ import annotations

from pathlib import Path

from config.policy import PolicyFile
from config.reference import SECTIONS, policy_reference
from escalation.sources import FORMATS

README = Path(__file__).parents[3] / "README.md"
START, END = "<!-- policy-reference:start -->\n", "<!-- policy-reference:end -->"


def test_readme_carries_the_generated_policy_reference() -> None:
    text = README.read_text(encoding="utf-8")
    copy = text[text.index(START) + len(START) : text.index(END)]
    expected = policy_reference(formats=FORMATS)
    assert copy == expected, "run `tocsin config reference` and paste it into README"


def test_every_field_of_every_section_is_documented() -> None:
    for _, model in SECTIONS:
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no docstring"


def test_every_top_level_key_is_in_the_reference() -> None:
    reference = policy_reference()
    for name in PolicyFile.model_fields:
        assert f"| `{name}` |" in reference


def test_a_field_naming_a_source_lists_the_formats_given() -> None:
    assert "| `format` | alertmanager \\| zabbix | **required** |" in policy_reference(
        formats=("alertmanager", "zabbix")
    )
