"""A partition's saved state (RocksDB): a processor brought back from it at any point carries
on exactly as one that never stopped; a store it cannot trust is discarded."""

from __future__ import annotations

import pickle
import random
from dataclasses import replace
from pathlib import Path

import pytest

from ixrs import topics
from ixrs.config import RouteServerConfig, load_config
from ixrs.eventlog import Stamper
from processors.export import ExportPolicy
from processors.partition import PartitionProcessor, Policies
from processors.store import FORMAT, PartitionStore
from processors.validate import ImportPolicy
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.decisions import per_prefix
from schemas.events import (
    DataSetMarker,
    Decision,
    Epoch,
    EventHeader,
    Position,
    ReceivedRoutes,
    Session,
    SessionChange,
    SessionState,
    SpeakerIncarnation,
    Verdict,
)

ROOT = Path(__file__).resolve().parents[2]
H = EventHeader("speaker", 0, 0, "")
PEERS = [("192.0.2.2", 20002), ("192.0.2.3", 20003), ("192.0.2.4", 20004)]
PREFIXES = [f"185.{50 + n // 200}.{n % 200}.0/{23 + n % 3}" for n in range(60)]


def _config(tmp_path: Path, max_len: int) -> RouteServerConfig:
    general = (ROOT / "examples" / "general.yml").read_text()
    path = tmp_path / f"general-{max_len}.yml"
    path.write_text(general.replace("      max: 24", f"      max: {max_len}", 1))
    return load_config(str(path), str(ROOT / "examples" / "clients.yml"))


@pytest.fixture
def configs(tmp_path: Path) -> dict[str, Policies]:
    found = {}
    for max_len in (24, 23):
        config = _config(tmp_path, max_len)
        found[config.version] = Policies(ImportPolicy(config), ExportPolicy.from_config(config))
    return found


def _processor(configs: dict[str, Policies]) -> PartitionProcessor:
    first = next(iter(configs.values()))

    def no_data(kind: str, name: str, version: str) -> object:
        raise AssertionError("no data set in these tests")

    return PartitionProcessor(0, first.imports, no_data,  # type: ignore[arg-type]
                              Stamper("worker", first.version), first.exports, configs.__getitem__)


def _stream(configs: dict[str, Policies], seed: int, length: int = 400) -> list[object]:
    """Announcements, withdrawals, session ends, a new speaker incarnation and a change of
    configuration, in a random order."""
    rng = random.Random(seed)
    epochs = {address: 1 for address, _ in PEERS}
    incarnation = "i1"
    versions = list(configs)
    events: list[object] = []
    for n in range(length):
        address, asn = rng.choice(PEERS)
        session = Session("speaker", address, asn, Epoch(incarnation, epochs[address]), address)
        roll = rng.random()
        if roll < 0.02:
            events.append(SessionChange(H, session, SessionState.IDLE, SessionState.ESTABLISHED))
            epochs[address] += 1
        elif roll < 0.025:
            incarnation = f"i{n}"
            events.append(SpeakerIncarnation(H, "speaker", incarnation))
        elif roll < 0.03:
            kind = topics.CONFIG_MARKER
            events.append(DataSetMarker(H, kind, kind, rng.choice(versions)))
        elif roll < 0.25:
            events.append(ReceivedRoutes(H, session, n, None, (),
                                         tuple(rng.sample(PREFIXES, 3))))
        else:
            path = (asn, *rng.sample([3333, 3356, 174, 1299], rng.randint(1, 3)))
            attrs = Attributes(origin=Origin.IGP, next_hop=address,
                               med=rng.choice([None, 10, 20]),
                               as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, path),))
            events.append(ReceivedRoutes(H, session, n, attrs, tuple(rng.sample(PREFIXES, 4))))
    return events


def _feed(proc: PartitionProcessor, events: list[object], start: int) -> list[object]:
    """The outputs, without their headers (which carry the time and a sequence number)."""
    out = []
    for offset, event in enumerate(events[start:], start):
        out += [replace(e, header=H)
                for o in proc.handle(Position("ixrs.routes", 0, offset), event)
                for e in per_prefix(o.event)]
    return out


def _state(proc: PartitionProcessor) -> tuple[object, ...]:
    rib = proc.rib
    offers = {p: {k: o.route for k, o in c.items()} for p, c in proc.offers.items()}
    return (rib.routes, rib.epochs, rib.incarnations, proc.verdicts, proc.decisions, offers,
            proc.policy.version, proc.in_force)


@pytest.mark.parametrize("seed", range(6))
def test_a_processor_brought_back_from_its_store_carries_on_as_one_that_never_stopped(
        configs, tmp_path: Path, seed: int) -> None:
    events = _stream(configs, seed)
    cut = random.Random(seed).randrange(1, len(events))
    uninterrupted = _processor(configs)
    before = _feed(uninterrupted, events, 0)

    first = _processor(configs)
    _feed(first, events[:cut], 0)
    # saved at several points: each save writes only what changed since the last
    store = PartitionStore(tmp_path / "store")
    store.save(first, cut // 2)
    store.save(first, cut)
    store.close()

    store = PartitionStore(tmp_path / "store")
    resumed = _processor(configs)
    loaded = store.load(resumed)
    assert loaded is not None and loaded.offset == cut
    after = _feed(resumed, events, cut)
    assert _state(resumed) == _state(uninterrupted)
    expected = _feed(_replayed(configs, events, cut), events, cut)
    assert after == expected
    assert any(isinstance(e, Decision) for e in before)
    assert any(isinstance(e, Verdict) and not e.groups[0].accepted for e in before), \
        "the stream exercises a rejection (prefix length under the second configuration)"


def _replayed(configs: dict[str, Policies], events: list[object], upto: int
              ) -> PartitionProcessor:
    proc = _processor(configs)
    _feed(proc, events[:upto], 0)
    return proc


def test_a_store_of_another_format_or_unreadable_is_discarded(configs, tmp_path: Path) -> None:
    proc = _processor(configs)
    _feed(proc, _stream(configs, 1, 50), 0)
    store = PartitionStore(tmp_path / "store")
    store.save(proc, 50)
    store.db[b"m"] = pickle.dumps({"format": "older", "offset": 50})
    assert store.load(_processor(configs)) is None
    assert list(store.db.keys()) == [], "the untrusted store is emptied"

    store.save(proc, 50)
    store.db[b"p185.50.0.0/23"] = b"not a pickle"
    fresh = _processor(configs)
    assert store.load(fresh) is None
    assert fresh.rib.routes == {} and fresh.decisions == {}
    store.close()


def test_save_writes_only_what_changed(configs, tmp_path: Path) -> None:
    proc = _processor(configs)
    events = _stream(configs, 2, 100)
    _feed(proc, events, 0)
    store = PartitionStore(tmp_path / "store")
    store.save(proc, 100)
    assert proc.dirty == set()
    keys = {k for k, _v in store.db.items() if k != b"m"}
    assert keys == {b"p" + p.encode() for p in proc.rib.routes}
    assert pickle.loads(store.db[b"m"])["format"] == FORMAT
    store.close()
