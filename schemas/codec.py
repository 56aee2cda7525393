"""Encode and decode every ixrs event: the one place where events meet Avro.

Two framings exist. The default is Avro single-object encoding (a 2-byte
marker and the schema's CRC-64-AVRO fingerprint, then the body), which needs no
registry: any reader that has the schema files can decode. With a schema
registry configured, :mod:`schemas.registry` writes the Confluent wire format
instead, using the same bodies.

Bodies are written by :mod:`schemas.encoder`: one writer compiled per event type
from its Avro schema, straight from the dataclasses to bytes, with the shared
attributes, sessions and routes cached by identity. Bodies of the current schema are
read by :mod:`schemas.decoder`, compiled the same way, with attribute sets and
sessions interned by their bytes; bodies of older schemas by fastavro, resolving the
writer's schema into the current one, through converters (dicts to the frozen
dataclasses of :mod:`schemas.events`) compiled once per type from the schema as well.
``generic_body`` and ``generic_decode_body`` go through fastavro and the converters
both ways: the references the compiled paths are tested against. All are compiled from
the schema itself, so none can drift from it silently: a schema they cannot handle fails
at import.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from enum import IntEnum
from typing import Any, TypeVar

from fastavro import schemaless_reader, schemaless_writer
from fastavro.schema import parse_schema

from schemas import catalog, decoder, encoder, events
from schemas.catalog import SINGLE_OBJECT_MAGIC, SchemaInfo

Convert = Callable[[Any], Any]


class DecodeError(ValueError):
    """Bytes that are not an ixrs event this build can read."""


def _named_python_types() -> dict[str, type]:
    """Python classes and enums by Avro short name."""
    out: dict[str, type] = {}
    for name in events.__all__:
        obj = getattr(events, name)
        if isinstance(obj, type):
            out[name] = obj
    return out


_PY_TYPES = _named_python_types()


class _Compiler:
    """Builds to-Avro and from-Avro converters by walking an expanded schema."""

    def __init__(self) -> None:
        self.to_avro: dict[str, Convert | None] = {}
        self.from_avro: dict[str, Convert | None] = {}

    def build(self, schema: Any) -> tuple[Convert | None, Convert | None]:
        """(to_avro, from_avro) for a schema node; None means identity."""
        if isinstance(schema, str):
            if schema in self.to_avro:
                return self.to_avro[schema], self.from_avro[schema]
            return None, None  # a primitive
        if isinstance(schema, list):
            return self._union(schema)
        kind = schema["type"]
        if kind == "record":
            return self._record(schema)
        if kind == "enum":
            return self._enum(schema)
        if kind == "array":
            return self._array(schema)
        if isinstance(kind, (dict, list)):
            return self.build(kind)
        return None, None

    def _union(self, branches: list[Any]) -> tuple[Convert | None, Convert | None]:
        others = [b for b in branches if b != "null"]
        if len(others) != 1:
            raise TypeError(f"only [null, T] unions are supported, got {branches}")
        to, frm = self.build(others[0])
        to_opt = None if to is None else (lambda v: None if v is None else to(v))
        frm_opt = None if frm is None else (lambda v: None if v is None else frm(v))
        return to_opt, frm_opt

    def _array(self, schema: dict[str, Any]) -> tuple[Convert | None, Convert | None]:
        to, frm = self.build(schema["items"])
        # fastavro writes tuples as arrays, so identity items need no copy on the way out.
        to_arr = None if to is None else (lambda v: [to(x) for x in v])
        frm_arr: Convert = tuple if frm is None else (lambda v: tuple(frm(x) for x in v))
        return to_arr, frm_arr

    def _enum(self, schema: dict[str, Any]) -> tuple[Convert, Convert]:
        name = schema["name"]
        enum_cls = _PY_TYPES[name.rsplit(".", 1)[-1]]
        assert issubclass(enum_cls, IntEnum)
        to: Convert = lambda v: v.name  # noqa: E731
        frm: Convert = lambda s: enum_cls[s]  # noqa: E731
        self.to_avro[name], self.from_avro[name] = to, frm
        return to, frm

    def _record(self, schema: dict[str, Any]) -> tuple[Convert, Convert]:
        name = schema["name"]
        cls = _PY_TYPES[name.rsplit(".", 1)[-1]]
        fields = [(f["name"], *self.build(f["type"])) for f in schema["fields"]]
        names = tuple(f[0] for f in fields)
        if names != tuple(cls.__dataclass_fields__):
            raise TypeError(f"{cls.__name__} fields {tuple(cls.__dataclass_fields__)} != {names}")

        def to(obj: Any) -> dict[str, Any]:
            return {
                n: (getattr(obj, n) if c is None else c(getattr(obj, n))) for n, c, _ in fields
            }

        def frm(d: dict[str, Any]) -> Any:
            return cls(*[(d[n] if c is None else c(d[n])) for n, _, c in fields])

        self.to_avro[name], self.from_avro[name] = to, frm
        return to, frm


class EventType:
    """An event class together with its current schema and converters.

    ``writer`` is the schema parsed the way fastavro's writer and reader want it: with
    fastavro's own hints, which spare it from parsing the schema again on every call.
    (``info.parsed`` stays free of them: it is what canonical forms and fingerprints are
    computed from.)"""

    __slots__ = ("cls", "frm", "info", "to", "to_named", "writer")

    def __init__(self, cls: type, info: SchemaInfo) -> None:
        compiler = _Compiler()
        to, frm = compiler.build(info.expanded)
        assert to is not None and frm is not None
        self.cls, self.info, self.to, self.frm = cls, info, to, frm
        self.to_named = compiler.to_avro
        self.writer = parse_schema(info.expanded)


def _load_types() -> dict[type, EventType]:
    names = tuple(f"{catalog.NAMESPACE}.{cls.__name__}" for cls in events.EVENT_TYPES)
    infos = catalog.current(names)
    return {cls: EventType(cls, infos[n]) for cls, n in zip(events.EVENT_TYPES, names, strict=True)}


EVENT_TYPES: dict[type, EventType] = _load_types()
BY_NAME: dict[str, EventType] = {et.info.name: et for et in EVENT_TYPES.values()}


def _readers_by_fingerprint() -> dict[bytes, tuple[EventType, dict[str, Any] | None]]:
    """Fingerprint -> (event type, writer schema to resolve from, or None if current)."""
    table: dict[bytes, tuple[EventType, dict[str, Any] | None]] = {}
    for version in catalog.history_versions():
        for name, info in catalog.released(version).items():
            if name in BY_NAME:
                table[info.fingerprint] = (BY_NAME[name], info.parsed)
    for et in EVENT_TYPES.values():
        table[et.info.fingerprint] = (et, None)
    return table


_READERS = _readers_by_fingerprint()


def _by_class(compile_all: Callable[[list[Any], dict[str, type]], dict[str, Any]]
              ) -> dict[type, Any]:
    """The functions a compiler makes from every current event schema, by event class."""
    compiled = compile_all([et.info.expanded for et in EVENT_TYPES.values()], _PY_TYPES)
    return dict(zip(EVENT_TYPES, compiled.values(), strict=True))


# Compiled writers of every event type (a schema they cannot write exactly fails here),
# and readers, for bodies written with the current schema.
_ENCODERS: dict[type, encoder.Encoder] = _by_class(encoder.compile_encoders)
_DECODERS: dict[type, decoder.Decoder] = _by_class(decoder.compile_decoders)


T = TypeVar("T")


def decoder_leaving(cls: type[T], **unread: object) -> Callable[[bytes], T]:
    """A compiled decoder of ``cls`` bodies (current schema) that steps over the fields
    named, giving each the value named instead; for a reader that never looks at them."""
    et = EVENT_TYPES[cls]
    name = et.info.expanded["name"]
    compiled = decoder.compile_decoders([et.info.expanded], _PY_TYPES, {name: unread})
    return compiled[name]  # type: ignore[return-value]


def event_type(event: Any) -> EventType:
    try:
        return EVENT_TYPES[type(event)]
    except KeyError:
        raise TypeError(f"not an ixrs event: {type(event).__name__}") from None


def encode_body(event: Any) -> bytes:
    """The Avro binary body alone (no framing), by the compiled encoder of its type."""
    try:
        write = _ENCODERS[type(event)]
    except KeyError:
        raise TypeError(f"not an ixrs event: {type(event).__name__}") from None
    return write(event)


def generic_body(event: Any) -> bytes:
    """encode_body() by fastavro alone, whatever the type (the reference for fast paths)."""
    et = event_type(event)
    buf = io.BytesIO()
    schemaless_writer(buf, et.writer, et.to(event))
    return buf.getvalue()


def decode_body(et: EventType, body: bytes, writer: dict[str, Any] | None = None) -> Any:
    """Read a body written with ``writer`` (default: the current schema): by the compiled
    decoder of its type when it was written with the current schema, else resolved from
    the writer's schema by fastavro."""
    if writer is None:
        return _DECODERS[et.cls](bytes(body))
    record = schemaless_reader(io.BytesIO(body), writer, et.info.parsed)
    return et.frm(record)


