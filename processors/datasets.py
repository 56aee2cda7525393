"""Policy data sets: RPKI VRPs, IRR lists and bogons, parsed, versioned and chunked. Pure.

Every data set is a frozen value with a `version`: the sha256 of its canonical content
(sorted, de-duplicated), so that the same data loaded anywhere, in any order, has the same
version, and verdicts can cite it (`DataSetRef`).

Kinds and names (`DataSetVersion.kind` / `.name`):

- `rpki-vrps`, name `vrps`: DataSetChunk.vrps, one `Vrp` per (prefix, maxLength, ASN, TA);
- `irr-prefixes`, name the AS-SET or `AS<N>`: DataSetChunk.irr, prefix entries as
  `IrrPrefix(list_name="prefixes", ...)` and ASN members as
  `IrrPrefix(list_name="asns", prefix="AS<N>")`;
- `bogons`, name `bogons`: DataSetChunk.irr, `IrrPrefix(list_name="bogons", ...)` entries.

The schema has no field for an AS-SET's ASN members, so they travel as IrrPrefix items with
`list_name="asns"` and the ASN in `prefix` (a dedicated `asns` array in DataSetChunk would
be cleaner; see the hand-over notes).

VRPs come from an rpki-client or Routinator JSON export:
`{"roas": [{"asn": "AS13335" or 13335, "prefix": "1.1.1.0/24", "maxLength": 24, "ta": "apnic"}]}`
(a missing maxLength means the prefix's own length, RFC 6482 §3.3).

IRR lists come from a directory of `bgpq4 -j` outputs, one AS-SET (or `AS<N>`) per name:

- **Naming:** the set's name is the file name up to its first dot, case-insensitive, and only
  `*.json` files count: `AS-EXAMPLE-B.json`, or `AS-EXAMPLE-B.v4.json` +
  `AS-EXAMPLE-B.v6.json` + `AS-EXAMPLE-B.asns.json` (bgpq4 writes one address family per run),
  `AS20002:AS-CUSTOMERS.json`, `AS20002.json`. Files of one name are merged.
- **Content:** bgpq4's JSON, `{"NN": [...]}` whatever the list name: prefix entries
  (`bgpq4 -j [-A] -4|-6 -l NN AS-SET`) `{"prefix": "185.50.0.0/22", "exact": true}` or
  `{"prefix": ..., "exact": false, "greater-equal": 23, "less-equal": 24}` (greater-equal may
  be absent: the prefix's length), or ASN members (`bgpq4 -j -t -l NN AS-SET`) as integers.
- Which lists apply to a client: `AS<asn>` always (its own route objects; its ASN counts as
  an allowed origin even with no file), then its `irrdb.as_sets`, else its AS's `as_sets` in
  the `asns:` section (processors.validate.irr.irr_names).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from processors.validate.bogons import Bogons, bogons_from_rules
from processors.validate.data import KIND_BOGONS, KIND_IRR, KIND_VRPS
from processors.validate.net import BITS, Net, format_net, parse_prefix
from processors.validate.prefix_index import PrefixIndex, PrefixRule, family_indexes
from schemas import codec
from schemas.events import DataSetChunk, DataSetVersion, EventHeader, IrrPrefix, Vrp

VRPS_NAME = "vrps"
LIST_PREFIXES = "prefixes"
LIST_ASNS = "asns"
LIST_BOGONS = "bogons"

# Kafka's default record limit is about 1 MB; chunks stay at a quarter of it.
CHUNK_BYTES = 256 * 1024


class DataSetError(ValueError):
    """A data file or a set of chunk events that does not make a valid data set."""


def _digest(lines: Iterable[str]) -> str:
    """sha256 of the lines, each ended by a newline."""
    text = "\n".join(lines)
    return hashlib.sha256((text + "\n" if text else "").encode()).hexdigest()


# --- RPKI VRPs ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class VrpSet:
    """Validated ROA payloads in canonical order, and `index`, which finds those covering a
    prefix: by family, (max_length, asn) filed under each VRP prefix. Build with vrp_set()."""

    vrps: tuple[Vrp, ...]
    version: str
    index: dict[int, PrefixIndex[tuple[int, int]]] = field(repr=False)
    source: str = ""
    name: str = VRPS_NAME
    kind: str = field(default=KIND_VRPS, init=False)

    def __len__(self) -> int:
        return len(self.vrps)


def vrp_set(vrps: Iterable[Vrp], source: str = "") -> VrpSet:
    """Canonical VrpSet: prefixes in canonical text, sorted, duplicates removed."""
    keys = set()
    for vrp in vrps:
        try:
            keys.add(_vrp_key(vrp.prefix, vrp.max_length, vrp.asn, vrp.ta))
        except ValueError as exc:
            raise DataSetError(f"VRP {vrp}: {exc}") from None
    return _canonical_set(keys, source)


VrpKey = tuple[Net, int, int, str]


def _vrp_key(prefix: str, max_length: int | None, asn: int, ta: str) -> VrpKey:
    net = parse_prefix(prefix)
    max_length = net.length if max_length is None else max_length
    if not net.length <= max_length <= BITS[net.version]:
        raise ValueError(f"maxLength {max_length} for a /{net.length}")
    if not 0 <= asn <= 0xFFFFFFFF:
        raise ValueError(f"ASN {asn}")
    return net, max_length, asn, ta


def _canonical_set(keys: set[VrpKey], source: str) -> VrpSet:
    ordered = sorted(keys)
    canonical = tuple(
        Vrp(format_net(net), max_length, asn, ta) for net, max_length, asn, ta in ordered
    )
    return _indexed(canonical, [key[0] for key in ordered], source)


def _indexed(canonical: tuple[Vrp, ...], nets: Sequence[Net], source: str) -> VrpSet:
    version = _digest(f"{v.prefix} {v.max_length} {v.asn} {v.ta}" for v in canonical)
    index = family_indexes(zip(nets, ((v.max_length, v.asn) for v in canonical), strict=True))
    return VrpSet(canonical, version, index, source)


def _vrp_set_as_sent(vrps: tuple[Vrp, ...], source: str) -> VrpSet:
    """A VrpSet from chunks, taken in the order and form they came in. If that was not the
    canonical content, the version differs from the manifest's and from_events refuses it;
    so reassembly needs neither sorting nor formatting, only each VRP's own checks."""
    try:
        nets = [_vrp_key(v.prefix, v.max_length, v.asn, v.ta)[0] for v in vrps]
    except ValueError as exc:
        raise DataSetError(f"VRP: {exc}") from None
    return _indexed(vrps, nets, source)


