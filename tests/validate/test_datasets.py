"""Data sets: parsing VRP and bgpq4 files, content versions, chunk events and reassembly."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from processors.datasets import (
    KIND_BOGONS,
    KIND_IRR,
    KIND_VRPS,
    DataSetError,
    IrrSet,
    VrpSet,
    from_events,
    irr_sets_from_files,
    parse_bgpq4,
    parse_vrps,
    set_name_of_file,
    to_events,
    vrp_set,
)
from processors.validate import DEFAULT_BOGONS, Bogons
from schemas import codec
from schemas.events import EventHeader, IrrPrefix, Vrp

HEADER = EventHeader("load-rpki", 1, 1_764_170_000_000_000)

RPKI_CLIENT = json.dumps(
    {
        "metadata": {"buildtime": "2026-11-26T12:00:00Z", "roas": 3},
        "roas": [
            {"asn": 13335, "prefix": "1.1.1.0/24", "maxLength": 24, "ta": "apnic", "expires": 1},
            {"asn": "AS3333", "prefix": "193.0.0.0/21", "maxLength": 21, "ta": "ripe"},
            {"asn": "AS196615", "prefix": "2A0C:9A40::/32", "maxLength": 48, "ta": "ripe"},
        ],
    }
)


def test_parse_rpki_client_json() -> None:
    vrps = parse_vrps(RPKI_CLIENT, "vrps.json")
    assert vrps.kind == KIND_VRPS and vrps.name == "vrps" and len(vrps) == 3
    assert set(vrps.vrps) == {
        Vrp("1.1.1.0/24", 24, 13335, "apnic"),
        Vrp("193.0.0.0/21", 21, 3333, "ripe"),
        Vrp("2a0c:9a40::/32", 48, 196615, "ripe"),  # canonical text
    }


def test_a_missing_max_length_is_the_prefix_length() -> None:
    vrps = parse_vrps(json.dumps({"roas": [{"asn": 3333, "prefix": "193.0.0.0/21"}]}))
    assert vrps.vrps == (Vrp("193.0.0.0/21", 21, 3333, ""),)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"vrps": []}),
        json.dumps({"roas": [{"asn": 1, "prefix": "193.0.0.1/21", "maxLength": 24}]}),
        json.dumps({"roas": [{"asn": 1, "prefix": "193.0.0.0/21", "maxLength": 20}]}),
        json.dumps({"roas": [{"asn": 1, "prefix": "193.0.0.0/21", "maxLength": 33}]}),
        json.dumps({"roas": [{"asn": "ASX", "prefix": "193.0.0.0/21"}]}),
        json.dumps({"roas": [{"prefix": "193.0.0.0/21"}]}),
    ],
)
def test_bad_vrp_files_are_refused(text: str) -> None:
    with pytest.raises(DataSetError):
        parse_vrps(text, "vrps.json")


def test_the_version_is_the_content_whatever_the_order() -> None:
    roas = json.loads(RPKI_CLIENT)["roas"]
    shuffled = roas[::-1] + roas[:1]  # reordered, with a duplicate
    a = parse_vrps(RPKI_CLIENT)
    b = parse_vrps(json.dumps({"roas": shuffled}))
    assert a.version == b.version and a.vrps == b.vrps
    c = parse_vrps(json.dumps({"roas": roas[:2]}))
    assert c.version != a.version


# The three forms bgpq4 -j prints (printer.c), with its escaped slashes.
BGPQ4_V4 = r"""{ "NN": [
    { "prefix": "185.50.0.0\/24", "exact": true },
    { "prefix": "185.50.4.0\/22", "exact": false,
      "greater-equal": 23, "less-equal": 24 },
    { "prefix": "185.51.0.0\/16", "exact": false, "less-equal": 24 }
] }
"""
BGPQ4_ASNS = '{"NN": [\n  3333,20940,196615\n]}\n'


def test_parse_bgpq4_prefix_lists() -> None:
    asns, entries = parse_bgpq4(BGPQ4_V4, "AS-EXAMPLE.v4.json")
    assert asns == []
    assert entries == [
        IrrPrefix("prefixes", "185.50.0.0/24", True, None, None),
        IrrPrefix("prefixes", "185.50.4.0/22", False, 23, 24),
        IrrPrefix("prefixes", "185.51.0.0/16", False, None, 24),
    ]


def test_parse_bgpq4_asn_lists() -> None:
    assert parse_bgpq4(BGPQ4_ASNS) == ([3333, 20940, 196615], [])


@pytest.mark.parametrize(
    "text",
    [
        '{"NN": [1], "MM": [2]}',
        '{"NN": "x"}',
        '{"NN": ["AS1"]}',
        '{"NN": [{"prefix": "185.50.0.1/24"}]}',
        "[]",
    ],
)
def test_bad_bgpq4_files_are_refused(text: str) -> None:
    with pytest.raises(DataSetError):
        parse_bgpq4(text, "AS-X.json")


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("AS-EXAMPLE.json", "AS-EXAMPLE"),
        ("as-example.v4.json", "AS-EXAMPLE"),
        ("dir/AS20002:AS-CUSTOMERS.asns.json", "AS20002:AS-CUSTOMERS"),
        ("AS20002.json", "AS20002"),
        ("README.md", None),
        (".hidden.json", None),
    ],
)
def test_file_naming_convention(filename: str, name: str | None) -> None:
    assert set_name_of_file(filename) == name


def test_a_directory_of_bgpq4_files() -> None:
    v6 = '{"NN": [{"prefix": "2a0c:9a40::\\/32", "exact": true}]}'
    files = {
        "AS-EXAMPLE.v4.json": BGPQ4_V4,
        "AS-EXAMPLE.v6.json": v6,
        "AS-EXAMPLE.asns.json": BGPQ4_ASNS,
        "AS20002.json": '{"NN": [{"prefix": "185.60.0.0\\/24", "exact": true}]}',
        "notes.txt": "ignored",
    }
    sets = irr_sets_from_files(files)
    assert set(sets) == {"AS-EXAMPLE", "AS20002"}
    example = sets["AS-EXAMPLE"]
    assert example.kind == KIND_IRR
    assert example.asns == frozenset({3333, 20940, 196615})
    assert len(example.prefixes) == 4
    assert example.source == "AS-EXAMPLE.asns.json,AS-EXAMPLE.v4.json,AS-EXAMPLE.v6.json"
    # AS<N> always has its own ASN as an allowed origin (arouteserver's expansion of AS<N>).
    assert sets["AS20002"].asns == frozenset() and sets["AS20002"].origin_asns == {20002}
    assert example.origin_asns == example.asns


def test_irr_version_ignores_order_and_redundant_ranges() -> None:
    a = irr_sets_from_files({"AS-X.json": BGPQ4_V4})["AS-X"]
    reordered = json.dumps(
        {
            "NN": [
                {"prefix": "185.51.0.0/16", "exact": False, "greater-equal": 16, "less-equal": 24},
                {"prefix": "185.50.0.0/24", "exact": True},
                {"prefix": "185.50.4.0/22", "exact": False, "greater-equal": 23, "less-equal": 24},
            ]
        }
    )
    assert irr_sets_from_files({"AS-X.json": reordered})["AS-X"].version == a.version


def _roundtrip(data: VrpSet | IrrSet | Bogons, max_bytes: int) -> object:
    chunks, manifest = to_events(data, HEADER, max_bytes)
    wire = [codec.encode(c) for c in chunks]
    assert all(len(raw) <= max_bytes for raw in wire)
    decoded = [codec.decode(raw) for raw in wire]
    random.Random(1).shuffle(decoded)  # chunks may be read in any order
    return from_events(codec.decode(codec.encode(manifest)), decoded)


def _many_vrps(count: int) -> VrpSet:
    rnd = random.Random(4)
    return vrp_set(
        Vrp(
            f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.0/24",
            24,
            rnd.randint(1, 400000),
            "ripe",
        )
        for _ in range(count)
    )


def test_a_large_vrp_set_travels_in_chunks_under_the_record_limit() -> None:
    vrps = _many_vrps(60_000)
    chunks, manifest = to_events(vrps, HEADER)
    assert manifest.chunks == len(chunks) > 1 and manifest.items == len(vrps)
    assert max(len(codec.encode(c)) for c in chunks) < 1_000_000
    back = _roundtrip(vrps, 64 * 1024)
    assert isinstance(back, VrpSet)
    assert back.version == vrps.version and back.vrps == vrps.vrps


def test_irr_and_bogon_sets_travel_in_chunks() -> None:
    sets = irr_sets_from_files({"AS-EXAMPLE.v4.json": BGPQ4_V4, "AS-EXAMPLE.asns.json": BGPQ4_ASNS})
    back = _roundtrip(sets["AS-EXAMPLE"], 4096)
    assert isinstance(back, IrrSet)
    assert (back.name, back.version, back.asns, back.prefixes) == (
        "AS-EXAMPLE",
        sets["AS-EXAMPLE"].version,
        sets["AS-EXAMPLE"].asns,
        sets["AS-EXAMPLE"].prefixes,
    )
    bogons = _roundtrip(DEFAULT_BOGONS, 4096)
    assert isinstance(bogons, Bogons)
    assert bogons.version == DEFAULT_BOGONS.version
    _, manifest = to_events(DEFAULT_BOGONS, HEADER)
    assert manifest.kind == KIND_BOGONS


def test_reassembly_refuses_missing_foreign_or_altered_chunks() -> None:
    chunks, manifest = to_events(_many_vrps(3000), HEADER, 16 * 1024)
    assert len(chunks) > 2
    with pytest.raises(DataSetError, match="chunks"):
        from_events(manifest, chunks[1:])
    foreign = replace(chunks[0], version="0" * 64)
    with pytest.raises(DataSetError, match="chunks"):
        from_events(manifest, [foreign, *chunks[1:]])
    altered = replace(chunks[0], vrps=chunks[0].vrps[1:])
    with pytest.raises(DataSetError, match="manifest"):
        from_events(manifest, [altered, *chunks[1:]])
    # A chunk delivered twice (Kafka is at-least-once) is not an error.
    assert from_events(manifest, [*chunks, chunks[0]]).version == manifest.version
