"""Replay's JSON texts made directly (replay.render.attributes_text, JsonTexts) are the text
json.dumps makes of the records' dicts, byte for byte."""

from __future__ import annotations

import json

import pytest

from replay.render import JsonTexts, attributes_json, attributes_text, route_json
from schemas.attributes import (
    Aggregator,
    AsPathSegment,
    Attributes,
    Origin,
    RawAttribute,
    SegmentType,
)
from schemas.events import Route, Session

SEQUENCE = (AsPathSegment(SegmentType.AS_SEQUENCE, (65001, 65002)),
            AsPathSegment(SegmentType.AS_SET, (1, 2)))

CASES = [
    Attributes(),
    Attributes(origin=Origin.INCOMPLETE, as_path=SEQUENCE, next_hop="192.0.2.1",
               communities=((65000, 1), (0, 65535)), large_communities=((1, 2, 3),)),
    Attributes(next_hop="2001:db8::1", med=0, local_pref=200),
    Attributes(next_hop="2001:db8::1", med=5),
    Attributes(next_hop='odd "hop"\\é\x7f\n', as_path=SEQUENCE),  # escaped as json.dumps does
    Attributes(next_hop="2001:db8::1", next_hop_link_local="fe80::1"),
    Attributes(next_hop="192.0.2.1", otc=65001, atomic_aggregate=True,
               aggregator=Aggregator(65001, "192.0.2.9"), ext_communities=(b"\0\2" * 4,)),
    Attributes(next_hop="192.0.2.1", med=7, local_pref=100, communities=((65000, 1),),
               ext_communities=(bytes.fromhex("4300000000000000"), b"\0\2" * 4)),
    Attributes(next_hop="192.0.2.1", unknown=(RawAttribute(0xC0, 99, b"\1\2"),)),
    Attributes(next_hop="192.0.2.1", med=True),  # type: ignore[arg-type]  # printed as true
]


@pytest.mark.parametrize("attributes", CASES)
def test_attributes_text_is_json_dumps_of_attributes_json(attributes: Attributes) -> None:
    assert attributes_text(attributes) == json.dumps(attributes_json(attributes))


def test_route_text_is_json_dumps_of_route_json() -> None:
    session = Session("speaker", "192.0.2.7", 65007, 1)  # type: ignore[arg-type]
    texts = JsonTexts()
    for attributes in CASES:
        route = Route(session, attributes)
        assert texts.route(route) == json.dumps(route_json(route))
        assert texts.route(route) == json.dumps(route_json(route))  # from the memo
    assert texts.route(None) == "null" and texts.attributes(None) == "null"
    assert attributes_text(None) == "null"
