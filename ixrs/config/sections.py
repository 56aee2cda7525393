"""Frozen dataclasses that are their own schema.

A field declared with `option(parser, default)` is read from the YAML key of the same name (or
`key=`), `section(Cls)` reads a nested mapping, and `external(...)` is a YAML key that the
caller parses itself (because it needs context, such as the route server's ASN). A plain field
is no YAML key at all: code fills it in. `read_section` walks the fields, applies the defaults
for absent keys, and refuses keys the dataclass does not declare, as arouteserver does.
"""

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

from ixrs.config.node import Node
from ixrs.config.values import Parser

T = TypeVar("T")

_REQUIRED: Any = dataclasses.MISSING


def option(parse: Parser[Any], default: Any = _REQUIRED, *, key: str | None = None) -> Any:
    """A field read with `parse`; without a default the key is mandatory."""
    metadata = {"parse": parse, "key": key}
    if isinstance(default, list | dict | set):
        raise TypeError("use a tuple for a sequence default")
    return dataclasses.field(default=default, metadata=metadata)


def section(cls: Callable[[], Any], *, key: str | None = None) -> Any:
    """A nested mapping, read as `cls`; absent means all of its defaults."""
    return dataclasses.field(default_factory=cls, metadata={"section": cls, "key": key})


def external(default: Any = _REQUIRED, *, key: str | None = None, **metadata: Any) -> Any:
    """A YAML key that the caller parses (and passes to read_section, if it uses it)."""
    return dataclasses.field(default=default, metadata={"external": True, "key": key, **metadata})


@dataclass_transform(frozen_default=True, field_specifiers=(option, section, external))
def yaml_section(cls: type[T]) -> type[T]:
    """A frozen dataclass whose fields are YAML keys, declared with the specifiers above."""
    return dataclasses.dataclass(frozen=True)(cls)


def yaml_key(field: dataclasses.Field[Any]) -> str:
    return field.metadata.get("key") or field.name


def _declared(field: dataclasses.Field[Any]) -> bool:
    return any(tag in field.metadata for tag in ("parse", "section", "external"))


@functools.cache
def _schema(cls: type) -> tuple[tuple[dataclasses.Field[Any], ...], frozenset[str]]:
    """The fields read from YAML, and their keys; cached, as clients.yml may hold thousands."""
    fields = tuple(field for field in dataclasses.fields(cls) if _declared(field))
    return fields, frozenset(yaml_key(field) for field in fields)


def read_section(cls: type[T], node: Node, **given: Any) -> T:
    """Read the mapping at `node` as `cls`; `given` holds fields the caller has parsed itself."""
    fields, keys = _schema(cls)
    node.mapping(allowed=keys)
    values = dict(given)
    for field in fields:
        if field.name in given or "external" in field.metadata:
            continue
        child = node.child(yaml_key(field))
        if "section" in field.metadata:
            values[field.name] = read_section(field.metadata["section"], child)
        elif not child.absent:
            values[field.name] = field.metadata["parse"](child)
        elif field.default is _REQUIRED:
            child.required()
    return cls(**values)
