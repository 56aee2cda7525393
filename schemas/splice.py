"""A fast path for the most frequent event, ``Decision``: spliced Avro bytes.

Avro's binary encoding of a record is the concatenation of its fields' encodings, so the
bytes of a record field can be made once and reused. The best path of a decision is a
``Route`` (session and attributes, most of the event's size), and the same route object is
the best path of every prefix of an UPDATE, and of many more: its bytes are cached by
identity and spliced in. The small fields are written here directly.

The result is byte for byte what fastavro writes for the same event (tested on generated
decisions), and ``DecisionEncoder`` refuses to start if the schema's fields are not the ones
written here: a schema change cannot silently skew this writer.
"""

from __future__ import annotations

import io
from typing import Any

from fastavro import schemaless_writer
from fastavro.schema import parse_schema

_FIELDS = {
    "ixrs.Decision": ("header", "event_id", "input", "prefix", "best", "step", "candidates",
                      "outcomes"),
    "ixrs.EventHeader": ("producer_id", "seq", "event_time_us", "config_version"),
    "ixrs.Position": ("topic", "partition", "offset"),
    "ixrs.ClientOutcome": ("client", "route", "step"),
}
_CACHE_LIMIT = 65_536  # routes whose bytes are kept; a full cache is simply started again


def _long(n: int) -> bytes:
    """Avro int/long: zig-zag, then base-128 varint, low group first."""
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL = [_long(n) for n in range(64)]  # lengths and counts are mostly small


def _len(n: int) -> bytes:
    return _SMALL[n] if n < 64 else _long(n)


def _string(text: str) -> bytes:
    data = text.encode()
    return _len(len(data)) + data


_KNOWN: dict[str, bytes] = {}


def _common(text: str) -> bytes:
    """_string() of the few texts that recur in every decision: producer, configuration
    version, topic, decision steps, client addresses."""
    data = _KNOWN.get(text)
    if data is None:
        if len(_KNOWN) >= _CACHE_LIMIT:
            _KNOWN.clear()
        data = _KNOWN[text] = _string(text)
    return data


class DecisionEncoder:
    def __init__(self, event_type: Any) -> None:
        expanded = event_type.info.expanded
        _check(expanded)
        route = next(f for f in expanded["fields"] if f["name"] == "best")["type"][1]
        assert route["name"] == "ixrs.Route", route
        self._route_schema = parse_schema(route)
        self._to_route = event_type.to_named["ixrs.Route"]
        self._routes: dict[int, tuple[object, bytes]] = {}

    def route(self, route: object) -> bytes:
        cached = self._routes.get(id(route))
        if cached is not None and cached[0] is route:
            return cached[1]
        buf = io.BytesIO()
        schemaless_writer(buf, self._route_schema, self._to_route(route))
        data = buf.getvalue()
        if len(self._routes) >= _CACHE_LIMIT:
            self._routes.clear()
        # the route itself is kept beside its bytes, so its id cannot be reused meanwhile
        self._routes[id(route)] = (route, data)
        return data

    def body(self, d: Any) -> bytes:
        h, p = d.header, d.input
        parts = [
            _common(h.producer_id), _long(h.seq), _long(h.event_time_us),
            _common(h.config_version),
            _string(d.event_id),
            _common(p.topic), _long(p.partition), _long(p.offset),
            _string(d.prefix),
            b"\x00" if d.best is None else b"\x02" + self.route(d.best),  # union branch 0 / 1
            _common(d.step),
            _long(d.candidates),
        ]
        if d.outcomes:
            parts.append(_len(len(d.outcomes)))  # one block of items, then the end
            for o in d.outcomes:
                parts.append(_common(o.client))
                parts.append(b"\x00" if o.route is None else b"\x02" + self.route(o.route))
                parts.append(_common(o.step))
        parts.append(b"\x00")
        return b"".join(parts)


def _check(schema: Any, seen: set[str] | None = None) -> None:
    """The record fields this writer writes, in its order, or an error."""
    seen = set() if seen is None else seen
    if isinstance(schema, list):
        for branch in schema:
            _check(branch, seen)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "array":
        _check(schema["items"], seen)
        return
    if schema.get("type") != "record" or schema["name"] in seen:
        return
    seen.add(schema["name"])
    names = tuple(f["name"] for f in schema["fields"])
    expected = _FIELDS.get(schema["name"])
    if expected is not None and names != expected:
        raise TypeError(f"{schema['name']} fields {names} differ from the spliced writer's "
                        f"{expected}: update schemas/splice.py")
    if schema["name"] == "ixrs.Route":
        return  # written by fastavro
    for f in schema["fields"]:
        _check(f["type"], seen)
