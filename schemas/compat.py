"""Schema evolution under FULL_TRANSITIVE rules.

Every released version (``schemas/history/vN``) must be readable by the current
schema, and the current schema's data must be readable by every released
version. The check is fastavro schema resolution itself, run both ways over
generated data, so it tests what readers will actually do.
"""

from __future__ import annotations

import io
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from fastavro.utils import generate_many

from schemas import catalog
from schemas.catalog import SchemaInfo

SAMPLES = 50


def readable(writer: dict[str, Any], reader: dict[str, Any], samples: int = SAMPLES) -> str | None:
    """None when data written with ``writer`` resolves into ``reader``, else the error."""
    for datum in generate_many(writer, samples):
        buf = io.BytesIO()
        schemaless_writer(buf, writer, datum)
        buf.seek(0)
        try:
            schemaless_reader(buf, writer, reader)
        except Exception as err:  # any resolution failure is the answer, not a crash
            return f"{type(err).__name__}: {err}"
    return None


def problems(current: dict[str, SchemaInfo],
             history: dict[str, dict[str, SchemaInfo]]) -> list[str]:
    """Every FULL_TRANSITIVE violation of ``current`` against all ``history`` versions."""
    found = []
    for version, schemas in history.items():
        for name, old in schemas.items():
            new = current.get(name)
            if new is None:
                found.append(f"{name}: removed, but released in {version}")
                continue
            if new.fingerprint == old.fingerprint:
                continue  # the same canonical form: resolution is the identity
            back = _readable(old, new)
            if back:
                found.append(f"{name}: current cannot read {version} data: {back}")
            fwd = _readable(new, old)
            if fwd:
                found.append(f"{name}: {version} cannot read current data: {fwd}")
    return found


# (writer fingerprint, reader fingerprint) -> readable()'s answer: a pure function of the two
# schemas, and generating data for every released pair is most of a check's time.
_ANSWERS: dict[tuple[bytes, bytes], str | None] = {}


def _readable(writer: SchemaInfo, reader: SchemaInfo) -> str | None:
    key = (writer.fingerprint, reader.fingerprint)
    if key not in _ANSWERS:
        _ANSWERS[key] = readable(writer.parsed, reader.parsed)
    return _ANSWERS[key]


def released_history() -> dict[str, dict[str, SchemaInfo]]:
    return {v: catalog.released(v) for v in catalog.history_versions()}
