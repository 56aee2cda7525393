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


def attributes_text(attributes: Attributes | None) -> str:
    """``json.dumps(attributes_json(attributes))``, made directly for the common attribute
    sets (a replay renders tens of thousands): the same text, with no dict and no encoder."""
    a = attributes
    # Extended communities are on the fast path: the route server's import tags add them
    # (RPKI and IRR states), so nearly every route of a replay has some.
    if a is None or a.next_hop_link_local or a.otc is not None \
            or a.atomic_aggregate or a.aggregator is not None or a.unknown \
            or not _plain_int(a.med) or not _plain_int(a.local_pref):
        return json.dumps(attributes_json(a))
    communities = ", ".join([f'"{x}:{y}"' for x, y in a.communities])
    large = ", ".join([f'"{x}:{y}:{z}"' for x, y, z in a.large_communities])
    text = (f'{{"next_hop": {_string(a.next_hop)}, "as_path": {_string(as_path_text(a))}, '
            f'"origin": {_string(a.origin.name)}, "communities": [{communities}], '
            f'"large_communities": [{large}]')
    if a.med is not None:
        text += f', "med": {a.med}'
    if a.local_pref is not None:
        text += f', "local_pref": {a.local_pref}'
    if a.ext_communities:
        text += ', "ext_communities": [' + ", ".join(
            [f'"{e.hex()}"' for e in a.ext_communities]) + "]"
    return text + "}"


def _plain_int(value: object) -> bool:
    """None or an int that prints as JSON prints it (not a bool, not an int subclass)."""
    return value is None or type(value) is int


def _string(value: str | None) -> str:
    """json.dumps(value): quoted as it is when nothing in it needs escaping."""
    if type(value) is str and value.isascii() and value.isprintable() \
            and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value)


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
        """json.dumps(make(value)), made once for the object."""
        text = self._known(value)
        return text if text is not None else self._keep(value, json.dumps(make(value)))

    def route(self, route: Route | None) -> str:
        """json.dumps(route_json(route)), around the texts of its session and attributes."""
        if route is None:
            return "null"
        text = self._known(route)
        if text is None:
            text = self._keep(route, f'{{"from": {self.of(route.session, peer_json)}, '
                                     f'"attributes": {self.attributes(route.attributes)}}}')
        return text

    def attributes(self, attributes: Attributes | None) -> str:
        if attributes is None:
            return "null"
        text = self._known(attributes)
        return text if text is not None else self._keep(attributes, attributes_text(attributes))

    def _known(self, value: object) -> str | None:
        hit = self._texts.get(id(value))
        return hit[1] if hit is not None and hit[0] is value else None

    def _keep(self, value: object, text: str) -> str:
        if len(self._texts) >= self.LIMIT:
            self._texts.clear()
        self._texts[id(value)] = (value, text)  # the object kept: its id stays its own
        return text


def prefix_rank(prefix: str) -> int:
    """Numeric order of prefix texts (IPv4 first, then address, then length) as one int, for
    sorting: cheaper to compare than a tuple, and to send between processes. The text is
    known valid."""
    address, _slash, length = prefix.partition("/")
    if ":" in address:
        return 1 << 136 | int.from_bytes(inet_pton(AF_INET6, address)) << 8 | int(length)
    return int.from_bytes(inet_pton(AF_INET, address)) << 8 | int(length)