def parse_vrps(text: str, source: str = "") -> VrpSet:
    """An rpki-client / Routinator JSON export (`{"roas": [...]}`) as a VrpSet."""
    where = source or "VRP file"
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataSetError(f"{where}: invalid JSON: {exc}") from None
    roas = document.get("roas") if isinstance(document, dict) else None
    if not isinstance(roas, list):
        raise DataSetError(f'{where}: no "roas" list')
    keys = set()
    for index, entry in enumerate(roas):
        try:
            keys.add(_roa_key(entry))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataSetError(f"{where}: roas[{index}]: {exc!r}") from None
    return _canonical_set(keys, source)


def _roa_key(entry: dict[str, Any]) -> VrpKey:
    asn = entry["asn"]  # 13335 (rpki-client) or "AS13335" (Routinator)
    if isinstance(asn, str):
        asn = int(asn.upper().removeprefix("AS"))
    max_length = entry.get("maxLength")
    ta = entry.get("ta", "")
    return _vrp_key(
        entry["prefix"], None if max_length is None else int(max_length), int(asn), str(ta)
    )


# --- IRR lists ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class IrrSet:
    """One AS-SET (or `AS<N>`) as bgpq4 expanded it: origin ASNs and a prefix list."""

    name: str
    asns: frozenset[int]
    prefixes: tuple[IrrPrefix, ...]  # list_name "prefixes", canonical order
    version: str
    source: str = ""
    kind: str = field(default=KIND_IRR, init=False)

    @cached_property
    def rules(self) -> tuple[PrefixRule, ...]:
        return tuple(_rule(entry, self.name) for entry in self.prefixes)

    @property
    def origin_asns(self) -> frozenset[int]:
        """The members, and for `AS<N>` the ASN itself (arouteserver expands it to [N])."""
        own = _asn_of_name(self.name)
        return self.asns | {own} if own is not None else self.asns

    def __len__(self) -> int:
        return len(self.asns) + len(self.prefixes)


def _asn_of_name(name: str) -> int | None:
    digits = name[2:]
    return int(digits) if name.startswith("AS") and digits.isascii() and digits.isdigit() else None


def _rule(entry: IrrPrefix, label: str) -> PrefixRule:
    length = parse_prefix(entry.prefix).length
    if entry.exact:
        return PrefixRule(entry.prefix, length, length, label)
    top = BITS[4] if ":" not in entry.prefix else BITS[6]
    return PrefixRule(entry.prefix, entry.ge or length, entry.le or top, label)


