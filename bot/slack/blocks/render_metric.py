"""The metric line of a warning: value, baseline (or threshold), deviation, window."""

from __future__ import annotations

from bot.slack.blocks.escape import mrkdwn
from escalation.model import AlertView
from escalation.triage.grading import percent


def metric_line(alert: AlertView) -> str | None:
    """``*Metric* `orders` · value *77* /min · baseline 100 /min · deviation *23% below*``."""
    metric = alert.metric
    if metric is None:
        return None
    unit = f" {mrkdwn(metric.unit, 20)}" if metric.unit else ""
    parts = [f"*Metric* `{mrkdwn(metric.name, 100)}`", f"value *{metric.value:g}*{unit}"]
    reference = metric.baseline if metric.baseline is not None else metric.threshold
    if reference is not None:
        what = "baseline" if metric.baseline is not None else "threshold"
        parts.append(f"{what} {reference:g}{unit}")
        deviation = metric.deviation()
        if deviation is not None:
            side = "above" if metric.value > reference else "below"
            parts.append(f"deviation *{percent(deviation)} {side}*")
    if metric.window:
        parts.append(f"over {mrkdwn(metric.window, 30)}")
    return " · ".join(parts)


def mirror_line(alert: AlertView) -> str:
    """The note on a mirrored copy: where the alert (its thread and pages) lives."""
    return (
        f":link: Copy of the warning in {mrkdwn(alert.channel, 80)} (its thread has the pages "
        "and notes); the buttons act on the same alert."
    )
