"""Compiled Avro binary decoders: bytes straight to the event dataclasses, no dicts between.

The mirror of :mod:`schemas.encoder`. fastavro's reader builds a dict per record and the
codec's converters then build the dataclasses from them: for a received-routes part with
its attribute set that came to some 25 µs, most of a worker's reading. Here one function
per event type is generated from the current expanded schema, reading the fields in order
with inline varints and calling the dataclass constructors directly.

Attribute sets, sessions and the like (:data:`INTERNED`) are kept by their encoded bytes: the
decoder first finds where the record ends (a generated skip function, which builds
nothing), and a record seen before is the object decoded then. Before walking it, the
decoder looks the record up by its first octets (:data:`HEAD`) among the records seen
before that began alike: if the bytes here start with one of their encodings, this is that
record, since an Avro record is self-delimiting. A decision's routes are found that way
without walking their attribute sets (18 -> 12 µs per decision in a table's stream).
Equal attribute sets in different events are therefore one object, as the processors want them
(:func:`schemas.attributes.interned`), and a table's repeated attribute sets cost a skip,
not a construction. A full table of them is simply started again.

Only bodies written with the current schema come here; older writer schemas are resolved
by fastavro (:func:`schemas.codec.decode_body`). Anything the compiler does not know (see
:mod:`schemas.encoder`) is refused with a TypeError at import; malformed bytes raise
whatever reading them raises (IndexError, UnicodeDecodeError, KeyError for an enum or
union index out of range), which the codec turns into one DecodeError.
"""

from __future__ import annotations

import dataclasses
import struct
import types
from collections.abc import Callable, Iterable, Mapping
from enum import IntEnum
from typing import Any, TypeVar

from schemas.compiling import PRIMITIVES, SchemaCompiler

# Named record types decoded once per distinct encoding.
# Attribute sets and sessions recur in every routes event and decision; routes, client
# outcomes and input positions recur across the decisions of a table (the prefixes of one
# origin, the outputs of one input event): 18.4 -> 15 µs per decision in a table's stream.
INTERNED = frozenset({"ixrs.Attributes", "ixrs.Session", "ixrs.Route", "ixrs.ClientOutcome",
                      "ixrs.Position"})
# Entries per table; a full one is started again. Sized for several full tables' attribute
# sets (a 1M-route log of three peers holds about 71,000): a table that overflows is
# cleared again and again, every set is walked and built anew, and every cache downstream
# that goes by identity misses. The objects are the ones the RIBs hold anyway; a table
# costs its keys and slots, about 250 bytes an entry.
INTERN_LIMIT = 262_144
HEAD = 96  # octets a record is first looked up by before it is walked (then fewer)
PER_HEAD = 8  # lengths remembered per head
MIN_HEAD = 8  # octets a head never shrinks below

Decoder = Callable[[bytes], Any]
T = TypeVar("T")


def read_long(b: bytes, p: int, c: int) -> tuple[int, int]:
    """The rest of a varint whose first octet ``c`` (continuation bit set) was at p - 1."""
    n = c & 0x7F
    shift = 7
    while True:
        c = b[p]
        p += 1
        n |= (c & 0x7F) << shift
        if c < 0x80:
            return (n >> 1) ^ -(n & 1), p
        shift += 7


def slot_setters(cls: type) -> tuple[Callable[[Any, Any], None], ...] | None:
    """The ``__set__`` of each field's slot descriptor, in field order, when setting them
    on ``object.__new__(cls)`` builds what ``cls(*values)`` builds: a dataclass with slots
    for its fields and an ``__init__`` that does nothing else (dataclass-generated, no
    ``__post_init__``, no InitVar or non-init field). None otherwise."""
    if not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.init:  # type: ignore[attr-defined]
        return None
    if hasattr(cls, "__post_init__") or cls.__new__ is not object.__new__:
        return None
    code = getattr(cls.__init__, "__code__", None)
    if code is None or code.co_filename != "<string>":
        return None  # an __init__ of its own, not the one dataclasses generates by exec
    fields = dataclasses.fields(cls)
    if len(fields) != len(cls.__dataclass_fields__):  # type: ignore[attr-defined]
        return None  # InitVar or ClassVar pseudo-fields
    setters = []
    for f in fields:
        # a field of a base dataclass has its slot there (a candidate's in an Offer)
        descriptor = next((k.__dict__[f.name] for k in cls.__mro__ if f.name in k.__dict__),
                          None)
        if not f.init or not isinstance(descriptor, types.MemberDescriptorType):
            return None
        setters.append(descriptor.__set__)
    return tuple(setters)


