"""What the compiled encoder and decoder share: walking an expanded Avro schema.

Both generate Python source from the schemas (:mod:`schemas.encoder`,
:mod:`schemas.decoder`). This base class keeps their common part: fresh local names, the
named types met so far (one definition each), the Python class of a named type, and the
dispatch from a schema node to the method that generates code for it. Whatever the two
do not know is refused here with a TypeError, so that both refuse the same schemas.
"""

from __future__ import annotations

import json
from typing import Any

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
KNOWN_KEYS = frozenset({"type", "name", "namespace", "doc", "aliases", "fields", "symbols",
                        "items", "default", "order"})


class SchemaCompiler:
    what = "compiled code"  # for error messages: "the compiled encoder", ...

    def __init__(self, py_types: dict[str, type]) -> None:
        self.py_types = py_types
        self.defs: dict[str, str] = {}  # full name -> canonical JSON of its definition
        self.schemas: dict[str, dict[str, Any]] = {}
        self.globals: dict[str, Any] = {}
        self.functions: list[str] = []  # source of the generated functions
        self.counter = 0

    def var(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    @staticmethod
    def ident(name: str) -> str:
        return name.replace(".", "_")

    def define(self, schema: dict[str, Any]) -> None:
        name = schema["name"]
        text = json.dumps(schema, sort_keys=True)
        if self.defs.setdefault(name, text) != text:
            raise TypeError(f"{name} is defined differently in two schemas: {self.what} "
                            "shares one function per named type")
        self.schemas[name] = schema

    def py_type(self, name: str) -> type:
        cls = self.py_types.get(name.rsplit(".", 1)[-1])
        if cls is None:
            raise TypeError(f"no Python type for {name}")
        return cls

    def walk(self, schema: Any, expr: str, lines: list[str], ind: str,
             stack: tuple[str, ...]) -> None:
        """Append the code for a value of ``schema`` (local ``expr``) to ``lines``."""
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                self.primitive(schema, expr, lines, ind)
            elif schema in self.schemas:
                self.named(self.schemas[schema], expr, lines, ind, stack)
            else:
                raise TypeError(f"unknown type {schema!r}")
            return
        if isinstance(schema, list):
            self.union(schema, expr, lines, ind, stack)
            return
        if not isinstance(schema, dict):
            raise TypeError(f"not a schema: {schema!r}")
        unknown = set(schema) - KNOWN_KEYS
        if unknown:  # logicalType and the like would change what fastavro does
            raise TypeError(f"schema keys {self.what} does not know: {sorted(unknown)}")
        kind = schema["type"]
        if kind in ("record", "enum"):
            self.define(schema)
            self.named(schema, expr, lines, ind, stack)
        elif kind == "array":
            self.array(schema["items"], expr, lines, ind, stack)
        elif isinstance(kind, (dict, list)) or kind in PRIMITIVES:
            self.walk(kind, expr, lines, ind, stack)
        else:
            raise TypeError(f"Avro type {kind!r} is not supported by {self.what}")

    # What each compiler generates.
    def primitive(self, kind: str, expr: str, lines: list[str], ind: str) -> None:
        raise NotImplementedError

    def named(self, schema: dict[str, Any], expr: str, lines: list[str], ind: str,
              stack: tuple[str, ...]) -> None:
        raise NotImplementedError

    def union(self, branches: list[Any], expr: str, lines: list[str], ind: str,
              stack: tuple[str, ...]) -> None:
        raise NotImplementedError

    def array(self, items: Any, expr: str, lines: list[str], ind: str,
              stack: tuple[str, ...]) -> None:
        raise NotImplementedError

    def record_fields(self, schema: dict[str, Any]) -> type:
        """The Python class of a record, checked to have the schema's fields in order."""
        cls = self.py_type(schema["name"])
        names = tuple(f["name"] for f in schema["fields"])
        py_fields = tuple(getattr(cls, "__dataclass_fields__", ()))
        if names != py_fields:
            raise TypeError(f"{cls.__name__} fields {py_fields} != schema fields {names}: "
                            f"{self.what} follows the schema's")
        return cls
