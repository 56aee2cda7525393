"""Replay's answers as JSON: the records of `ixrs replay` and `ixrs explain --json`.

The shapes are documented in docs/replay.md; keys are stable, values are text where a
router would print text (prefixes, AS paths, communities), numbers where it prints numbers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from socket import AF_INET, AF_INET6, inet_pton
from typing import Any

from ixrs.timespec import format_time
from schemas.attributes import Attributes, SegmentType
from schemas.events import ClientOutcome, Position, Reason, Route, Session


def as_path_text(attributes: Attributes) -> str:
    parts: list[str] = []
    for segment in attributes.as_path:
        asns = " ".join(str(a) for a in segment.asns)
        if segment.type == SegmentType.AS_SEQUENCE:
            parts.append(asns)
        elif segment.type == SegmentType.AS_SET:
            parts.append("{" + asns + "}")
        elif segment.type == SegmentType.AS_CONFED_SEQUENCE:
            parts.append("(" + asns + ")")
        else:
            parts.append("[" + asns + "]")
    return " ".join(p for p in parts if p)


def attributes_json(attributes: Attributes | None) -> dict[str, Any] | None:
    if attributes is None:
        return None
    out: dict[str, Any] = {
        "next_hop": attributes.next_hop,
        "as_path": as_path_text(attributes),
        "origin": attributes.origin.name,
        "communities": [f"{a}:{v}" for a, v in attributes.communities],
        "large_communities": [f"{a}:{b}:{c}" for a, b, c in attributes.large_communities],
    }
    if attributes.next_hop_link_local:
        out["next_hop_link_local"] = attributes.next_hop_link_local
    if attributes.med is not None:
        out["med"] = attributes.med
    if attributes.local_pref is not None:
        out["local_pref"] = attributes.local_pref
    if attributes.ext_communities:
        out["ext_communities"] = [e.hex() for e in attributes.ext_communities]
    if attributes.otc is not None:
        out["otc"] = attributes.otc
    if attributes.atomic_aggregate:
        out["atomic_aggregate"] = True
    if attributes.aggregator is not None:
        out["aggregator"] = f"{attributes.aggregator.asn} {attributes.aggregator.address}"
    if attributes.unknown:
        out["unknown"] = [{"type": u.type_code, "flags": u.flags, "value": u.value.hex()}
                          for u in attributes.unknown]
    return out


def peer_json(session: Session) -> dict[str, Any]:
    return {"asn": session.peer_asn, "ip": session.peer_address}


def route_json(route: Route | None) -> dict[str, Any] | None:
    if route is None:
        return None
    return {"from": peer_json(route.session), "attributes": attributes_json(route.attributes)}


def reasons_json(reasons: tuple[Reason, ...]) -> list[dict[str, Any]]:
    return [{"name": r.name, "code": r.code, **({"detail": r.detail} if r.detail else {})}
            for r in reasons]


def outcome_json(outcome: ClientOutcome) -> dict[str, Any]:
    return {"client": outcome.client, "route": route_json(outcome.route), "step": outcome.step}


def position_text(position: Position) -> str:
    return f"{position.topic}:{position.partition}:{position.offset}"


def time_text(micros: int) -> str:
    return format_time(micros)


class JsonTexts:
    """JSON text of shared values, made once per object: a replay renders the same few
    thousand attribute sets and routes for hundreds of thousands of prefixes (the decoder and
    the processors intern them). Keyed by identity, with a check that the object is the one
    the text was made for (an id is reused once its object is gone)."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self._texts: dict[int, tuple[object, str]] = {}

    def of(self, value: Any, make: Callable[[Any], Any]) -> str:
        hit = self._texts.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        if len(self._texts) >= self.LIMIT:
            self._texts.clear()
        text = json.dumps(make(value))
        self._texts[id(value)] = (value, text)
        return text

    def route(self, route: Route | None) -> str:
        return "null" if route is None else self.of(route, route_json)

    def attributes(self, attributes: Attributes | None) -> str:
        return "null" if attributes is None else self.of(attributes, attributes_json)


def prefix_key(prefix: str) -> tuple[int, int, int]:
    """Numeric order of prefix texts (IPv4 first), for sorting; the text is known valid."""
    address, _slash, length = prefix.partition("/")
    if ":" in address:
        return 6, int.from_bytes(inet_pton(AF_INET6, address)), int(length)
    return 4, int.from_bytes(inet_pton(AF_INET, address)), int(length)


def prefix_rank(prefix: str) -> int:
    """prefix_key's order as one int: cheaper to compare, and to send between processes."""
    version, address, length = prefix_key(prefix)
    return (version == 6) << 136 | address << 8 | length