def constructor(cls: type[T]) -> Callable[..., T]:
    """A function building ``cls(*values)`` (positional, every field given) the way the
    compiled decoders do: by the fields' slot descriptors when :func:`slot_setters` allows,
    in half the time of a frozen dataclass's ``__init__``; else ``cls`` itself. For code
    that builds many events (the speaker's UPDATE parts)."""
    setters = slot_setters(cls)
    if setters is None:
        return cls
    names = [f"v{n}" for n in range(len(setters))]
    body = "\n".join([f"def build({', '.join(names)}):",
                      "    o = _new(_cls)",
                      *(f"    _s{n}(o, {v})" for n, v in enumerate(names)),
                      "    return o"])
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    namespace.update((f"_s{n}", setter) for n, setter in enumerate(setters))
    exec(compile(body, f"<constructor of {cls.__name__}>", "exec"), namespace)
    build: Callable[..., T] = namespace["build"]
    return build


class _Compiler(SchemaCompiler):
    what = "the compiled decoder"

    def __init__(self, py_types: dict[str, type],
                 unread: Mapping[str, Mapping[str, object]] | None = None) -> None:
        super().__init__(py_types)
        self.unread = unread or {}  # event name -> {field: the value it is given instead}
        self.globals.update({
            "_rl": read_long, "_LIMIT": INTERN_LIMIT, "_MIN_HEAD": MIN_HEAD, "_PER_HEAD": PER_HEAD,
            "_unpack_f": struct.Struct("<f").unpack_from,
            "_unpack_d": struct.Struct("<d").unpack_from,
            "_new": object.__new__,
        })

    # -- reading -------------------------------------------------------------------------
    def long(self, target: str, lines: list[str], ind: str) -> None:
        c = self.var()
        lines += [f"{ind}{c} = b[p]",
                  f"{ind}p += 1",
                  f"{ind}if {c} < 128:",
                  f"{ind}    {target} = ({c} >> 1) ^ -({c} & 1)",
                  f"{ind}else:",
                  f"{ind}    {target}, p = _rl(b, p, {c})"]

    read = SchemaCompiler.walk  # append code that reads a value at ``p`` into ``target``

    def primitive(self, kind: str, target: str, lines: list[str], ind: str) -> None:
        if kind == "null":
            lines.append(f"{ind}{target} = None")
        elif kind == "boolean":
            lines += [f"{ind}{target} = b[p] != 0", f"{ind}p += 1"]
        elif kind in ("int", "long"):
            self.long(target, lines, ind)
        elif kind in ("float", "double"):
            lines += [f"{ind}{target} = _unpack_{kind[0]}(b, p)[0]",
                      f"{ind}p += {4 if kind == 'float' else 8}"]
        else:  # string, bytes
            n, c, c2 = self.var(), self.var(), self.var()
            # The length's varint, as long() reads it, with the sign test folded in: a
            # zigzag value is negative when its low bit (the first octet's) is set. The usual
            # case, a length below 64, takes 8 bytecodes instead of 13 (five strings per
            # Decision); one below 8192 (a config version's 64 characters) no _rl call.
            lines += [f"{ind}{c} = b[p]",
                      f"{ind}p += 1",
                      f"{ind}if {c} < 128:",
                      f"{ind}    if {c} & 1:",
                      f"{ind}        raise ValueError('negative length')",
                      f"{ind}    {n} = {c} >> 1",
                      f"{ind}elif ({c2} := b[p]) < 128:",
                      f"{ind}    p += 1",
                      f"{ind}    if {c} & 1:",
                      f"{ind}        raise ValueError('negative length')",
                      f"{ind}    {n} = (({c} & 127) | ({c2} << 7)) >> 1",
                      f"{ind}else:",
                      f"{ind}    {n}, p = _rl(b, p, {c})",
                      f"{ind}    if {n} < 0:",
                      f"{ind}        raise ValueError('negative length')"]
            value = f"b[p:p + {n}]"
            lines += [f"{ind}{target} = {value}.decode()" if kind == "string"
                      else f"{ind}{target} = {value}",
                      f"{ind}p += {n}",
                      f"{ind}if p > bn:",  # a slice past the end is only shorter
                      f"{ind}    raise IndexError('{kind} runs past the end')"]

    def union(self, branches: list[Any], target: str, lines: list[str], ind: str,
              stack: tuple[str, ...]) -> None:
        if len(branches) != 2 or "null" not in branches or branches[0] == branches[1]:
            raise TypeError(f"only [null, T] unions are supported, got {branches}")
        other = branches[1 - branches.index("null")]
        index = self.var()
        self.long(index, lines, ind)
        lines.append(f"{ind}if {index} == {branches.index('null')}:")
        lines.append(f"{ind}    {target} = None")
        lines.append(f"{ind}elif {index} == {1 - branches.index('null')}:")
        body: list[str] = []
        self.read(other, target, body, ind + "    ", stack)
        lines.extend(body)
        lines.append(f"{ind}else:")
        lines.append(f"{ind}    raise KeyError(f'union branch {{{index}}}')")

    def array(self, items: Any, target: str, lines: list[str], ind: str,
              stack: tuple[str, ...]) -> None:
        # Blocks of items until an empty one; a negative count is followed by the block's
        # size in octets (Avro spec, "Arrays"). fastavro writes one block, others may not.
        acc, n, size, item, _i = self.var(), self.var(), self.var(), self.var(), self.var()
        name = items if isinstance(items, str) else (
            items.get("name") if isinstance(items, dict) else None)
        last = None
        if name in INTERNED:
            # An array of interned records (a decision's client outcomes) is most often the
            # one the record before had: it is found by its bytes as the interned records
            # are (one comparison, Avro arrays being self-delimiting too), and is the same
            # tuple, instead of a loop building one.
            last = f"_A_{self.var()}"
            self.globals[last] = [None]  # [(encoding, tuple)], replaced whole
            seen, start = self.var(), self.var()
            lines += [f"{ind}{seen} = {last}[0]",
                      f"{ind}if {seen} is not None and b.startswith({seen}[0], p):",
                      f"{ind}    {target} = {seen}[1]",
                      f"{ind}    p += len({seen}[0])",
                      f"{ind}else:",
                      f"{ind}    {start} = p"]
            ind += "    "
        lines.append(f"{ind}{acc} = []")
        lines.append(f"{ind}while True:")
        inner = ind + "    "
        self.long(n, lines, inner)
        lines += [f"{inner}if {n} == 0:",
                  f"{inner}    break",
                  f"{inner}if {n} < 0:",
                  f"{inner}    {n} = -{n}"]
        self.long(size, lines, inner + "    ")
        lines.append(f"{inner}for {_i} in range({n}):")
        body: list[str] = []
        self.read(items, item, body, inner + "    ", stack)
        lines.extend(body)
        lines.append(f"{inner}    {acc}.append({item})")
        lines.append(f"{ind}{target} = tuple({acc})")
        if last is not None:
            lines += [f"{ind}if p <= bn:",  # only an array read whole is remembered
                      f"{ind}    {last}[0] = (b[{start}:p], {target})"]

    def named(self, schema: dict[str, Any], target: str, lines: list[str], ind: str,
              stack: tuple[str, ...]) -> None:
        name = schema["name"]
        if schema["type"] == "enum":
            table = f"_E_{self.ident(name)}"
            if table not in self.globals:
                self.globals[table] = self.enum_table(schema)
            index = self.var()
            self.long(index, lines, ind)
            lines.append(f"{ind}{target} = {table}[{index}]")
            return
        if name in stack:
            raise TypeError(f"recursive record {name} is not supported by the compiled decoder")
        if name in INTERNED:
            func = f"_r_{self.ident(name)}"
            if func not in self.globals:
                self.globals[func] = None  # placeholder: defined below, once
                self.interned_function(schema, func, stack)
            lines.append(f"{ind}{target}, p = {func}(b, p)")
            return
        self.record_body(schema, target, lines, ind, (*stack, name))

    def enum_table(self, schema: dict[str, Any]) -> tuple[IntEnum, ...]:
        cls = self.py_type(schema["name"])
        if not (isinstance(cls, type) and issubclass(cls, IntEnum)):
            raise TypeError(f"{schema['name']} is not an IntEnum")
        if sorted(schema["symbols"]) != sorted(cls.__members__):
            raise TypeError(f"{cls.__name__} members {list(cls.__members__)} != schema "
                            f"symbols {schema['symbols']}")
        return tuple(cls[s] for s in schema["symbols"])  # type: ignore[misc]

    def record_body(self, schema: dict[str, Any], target: str, lines: list[str], ind: str,
                    stack: tuple[str, ...]) -> None:
        cls = self.record_fields(schema)
        ident = self.ident(schema["name"])
        constructor = f"_T_{ident}"
        self.globals[constructor] = cls
        # an event's fields its reader has no use for: stepped over, a constant instead
        unread = self.unread.get(schema["name"], {}) if stack == (schema["name"],) else {}
        values = []
        for f in schema["fields"]:
            if f["name"] in unread:
                self.skip(f["type"], lines, ind)
                v = f"_U_{ident}_{f['name']}"
                self.globals[v] = unread[f["name"]]
            else:
                v = self.var()
                self.read(f["type"], v, lines, ind, stack)
            values.append(v)
        setters = slot_setters(cls)
        if setters is None:
            lines.append(f"{ind}{target} = {constructor}({', '.join(values)})")
            return
        # A frozen dataclass's __init__ sets each field through object.__setattr__: 1.6 µs
        # for a Decision, 1 µs for its header. Its slots' own descriptors set them in half
        # the time, on an instance made without __init__ (slot_setters says when that is
        # the same object).
        lines.append(f"{ind}{target} = _new({constructor})")
        for n, (setter, v) in enumerate(zip(setters, values, strict=True)):
            name = f"_S_{ident}_{n}"
            self.globals[name] = setter
            lines.append(f"{ind}{name}({target}, {v})")

    # -- interned records ----------------------------------------------------------------
    def skip(self, schema: Any, lines: list[str], ind: str) -> None:
        """Append code that moves ``p`` past a value of ``schema``, building nothing."""
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                if schema in ("int", "long", "boolean"):
                    # a varint (a boolean is one octet, below 128)
                    c = self.var()
                    lines += [f"{ind}{c} = b[p]", f"{ind}p += 1",
                              f"{ind}while {c} >= 128:",
                              f"{ind}    {c} = b[p]", f"{ind}    p += 1"]
                elif schema in ("float", "double"):
                    lines.append(f"{ind}p += {4 if schema == 'float' else 8}")
                elif schema in ("string", "bytes"):
                    n = self.var()
                    self.long(n, lines, ind)
                    lines += [f"{ind}if {n} < 0:",
                              f"{ind}    raise ValueError('negative length')",
                              f"{ind}p += {n}"]
                return
            self.skip(self.schemas[schema], lines, ind)
            return
        if isinstance(schema, list):
            other = schema[1 - schema.index("null")]
            index = self.var()
            self.long(index, lines, ind)
            lines.append(f"{ind}if {index} == {1 - schema.index('null')}:")
            body: list[str] = []
            self.skip(other, body, ind + "    ")
            lines.extend(body or [f"{ind}    pass"])
            lines.append(f"{ind}elif {index} != {schema.index('null')}:")
            lines.append(f"{ind}    raise KeyError(f'union branch {{{index}}}')")
            return
        kind = schema["type"]
        if kind == "record":
            self.define(schema)
            for f in schema["fields"]:
                self.skip(f["type"], lines, ind)
        elif kind == "enum":
            self.define(schema)
            self.skip("long", lines, ind)
        elif kind == "array":
            n, size, _i = self.var(), self.var(), self.var()
            lines.append(f"{ind}while True:")
            inner = ind + "    "
            self.long(n, lines, inner)
            lines += [f"{inner}if {n} == 0:", f"{inner}    break",
                      f"{inner}if {n} < 0:"]
            self.long(size, lines, inner + "    ")
            lines += [f"{inner}    if {size} < 0:",  # would walk backwards, for ever
                      f"{inner}        raise ValueError('negative block size')",
                      f"{inner}    p += {size}", f"{inner}    continue",
                      f"{inner}for {_i} in range({n}):"]
            body = []
            self.skip(schema["items"], body, inner + "    ")
            lines.extend(body or [f"{inner}    pass"])
        else:
            self.skip(kind, lines, ind)

    def interned_function(self, schema: dict[str, Any], func: str,
                          stack: tuple[str, ...]) -> None:
        table = f"_D_{self.ident(schema['name'])}"
        heads = f"_H_{self.ident(schema['name'])}"
        last = f"_L_{self.ident(schema['name'])}"
        self.globals[table] = {}
        self.globals[heads] = {}
        self.globals[last] = None
        reach = f"_R_{self.ident(schema['name'])}"
        self.globals[reach] = HEAD
        # First the last record of this type decoded: it usually is this one (a decision's
        # input position and client outcomes are those of the decision before it; the
        # prefixes of an UPDATE share their route), and it costs one comparison. (One
        # tuple, read and replaced whole, so that two threads decoding at once see a
        # consistent pair.) Then the records seen before that begin with the same `reach`
        # octets: the bytes here that are as long as one of them are looked up in the
        # table. Avro records are self-delimiting, so bytes that equal a whole record's
        # encoding are that record: it is found without walking it. `reach` starts at HEAD
        # and shrinks to the shortest record of the type seen: octets past the end of a
        # record belong to what follows it (an attribute set's prefixes in a routes
        # event), so a head that reaches past it would never be found again.
        lines = [f"def {func}(b, p):",
                 f"    global {last}, {reach}",
                 f"    seen = {last}",
                 "    if seen is not None and b.startswith(seen[0], p):",
                 "        return seen[1], p + len(seen[0])",
                 f"    head = b[p:p + {reach}]",
                 f"    lengths = {heads}.get(head)",
                 "    if lengths is not None:",
                 "        for n in lengths:",
                 "            enc = b[p:p + n]",
                 f"            o = {table}.get(enc)",
                 "            if o is not None:",
                 f"                {last} = (enc, o)",
                 "                return o, p + len(enc)",
                 "    start = p"]
        self.skip(schema, lines, "    ")
        lines += ["    bn = len(b)",  # read by the record's body below (see event_function)
                  "    if p > bn:",
                  "        raise IndexError('record runs past the end')",
                  "    key = b[start:p]",
                  f"    o = {table}.get(key)",
                  "    if o is None:",
                  "        end = p",
                  "        p = start"]
        self.record_body(schema, "o", lines, "        ", (*stack, schema["name"]))
        lines += ["        if p != end:",
                  "            raise ValueError('record length differs between reads')",
                  f"        if len({table}) >= _LIMIT:",
                  f"            {table}.clear()",
                  f"        {table}[key] = o",
                  "    n = p - start",
                  f"    if n < {reach}:  # the shortest yet: the heads are made anew",
                  f"        {reach} = n if n > _MIN_HEAD else _MIN_HEAD",
                  f"        {heads}.clear()",
                  f"        head = key[:{reach}]",
                  "        lengths = None",
                  "    if lengths is None:",
                  f"        if len({heads}) >= _LIMIT:",
                  f"            {heads}.clear()",
                  f"        {heads}[head] = [n]",
                  "    elif n not in lengths and len(lengths) < _PER_HEAD:",
                  "        lengths.append(n)",
                  f"    {last} = (key, o)",
                  "    return o, p"]
        self.functions.append("\n".join(lines))

    def event_function(self, schema: dict[str, Any]) -> str:
        if not isinstance(schema, dict) or schema.get("type") != "record":
            raise TypeError("an event schema is a record")
        self.define(schema)
        func = f"decode_{self.ident(schema['name'])}"
        # bn: the length of b, which every string, bytes and array read checks against;
        # one len() per function instead of one per field (7 for a Decision).
        lines = [f"def {func}(b):", "    p = 0", "    bn = len(b)"]
        self.record_body(schema, "o", lines, "    ", (schema["name"],))
        lines += ["    if p > bn:",
                  "        raise IndexError('the body ends early')",
                  "    return o"]
        self.functions.append("\n".join(lines))
        return func


def compile_decoders(schemas: Iterable[dict[str, Any]], py_types: dict[str, type],
                     unread: Mapping[str, Mapping[str, object]] | None = None
                     ) -> dict[str, Decoder]:
    """One decoder (Avro binary body -> object) per expanded event schema, by full name.

    ``unread``: by event name, fields that are stepped over instead of decoded, each given
    the constant named instead. For a reader that never looks at them (the speaker, at a
    decision's header: a fifth of the decoding, once per prefix of a table); the decoders
    and their interning tables are their own."""
    compiler = _Compiler(py_types, unread)
    funcs = {s["name"]: compiler.event_function(s) for s in schemas}
    source = "\n\n\n".join(compiler.functions) + "\n"
    namespace = compiler.globals
    exec(compile(source, "<schemas.decoder>", "exec"), namespace)
    return {name: namespace[func] for name, func in funcs.items()}


def tables(decoders: dict[str, Decoder]) -> dict[str, dict[bytes, object]]:
    """The interning tables behind the decoders, by named type (for tests)."""
    namespace = next(iter(decoders.values())).__globals__
    return {k[3:].replace("_", "."): v for k, v in namespace.items() if k.startswith("_D_")}