def irr_set(
    name: str, asns: Iterable[int], prefixes: Iterable[IrrPrefix], source: str = ""
) -> IrrSet:
    """Canonical IrrSet: entries in canonical text, sorted, duplicates removed."""
    members = frozenset(asns)
    if any(not 0 < asn <= 0xFFFFFFFF for asn in members):
        raise DataSetError(f"{name}: an ASN member is out of range")
    keyed: dict[tuple[Net, bool, int, int], IrrPrefix] = {}
    for entry in prefixes:
        try:
            net = parse_prefix(entry.prefix)
        except ValueError as exc:
            raise DataSetError(f"{name}: {exc}") from None
        canonical = _canonical_entry(net, entry)
        keyed[(net, canonical.exact, canonical.ge or 0, canonical.le or 0)] = canonical
    ordered = tuple(keyed[key] for key in sorted(keyed))
    lines = [f"asn {asn}" for asn in sorted(members)] + [
        f"prefix {e.prefix} {e.exact} {e.ge} {e.le}" for e in ordered
    ]
    return IrrSet(name.upper(), members, ordered, _digest(lines), source)


def _canonical_entry(net: Net, entry: IrrPrefix) -> IrrPrefix:
    text = format_net(net)
    if entry.exact:
        return IrrPrefix(LIST_PREFIXES, text, True, None, None)
    ge = entry.ge if entry.ge and entry.ge != net.length else None
    le = entry.le if entry.le and entry.le != BITS[net.version] else None
    if not net.length <= (ge or net.length) <= (le or BITS[net.version]) <= BITS[net.version]:
        raise DataSetError(f"{text}: greater-equal {entry.ge}, less-equal {entry.le}")
    return IrrPrefix(LIST_PREFIXES, text, False, ge, le)


