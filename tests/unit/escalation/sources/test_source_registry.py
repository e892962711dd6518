from escalation.sources import (
    FORMATS,
    PARSERS,
    parse_alertmanager,
    parse_generic,
    parse_grafana,
    parse_pagerduty,
)


def test_registry_maps_each_format_name_to_its_parser() -> None:
    assert {
        "alertmanager": parse_alertmanager,
        "generic": parse_generic,
        "grafana": parse_grafana,
        "pagerduty": parse_pagerduty,
    } == PARSERS


def test_formats_lists_the_registered_names_in_order() -> None:
    assert FORMATS == ("alertmanager", "generic", "grafana", "pagerduty")


def test_every_parser_returns_events_from_decoded_json() -> None:
    payloads = {
        "alertmanager": {"alerts": [{"status": "firing", "labels": {"alertname": "A"}}]},
        "generic": {"title": "A"},
        "grafana": {"alerts": [{"status": "firing", "labels": {"alertname": "A"}}]},
        "pagerduty": {
            "event_action": "trigger",
            "payload": {"summary": "A", "source": "s", "severity": "info"},
        },
    }

    for name, parser in PARSERS.items():
        (event,) = parser(payloads[name])
        assert event.title == "A"


def test_the_policy_file_accepts_exactly_the_registered_formats() -> None:
    from config.policy import SOURCE_FORMATS

    assert SOURCE_FORMATS == FORMATS
