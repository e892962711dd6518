from escalation.sources import FORMATS, PARSERS, parse_alertmanager, parse_generic


def test_registry_maps_each_format_name_to_its_parser() -> None:
    assert PARSERS["alertmanager"] is parse_alertmanager
    assert PARSERS["generic"] is parse_generic
    assert len(PARSERS) == 2


def test_formats_lists_the_registered_names_in_order() -> None:
    assert FORMATS == ("alertmanager", "generic")


def test_every_parser_returns_events_from_decoded_json() -> None:
    payloads = {
        "alertmanager": {"alerts": [{"status": "firing", "labels": {"alertname": "A"}}]},
        "generic": {"title": "A"},
    }

    for name, parser in PARSERS.items():
        (event,) = parser(payloads[name])
        assert event.title == "A"
