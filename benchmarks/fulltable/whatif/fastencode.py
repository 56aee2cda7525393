"""What if ReceivedRoutes and RawUpdate had a hand-written single-object encoder that reuses
the encoded session and attribute set? Byte-identical to schemas.codec.encode (checked by
check_fastencode.py). The session and the attribute set are encoded by fastavro, once each;
the rest by hand. It refuses to load if the schemas no longer have the fields it knows."""
import io

from fastavro import schemaless_writer
from fastavro.schema import parse_schema

from schemas import codec
from schemas.catalog import SINGLE_OBJECT_MAGIC
from schemas.events import Epoch, EventHeader, RawUpdate, ReceivedRoutes, Session

_RR = codec.EVENT_TYPES[ReceivedRoutes]
_RAW = codec.EVENT_TYPES[RawUpdate]


def _fields(schema: dict) -> dict:
    return {f["name"]: f["type"] for f in schema["fields"]}


_rr_fields = _fields(_RR.info.expanded)
_raw_fields = _fields(_RAW.info.expanded)
if (tuple(_rr_fields) != ("header", "session", "update_seq", "attributes", "announced",
                          "withdrawn", "notes")
        or tuple(_raw_fields) != ("header", "session", "update_seq", "raw")
        or [(f["name"], f["type"]) for f in _rr_fields["header"]["fields"]]
        != [("producer_id", "string"), ("seq", "long"), ("event_time_us", "long"),
            ("config_version", "string")]):
    raise RuntimeError("fastencode.py does not know these schemas any more")

_SESSION_SCHEMA = parse_schema(_rr_fields["session"])
_ATTR_SCHEMA = parse_schema(_rr_fields["attributes"][1])
_RR_HEAD = SINGLE_OBJECT_MAGIC + _RR.info.fingerprint
_RAW_HEAD = SINGLE_OBJECT_MAGIC + _RAW.info.fingerprint
_DUMMY_HEADER = EventHeader("", 0, 0, "")
_DUMMY_SESSION = Session("", "", 0, Epoch("", 0))


def _long(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL = [_long(i) for i in range(1024)]


def _str(s: str) -> bytes:
    b = s.encode()
    n = len(b)
    return (_SMALL[n] if n < 1024 else _long(n)) + b


def _strs(items: tuple[str, ...]) -> bytes:
    if not items:
        return b"\x00"
    n = len(items)
    parts = [_SMALL[n] if n < 1024 else _long(n)]
    small = _SMALL
    for s in items:
        b = s.encode()
        parts.append(small[len(b)] if len(b) < 1024 else _long(len(b)))
        parts.append(b)
    parts.append(b"\x00")
    return b"".join(parts)


def _avro(schema: dict, record: dict) -> bytes:
    buf = io.BytesIO()
    schemaless_writer(buf, schema, record)
    return buf.getvalue()


_strings: dict[str, bytes] = {}
_sessions: dict[int, tuple[object, bytes]] = {}
_attrs: dict[int, tuple[object, bytes]] = {}


def _header(h) -> bytes:
    pid = _strings.get(h.producer_id)
    if pid is None:
        pid = _strings[h.producer_id] = _str(h.producer_id)
    cv = _strings.get(h.config_version)
    if cv is None:
        cv = _strings[h.config_version] = _str(h.config_version)
    return pid + _long(h.seq) + _long(h.event_time_us) + cv


def _session(s) -> bytes:
    hit = _sessions.get(id(s))
    if hit is not None and hit[0] is s:
        return hit[1]
    record = _RR.to(ReceivedRoutes(_DUMMY_HEADER, s, 0))["session"]
    b = _avro(_SESSION_SCHEMA, record)
    if len(_sessions) > 10000:
        _sessions.clear()
    _sessions[id(s)] = (s, b)
    return b


def _attributes(a) -> bytes:
    if a is None:
        return b"\x00"
    hit = _attrs.get(id(a))
    if hit is not None and hit[0] is a:
        return hit[1]
    record = _RR.to(ReceivedRoutes(_DUMMY_HEADER, _DUMMY_SESSION, 0, a))["attributes"]
    b = b"\x02" + _avro(_ATTR_SCHEMA, record)
    if len(_attrs) > 100000:
        _attrs.clear()
    _attrs[id(a)] = (a, b)
    return b


_orig_encode = codec.encode


def encode(event):
    t = type(event)
    if t is ReceivedRoutes:
        return b"".join((_RR_HEAD, _header(event.header), _session(event.session),
                         _long(event.update_seq), _attributes(event.attributes),
                         _strs(event.announced), _strs(event.withdrawn), _strs(event.notes)))
    if t is RawUpdate:
        raw = event.raw
        return b"".join((_RAW_HEAD, _header(event.header), _session(event.session),
                         _long(event.update_seq), _long(len(raw)), raw))
    return _orig_encode(event)


codec.encode = encode
