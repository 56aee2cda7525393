"""FULL_TRANSITIVE schema evolution: current schemas against every released one."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from schemas import catalog, codec, compat
from schemas.catalog import SchemaInfo


def _current() -> dict[str, SchemaInfo]:
    return {et.info.name: et.info for et in codec.EVENT_TYPES.values()}


def test_history_exists() -> None:
    assert catalog.history_versions(), "schemas/history/ must hold the released versions"


def test_current_schemas_are_full_transitive_compatible() -> None:
    assert compat.problems(_current(), compat.released_history()) == []


def test_the_newest_release_is_the_current_schemas() -> None:
    # Readers find writer schemas by fingerprint in schemas/history/: it must be complete.
    latest = catalog.released(catalog.history_versions()[-1])
    stale = [name for name, info in _current().items()
             if name not in latest or latest[name].fingerprint != info.fingerprint]
    assert not stale, f"run `python -m schemas.release` for {sorted(stale)}"


def _mutated(name: str, change: Any) -> dict[str, SchemaInfo]:
    current = _current()
    expanded = copy.deepcopy(current[name].expanded)
    change(expanded)
    current[name] = catalog.info_for(expanded)
    return current


def _add_field_without_default(s: dict[str, Any]) -> None:
    s["fields"].append({"name": "new_required", "type": "long"})


def _change_field_type(s: dict[str, Any]) -> None:
    for field in s["fields"]:
        if field["name"] == "update_seq":
            field["type"] = "string"


def _drop_field_without_default(s: dict[str, Any]) -> None:
    s["fields"] = [f for f in s["fields"] if f["name"] != "update_seq"]


def _narrow_long_to_int(s: dict[str, Any]) -> None:
    for field in s["fields"]:
        if field["name"] == "update_seq":
            field["type"] = "int"


@pytest.mark.parametrize(
    "change",
    [_add_field_without_default, _change_field_type, _drop_field_without_default,
     _narrow_long_to_int],
)
def test_incompatible_change_is_caught(change: Any) -> None:
    found = compat.problems(_mutated("ixrs.ReceivedRoutes", change), compat.released_history())
    assert any(p.startswith("ixrs.ReceivedRoutes:") for p in found), found


def test_compatible_change_passes() -> None:
    def add_optional(s: dict[str, Any]) -> None:
        s["fields"].append({"name": "later", "type": ["null", "string"], "default": None})

    assert compat.problems(_mutated("ixrs.ReceivedRoutes", add_optional),
                           compat.released_history()) == []


def test_removing_an_event_type_is_caught() -> None:
    current = _current()
    del current["ixrs.RawUpdate"]
    found = compat.problems(current, compat.released_history())
    assert found == [f"ixrs.RawUpdate: removed, but released in {v}"
                     for v in catalog.history_versions()]


def test_old_event_bytes_decode_with_current_code() -> None:
    # An event written by a released writer schema is read through resolution.
    old = catalog.released("v1")["ixrs.BrokerIncarnation"]
    import io

    from fastavro import schemaless_writer

    buf = io.BytesIO()
    schemaless_writer(buf, old.parsed, {
        "header": {"producer_id": "p", "seq": 1, "event_time_us": 2, "config_version": "c"},
        "incarnation": "u",
    })
    event = codec.decode(catalog.SINGLE_OBJECT_MAGIC + old.fingerprint + buf.getvalue())
    assert event.incarnation == "u"