def generic_decode_body(et: EventType, body: bytes) -> Any:
    """decode_body() by fastavro and the converters alone (the reference for fast paths)."""
    return et.frm(schemaless_reader(io.BytesIO(body), et.writer, None))


def encode(event: Any) -> bytes:
    """Single-object encoding of one event."""
    et = event_type(event)
    return SINGLE_OBJECT_MAGIC + et.info.fingerprint + _ENCODERS[et.cls](event)


def event_class(data: bytes) -> type | None:
    """The event class of a single-object-encoded event, without decoding it (None: not
    one of ours). Readers that skip most records look at this first."""
    found = _READERS.get(bytes(data[2:10])) if data[:2] == SINGLE_OBJECT_MAGIC else None
    return found[0].cls if found else None


def read_avro_long(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """An Avro long (zig-zag varint) at ``pos``: its value and the position after it."""
    first = data[pos]
    if first < 0x80:
        return (first >> 1) ^ -(first & 1), pos + 1
    return decoder.read_long(data, pos + 1, first)  # type: ignore[arg-type]


def peek_header(body: bytes | memoryview, start: int = 0) -> events.EventHeader:
    """The EventHeader that every event's body starts with, read without the rest, for
    readers that skip most records but must know when each was stamped."""
    data = bytes(body[start:start + 512])
    try:
        size, pos = read_avro_long(data, 0)
        producer = data[pos:pos + size].decode()
        seq, pos = read_avro_long(data, pos + size)
        when, pos = read_avro_long(data, pos)
    except (IndexError, UnicodeDecodeError) as err:
        raise DecodeError(f"no event header: {err}") from err
    return events.EventHeader(producer, seq, when)


def decode(data: bytes) -> Any:
    """Decode a single-object-encoded event, from the current or any released schema."""
    if len(data) < 10 or data[:2] != SINGLE_OBJECT_MAGIC:
        raise DecodeError("not Avro single-object encoding")
    try:
        et, writer = _READERS[bytes(data[2:10])]
    except KeyError:
        raise DecodeError(f"unknown schema fingerprint {bytes(data[2:10]).hex()}") from None
    try:
        return decode_body(et, data[10:], writer)
    except Exception as err:  # whatever fastavro makes of corrupt bytes, callers get one error
        raise DecodeError(f"bad {et.info.short_name} body: {err}") from err