def parse_bgpq4(text: str, source: str = "") -> tuple[list[int], list[IrrPrefix]]:
    """One `bgpq4 -j` output: (ASN members, prefix entries); either may be empty."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataSetError(f"{source}: invalid JSON: {exc}") from None
    if not isinstance(document, dict) or len(document) != 1:
        raise DataSetError(f'{source}: expected bgpq4 -j output, one {{"NAME": [...]}} list')
    (items,) = document.values()
    if not isinstance(items, list):
        raise DataSetError(f"{source}: the list must be a JSON array")
    asns = [item for item in items if isinstance(item, int) and not isinstance(item, bool)]
    entries = [_bgpq4_entry(item, source) for item in items if isinstance(item, dict)]
    if len(asns) + len(entries) != len(items):
        raise DataSetError(f"{source}: items must be ASNs or prefix entries")
    return asns, entries


def _bgpq4_entry(item: dict[str, Any], source: str) -> IrrPrefix:
    try:
        prefix = item["prefix"]
        parse_prefix(prefix)
    except (KeyError, ValueError):
        raise DataSetError(f"{source}: bad prefix entry {item!r}") from None
    # arouteserver reads a missing "exact" as False (irrdb.py, RSet._parse_prefix).
    exact = bool(item.get("exact", False))
    if exact:
        return IrrPrefix(LIST_PREFIXES, prefix, True, None, None)
    return IrrPrefix(
        LIST_PREFIXES, prefix, False, item.get("greater-equal"), item.get("less-equal")
    )


def set_name_of_file(filename: str) -> str | None:
    """`AS-FOO.v4.json` -> "AS-FOO"; None for files that are not part of the data."""
    base = os.path.basename(filename)
    if not base.endswith(".json") or base.startswith("."):
        return None
    return base.split(".", 1)[0].upper()


def irr_sets_from_files(files: Mapping[str, str]) -> dict[str, IrrSet]:
    """{file name: content} of an `ixrs load-irr DIR` directory -> IrrSets by name."""
    asns: dict[str, list[int]] = {}
    entries: dict[str, list[IrrPrefix]] = {}
    sources: dict[str, list[str]] = {}
    for filename in sorted(files):
        name = set_name_of_file(filename)
        if name is None:
            continue
        members, prefixes = parse_bgpq4(files[filename], filename)
        asns.setdefault(name, []).extend(members)
        entries.setdefault(name, []).extend(prefixes)
        sources.setdefault(name, []).append(os.path.basename(filename))
    return {
        name: irr_set(name, asns[name], entries[name], ",".join(sources[name]))
        for name in sorted(asns)
    }


# --- chunk events -------------------------------------------------------------------------

DataSet = VrpSet | IrrSet | Bogons


def _items(data: DataSet) -> tuple[Vrp, ...] | tuple[IrrPrefix, ...]:
    if isinstance(data, VrpSet):
        return data.vrps
    if isinstance(data, IrrSet):
        members = tuple(IrrPrefix(LIST_ASNS, f"AS{asn}") for asn in sorted(data.asns))
        return members + data.prefixes
    return tuple(_bogon_item(rule) for rule in data.rules.rules)


def _bogon_item(rule: PrefixRule) -> IrrPrefix:
    if rule.ge == rule.le == parse_prefix(rule.prefix).length:
        return IrrPrefix(LIST_BOGONS, rule.prefix, True, None, None)
    return IrrPrefix(LIST_BOGONS, rule.prefix, False, rule.ge, rule.le)


def _kind(data: DataSet) -> str:
    return data.kind if not isinstance(data, Bogons) else KIND_BOGONS


def _size(item: Vrp | IrrPrefix) -> int:
    """An upper bound on the Avro size of one item (strings, varints, union tags)."""
    if isinstance(item, Vrp):
        return len(item.prefix) + len(item.ta.encode()) + 16
    return len(item.list_name) + len(item.prefix) + 16


def _chunk_overhead(header: EventHeader, kind: str, data: DataSet) -> int:
    """The encoded size of a chunk without items, and room for its index and array counts."""
    return len(codec.encode(DataSetChunk(header, kind, data.name, data.version, 0))) + 16


def to_events(
    data: DataSet, header: EventHeader, max_bytes: int = CHUNK_BYTES
) -> tuple[tuple[DataSetChunk, ...], DataSetVersion]:
    """The chunk events of a data set, each under `max_bytes` encoded, and its manifest.

    All carry `header`; a producer that numbers its events restamps them.
    """
    kind, items = _kind(data), _items(data)
    budget = max_bytes - _chunk_overhead(header, kind, data)
    batches: list[list[Vrp | IrrPrefix]] = [[]]
    size = 0
    for item in items:
        cost = _size(item)
        if batches[-1] and size + cost > budget:
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += cost
    chunks = tuple(
        DataSetChunk(
            header,
            kind,
            data.name,
            data.version,
            index,
            vrps=tuple(batch) if kind == KIND_VRPS else (),  # type: ignore[arg-type]
            irr=tuple(batch) if kind != KIND_VRPS else (),  # type: ignore[arg-type]
        )
        for index, batch in enumerate(batches)
    )
    manifest = DataSetVersion(
        header, kind, data.name, data.version, len(chunks), len(items), data.source
    )
    return chunks, manifest


def from_events(manifest: DataSetVersion, chunks: Sequence[DataSetChunk]) -> DataSet:
    """Reassemble a data set; DataSetError unless the chunks are exactly the manifest's."""
    # Kafka delivers at least once: a chunk written twice (a producer retry) is the same
    # chunk, so one per index is kept.
    by_index = {
        c.index: c
        for c in chunks
        if (c.kind, c.name, c.version) == (manifest.kind, manifest.name, manifest.version)
    }
    if sorted(by_index) != list(range(manifest.chunks)):
        raise DataSetError(
            f"{manifest.kind} {manifest.name} {manifest.version[:12]}: chunks "
            f"{sorted(by_index)}, expected 0..{manifest.chunks - 1}"
        )
    ordered = [by_index[i] for i in range(manifest.chunks)]
    data = _assemble(manifest, ordered)
    count = len(_items(data))
    if data.version != manifest.version or count != manifest.items:
        raise DataSetError(
            f"{manifest.kind} {manifest.name}: content hashes to {data.version[:12]} with "
            f"{count} items; the manifest says {manifest.version[:12]} with {manifest.items}"
        )
    return data


def _assemble(manifest: DataSetVersion, chunks: list[DataSetChunk]) -> DataSet:
    if manifest.kind == KIND_VRPS:
        return _vrp_set_as_sent(tuple(v for c in chunks for v in c.vrps), manifest.source)
    entries = [e for c in chunks for e in c.irr]
    if manifest.kind == KIND_BOGONS:
        rules = tuple(_rule(e, "") for e in entries if e.list_name == LIST_BOGONS)
        return bogons_from_rules(rules, manifest.source)
    if manifest.kind != KIND_IRR:
        raise DataSetError(f"unknown data set kind {manifest.kind!r}")
    asns = [_asn_of_name(e.prefix) for e in entries if e.list_name == LIST_ASNS]
    if None in asns:
        raise DataSetError(f"{manifest.name}: bad ASN member in chunks")
    prefixes = [e for e in entries if e.list_name == LIST_PREFIXES]
    return irr_set(manifest.name, asns, prefixes, manifest.source)  # type: ignore[arg-type]
