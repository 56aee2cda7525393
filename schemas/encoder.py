"""Compiled Avro binary encoders: event dataclasses straight to bytes, no dicts between.

Avro's binary encoding has no framing of its own: a record is the concatenation of its
fields' encodings, an ``int``/``long`` a zig-zag varint, a string or bytes a length and the
octets, an enum the index of its symbol, an array one block (count, items) and a 0, a union
the index of its branch and the value. So an encoder can be compiled, once per event type,
from the expanded schema: :func:`compile_encoders` generates one Python function per event
type that reads the dataclass attributes the schema names and appends their encodings to a
``bytearray``. Records are inlined into their parent's function, except the heavy named
types shared by many events (:data:`CACHED`: attributes, sessions, routes), which get a
function of their own that keeps each object's bytes by identity, beside the object itself
so that its id cannot be reused while the entry lives. A full cache is simply cleared.

The output is byte for byte what fastavro writes for the same event through the codec's
converters (``codec.generic_body``, tested on generated events of every type). Whatever
this compiler does not know -- a map, a fixed, a logical type, a union other than
``[null, T]``, a record whose fields are not its dataclass's, an enum whose symbols are not
its IntEnum's names, a named type defined twice differently -- is refused with a TypeError
when the encoders are compiled, that is when :mod:`schemas.codec` is imported.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from enum import IntEnum
from typing import Any

from schemas.compiling import SchemaCompiler

# Named record types whose encodings are cached by object identity.
# (A Position is shared by every output of one input event: a table's Decisions.)
CACHED = frozenset({"ixrs.Attributes", "ixrs.Session", "ixrs.Route", "ixrs.Position"})
CACHE_LIMIT = 65_536  # objects per cache; a full cache is started again

# String fields with few distinct values, written once per event (a worker writes a Decision
# per changed prefix): their encodings (length and octets) are kept by value, so that each
# is a dict lookup instead of encoding, measuring and looking up a length. Equal strings
# encode equally, so a hit is exact. Kept to fields whose values repeat: prefixes and ids
# would only fill the cache.
CACHED_STRINGS = frozenset({
    ("ixrs.EventHeader", "producer_id"),
    ("ixrs.EventHeader", "config_version"),
    ("ixrs.Decision", "step"),
    ("ixrs.ClientOutcome", "client"),
    ("ixrs.ClientOutcome", "step"),
})
STRING_CACHE_LIMIT = 4_096  # distinct values kept; a full cache is started again



def zigzag(n: int) -> bytes:
    """Avro int/long: zig-zag, then base-128 varint, low group first."""
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL_LIMIT = 8192  # 0 <= n < this: a table lookup (lengths, counts, small numbers)
_SMALL: tuple[bytes, ...] = tuple(zigzag(n) for n in range(_SMALL_LIMIT))
# Larger numbers (timestamps, offsets) 14 bits at a time: the varint of each group of 14
# bits, as the last group (_LAST) or followed by more (_MORE: continuation bits set).
_LAST: tuple[bytes, ...] = tuple(
    bytes([v]) if v < 0x80 else bytes([v & 0x7F | 0x80, v >> 7]) for v in range(1 << 14))
_MORE: tuple[bytes, ...] = tuple(bytes([v & 0x7F | 0x80, v >> 7 | 0x80]) for v in range(1 << 14))


def write_long(n: int, out: bytearray) -> None:
    """Append zigzag(n) to ``out``."""
    n = (n << 1) ^ (n >> 63)
    while n >= 0x4000:
        out += _MORE[n & 0x3FFF]
        n >>= 14
    out += _LAST[n]

Encoder = Callable[[Any], bytes]


def _string_writer() -> tuple[dict[str, bytes], Callable[[str], bytes]]:
    """A cache of string encodings by value, and the function that fills it on a miss."""
    cache: dict[str, bytes] = {}

    def encoded(text: str) -> bytes:
        data = text.encode()
        value = zigzag(len(data)) + data
        if len(cache) >= STRING_CACHE_LIMIT:
            cache.clear()
        cache[text] = value
        return value

    return cache, encoded


class _Compiler(SchemaCompiler):
    """Generates the source of the encoders of several event types, sharing one function
    (and one cache) per cached named type across them."""

    what = "the compiled encoder"

    def __init__(self, py_types: dict[str, type]) -> None:
        super().__init__(py_types)
        self.globals.update({
            "_SMALL": _SMALL, "_zz": zigzag, "_wl": write_long, "_LIMIT": CACHE_LIMIT,
            "_pack_f": struct.Struct("<f").pack, "_pack_d": struct.Struct("<d").pack,
        })

    # -- code generation -----------------------------------------------------------------
    emit = SchemaCompiler.walk  # append code that writes local ``expr`` to ``out``

    def primitive(self, kind: str, expr: str, lines: list[str], ind: str) -> None:
        if kind == "null":
            return  # nothing on the wire
        if kind == "boolean":
            lines.append(f"{ind}out += b'\\x01' if {expr} else b'\\x00'")
        elif kind in ("int", "long"):
            lines.append(f"{ind}if 0 <= {expr} < {_SMALL_LIMIT}:")
            lines.append(f"{ind}    out += _SMALL[{expr}]")
            lines.append(f"{ind}else:")
            lines.append(f"{ind}    _wl({expr}, out)")
        elif kind == "float":
            lines.append(f"{ind}out += _pack_f({expr})")
        elif kind == "double":
            lines.append(f"{ind}out += _pack_d({expr})")
        else:  # string, bytes
            data, n = self.var(), self.var()
            lines.append(f"{ind}{data} = {expr}.encode()" if kind == "string"
                         else f"{ind}{data} = {expr}")
            lines.append(f"{ind}{n} = len({data})")
            lines.append(f"{ind}out += _SMALL[{n}] if {n} < {_SMALL_LIMIT} else _zz({n})")
            lines.append(f"{ind}out += {data}")

    def union(self, branches: list[Any], expr: str, lines: list[str], ind: str,
              stack: tuple[str, ...]) -> None:
        if len(branches) != 2 or "null" not in branches or branches[0] == branches[1]:
            raise TypeError(f"only [null, T] unions are supported, got {branches}")
        null_index = branches.index("null")
        other = branches[1 - null_index]
        lines.append(f"{ind}if {expr} is None:")
        lines.append(f"{ind}    out += {_SMALL[null_index]!r}")
        lines.append(f"{ind}else:")
        lines.append(f"{ind}    out += {_SMALL[1 - null_index]!r}")
        body: list[str] = []
        self.emit(other, expr, body, ind + "    ", stack)
        lines.extend(body)

    def array(self, items: Any, expr: str, lines: list[str], ind: str,
              stack: tuple[str, ...]) -> None:
        n, item = self.var(), self.var()
        lines.append(f"{ind}{n} = len({expr})")
        lines.append(f"{ind}if {n}:")  # one block of every item, then the empty block
        lines.append(f"{ind}    out += _SMALL[{n}] if {n} < {_SMALL_LIMIT} else _zz({n})")
        lines.append(f"{ind}    for {item} in {expr}:")
        body: list[str] = []
        self.emit(items, item, body, ind + "        ", stack)
        lines.extend(body or [f"{ind}        pass"])
        lines.append(f"{ind}out += b'\\x00'")

    def named(self, schema: dict[str, Any], expr: str, lines: list[str], ind: str,
              stack: tuple[str, ...]) -> None:
        name = schema["name"]
        if schema["type"] == "enum":
            table = f"_E_{self.ident(name)}"
            if table not in self.globals:
                self.globals[table] = self.enum_table(schema)
            lines.append(f"{ind}out += {table}[{expr}.name]")
            return
        if name in stack:
            raise TypeError(f"recursive record {name} is not supported by the compiled encoder")
        if name in CACHED:
            func = f"_w_{self.ident(name)}"
            if func not in self.globals:
                self.globals[func] = None  # placeholder: defined below, once
                self.cached_function(schema, func, stack)
            lines.append(f"{ind}{func}({expr}, out)")
            return
        self.record_body(schema, expr, lines, ind, (*stack, name))

    def enum_table(self, schema: dict[str, Any]) -> dict[str, bytes]:
        cls = self.py_type(schema["name"])
        symbols = list(schema["symbols"])
        if not (isinstance(cls, type) and issubclass(cls, IntEnum)):
            raise TypeError(f"{schema['name']} is not an IntEnum")
        if sorted(symbols) != sorted(cls.__members__):
            raise TypeError(f"{cls.__name__} members {list(cls.__members__)} != schema "
                            f"symbols {symbols}")
        return {s: _SMALL[i] for i, s in enumerate(symbols)}

    def record_body(self, schema: dict[str, Any], expr: str, lines: list[str], ind: str,
                    stack: tuple[str, ...]) -> None:
        self.record_fields(schema)
        for f in schema["fields"]:
            v = self.var()
            lines.append(f"{ind}{v} = {expr}.{f['name']}")
            if f["type"] == "string" and (schema["name"], f["name"]) in CACHED_STRINGS:
                self.cached_string(v, lines, ind)
            else:
                self.emit(f["type"], v, lines, ind, stack)

    def cached_string(self, expr: str, lines: list[str], ind: str) -> None:
        """A string field of CACHED_STRINGS: its encoding looked up by value."""
        if "_S" not in self.globals:
            self.globals["_S"], self.globals["_S_miss"] = _string_writer()
        data = self.var()
        lines.append(f"{ind}{data} = _S.get({expr})")
        lines.append(f"{ind}out += _S_miss({expr}) if {data} is None else {data}")

    def cached_function(self, schema: dict[str, Any], func: str, stack: tuple[str, ...]) -> None:
        cache = f"_C_{self.ident(schema['name'])}"
        self.globals[cache] = {}
        lines = [
            f"def {func}(o, out):",
            f"    hit = {cache}.get(id(o))",
            "    if hit is not None and hit[0] is o:",
            "        out += hit[1]",
            "        return",
            "    start = len(out)",
        ]
        self.record_body(schema, "o", lines, "    ", (*stack, schema["name"]))
        lines += [
            f"    if len({cache}) >= _LIMIT:",
            f"        {cache}.clear()",
            "    # the object is kept beside its bytes: its id cannot be reused meanwhile",
            f"    {cache}[id(o)] = (o, bytes(out[start:]))",
        ]
        self.functions.append("\n".join(lines))

    def event_function(self, schema: dict[str, Any]) -> str:
        if not isinstance(schema, dict) or schema.get("type") != "record":
            raise TypeError("an event schema is a record")
        self.define(schema)
        func = f"encode_{self.ident(schema['name'])}"
        lines = [f"def {func}(o):", "    out = bytearray()"]
        self.record_body(schema, "o", lines, "    ", (schema["name"],))
        lines.append("    return bytes(out)")
        self.functions.append("\n".join(lines))
        return func


def compile_encoders(schemas: Iterable[dict[str, Any]],
                     py_types: dict[str, type]) -> dict[str, Encoder]:
    """One encoder (object -> Avro binary body) per expanded event schema, by full name.

    ``py_types`` maps Avro short names to the dataclasses and IntEnums that carry them.
    Raises TypeError for any schema this compiler cannot write exactly as fastavro does."""
    compiler = _Compiler(py_types)
    funcs = {s["name"]: compiler.event_function(s) for s in schemas}
    source = "\n\n\n".join(compiler.functions) + "\n"
    namespace = compiler.globals
    exec(compile(source, "<schemas.encoder>", "exec"), namespace)
    out: dict[str, Encoder] = {name: namespace[func] for name, func in funcs.items()}
    return out


def caches(encoders: dict[str, Encoder]) -> dict[str, dict[int, tuple[object, bytes]]]:
    """The identity caches behind some encoders, by named type (for tests and inspection)."""
    namespace = next(iter(encoders.values())).__globals__
    return {k[3:].replace("_", "."): v for k, v in namespace.items() if k.startswith("_C_")}
