"""A metric alert's title (made by the source) and its warning's metric line say the same
deviation, rounded once by one helper."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.slack.blocks.render_metric import metric_line
from escalation.model import Metric
from escalation.sources.generic import metric_title
from escalation.triage.grading import percent
from tests.unit.bot.slack.blocks.test_render import FIRING


@pytest.mark.parametrize(
    ("value", "said"), [(78.85, "21.2%"), (77.0, "23%"), (112.5, "12.5%"), (100.04, "0%")]
)
def test_title_and_metric_line_say_the_same_deviation(value: float, said: str) -> None:
    metric = Metric(name="orders", value=value, baseline=100.0, unit="/min")
    title = metric_title(metric)
    line = metric_line(replace(FIRING, metric=metric))
    assert line is not None
    [in_title] = re.findall(r"[+-]([\d.]+%)", title)
    [in_line] = re.findall(r"deviation \*([\d.]+%) ", line)
    assert in_title == in_line == said


@pytest.mark.parametrize(
    ("fraction", "said"), [(0.125, "12.5%"), (0.05, "5%"), (0.21149, "21.1%"), (2.0, "200%")]
)
def test_percent_rounds_to_one_decimal(fraction: float, said: str) -> None:
    assert percent(fraction) == said
