"""The Avro schemas on disk: loading, expanding and fingerprinting them.

Each ``schemas/ixrs.<Name>.avsc`` file holds one named type. Event schemas refer
to the shared types (``ixrs.EventHeader``, ``ixrs.Session``, ...) by name, which
keeps each file short. An Avro tool needs a self-contained schema, and the Avro
fingerprint is defined on one, so :func:`expand` inlines every named type at its
first use. ``schemas/history/vN/`` holds released versions already expanded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

SCHEMA_DIR = Path(__file__).resolve().parent
HISTORY_DIR = SCHEMA_DIR / "history"
NAMESPACE = "ixrs"

# The single-object encoding header (Avro spec, "Single-object encoding").
SINGLE_OBJECT_MAGIC = b"\xc3\x01"

_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


@dataclass(frozen=True)
class SchemaInfo:
    """One self-contained event schema and what identifies it on the wire."""

    name: str  # full name, e.g. "ixrs.ReceivedRoutes"
    expanded: dict[str, Any]
    parsed: dict[str, Any]
    canonical: str
    fingerprint: bytes  # CRC-64-AVRO, 8 bytes little-endian as the header carries it

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]


def _full_name(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def read_raw(directory: Path = SCHEMA_DIR) -> dict[str, dict[str, Any]]:
    """Every named schema file in ``directory``, by full name."""
    raw: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.avsc")):
        schema = json.loads(path.read_text())
        raw[_full_name(schema["name"], schema.get("namespace"))] = schema
    return raw


def expand(schema: Any, library: dict[str, dict[str, Any]], namespace: str | None = None,
           seen: set[str] | None = None) -> Any:
    """Inline named-type references at their first occurrence, as Avro requires
    of a standalone schema; later occurrences stay references."""
    seen = set() if seen is None else seen
    if isinstance(schema, str):
        if schema in _PRIMITIVES:
            return schema
        full = _full_name(schema, namespace)
        if full in seen or full not in library:
            return full
        return expand(library[full], library, namespace, seen)
    if isinstance(schema, list):
        return [expand(branch, library, namespace, seen) for branch in schema]
    kind = schema.get("type")
    if kind in ("record", "enum", "fixed"):
        full = _full_name(schema["name"], schema.get("namespace", namespace))
        seen.add(full)
        out = {**schema, "name": full}
        out.pop("namespace", None)
        if kind == "record":
            ns = full.rsplit(".", 1)[0]
            out["fields"] = [
                {**f, "type": expand(f["type"], library, ns, seen)} for f in schema["fields"]
            ]
        return out
    if kind == "array":
        return {**schema, "items": expand(schema["items"], library, namespace, seen)}
    if kind == "map":
        return {**schema, "values": expand(schema["values"], library, namespace, seen)}
    if isinstance(kind, (dict, list)) or (isinstance(kind, str) and kind not in _PRIMITIVES):
        return {**schema, "type": expand(kind, library, namespace, seen)}
    return schema


def info_for(expanded: dict[str, Any]) -> SchemaInfo:
    parsed = parse_schema(expanded, _write_hint=False)
    canonical = to_parsing_canonical_form(parsed)
    return SchemaInfo(
        name=expanded["name"],
        expanded=expanded,
        parsed=parsed,
        canonical=canonical,
        fingerprint=bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO")),
    )


@cache
def current(event_names: tuple[str, ...]) -> dict[str, SchemaInfo]:
    """The current self-contained schema of each named event type."""
    library = read_raw()
    return {name: info_for(expand(library[name], library)) for name in event_names}


def history_versions() -> list[str]:
    """Released versions, oldest first (v1, v2, ...)."""
    dirs = [p.name for p in HISTORY_DIR.iterdir() if p.is_dir() and p.name.startswith("v")]
    return sorted(dirs, key=lambda v: int(v[1:]))


@cache
def released(version: str) -> dict[str, SchemaInfo]:
    """The schemas of one released version, by full name."""
    directory = HISTORY_DIR / version
    return {
        name: info_for(schema) for name, schema in read_raw(directory).items()
    }


def write_release(version: str, infos: dict[str, SchemaInfo]) -> Path:
    """Freeze the given schemas as released version ``version``."""
    directory = HISTORY_DIR / version
    directory.mkdir(parents=True, exist_ok=False)
    for name, info in infos.items():
        text = json.dumps(info.expanded, indent=2, sort_keys=False) + "\n"
        (directory / f"{name}.avsc").write_text(text)
    return directory
