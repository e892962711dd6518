"""The docs' policy file and environment references are the ones generated from the models."""

from __future__ import annotations

from pathlib import Path

from config.policy import PolicyFile
from config.reference import SECTIONS, environment_reference, policy_reference
from config.settings import Settings

README = Path(__file__).parents[3] / "docs" / "configuration.md"
START, END = "<!-- policy-reference:start -->\n", "<!-- policy-reference:end -->"


def test_readme_carries_the_generated_policy_reference() -> None:
    text = README.read_text(encoding="utf-8")
    copy = text[text.index(START) + len(START) : text.index(END)]
    assert copy == policy_reference(), "paste `tocsin config reference` into docs"


def test_every_field_of_every_section_is_documented() -> None:
    for _, model in SECTIONS:
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no docstring"


def test_every_top_level_key_is_in_the_reference() -> None:
    reference = policy_reference()
    for name in PolicyFile.model_fields:
        assert f"| `{name}` |" in reference


def test_readme_carries_the_generated_environment_reference() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- environment-reference:start -->\n", "<!-- environment-reference:end -->"
    copy = text[text.index(start) + len(start) : text.index(end)]
    assert copy == environment_reference(), "paste `tocsin config environment` into docs"


def test_every_setting_is_documented() -> None:
    for name, info in Settings.model_fields.items():
        assert info.description, f"Settings.{name} has no docstring"
        assert f"| `{info.alias}` |" in environment_reference()


def test_the_format_of_an_integration_is_a_source_name_listed_elsewhere() -> None:
    assert "| `format` | source name | **required** |" in policy_reference()
