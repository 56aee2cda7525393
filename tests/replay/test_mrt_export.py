"""What `ixrs mrt` exports from a log (tests/replay/mrt_scenario.py, in memory): which
routes at which moment, the client view, the period of `updates`, the file written."""

from __future__ import annotations

import dataclasses
import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from ixrs import topics
from ixrs.config import load_config
from processors.partition import SharedCaches
from replay.history import History
from replay.moment import Moment
from replay.mrt_adjin import adj_rib_in, prefix_key
from replay.mrt_export import write_records
from replay.mrt_rib import RibSummary, rib_records
from replay.mrt_updates import update_records
from replay.rebuild import rebuild_partition
from tests.processors.pipeline import CLIENTS, GENERAL
from tests.replay import mrt_scenario as sc
from tests.replay.mrt_readers import bgp4mp, bgpdump, key, mrtparse_attributes, mrtparse_records


@pytest.fixture(scope="module")
def scenario() -> sc.Scenario:
    return sc.build()


def rib(scenario: sc.Scenario, tmp_path: Path, moment: Moment, clients: list | None = None,
        summary: RibSummary | None = None) -> Path:
    path = tmp_path / "rib.mrt"
    write_records(str(path), rib_records(scenario.source, moment, clients, 0, summary))
    return path


def test_adj_rib_in_is_the_partition_processors(scenario: sc.Scenario) -> None:
    """The export's Adj-RIB-In equals what replay's PartitionProcessor holds, route for
    route, at several moments."""
    history = History(scenario.source)
    for at in (sc.T0 + 12_000_000, sc.T0 + 20_000_000, scenario.now):
        moment = Moment(at_us=at)
        for partition in range(sc.PARTITIONS):
            mine, _times = adj_rib_in(scenario.source, partition, moment)
            theirs = rebuild_partition(scenario.source, history, partition, moment,
                                       caches=SharedCaches(), final_only=True).processor.rib
            assert mine.routes == theirs.routes


def prefixes_by_peer(path: Path) -> set[tuple[str, str]]:
    return {(ln[3], ln[5]) for ln in bgpdump(path)}


def test_an_earlier_moment_has_what_was_held_then(scenario: sc.Scenario, tmp_path: Path
                                                  ) -> None:
    d_read = scenario.originated(sc.D, "198.51.100.0/24")
    then = prefixes_by_peer(rib(scenario, tmp_path, Moment(at_us=d_read + 10)))
    assert ("192.0.2.8", "198.51.100.0/24") in then, "D's route, before D went down"
    assert ("192.0.2.6", "185.51.0.0/24") in then, "C's route, before C withdrew it"
    assert ("2001:db8:1::5", "2a0c:9a41::/48") in then
    now = prefixes_by_peer(rib(scenario, tmp_path, Moment(at_us=scenario.now)))
    assert now == {(s.peer_address, p) for s, p in sc.RIB_IN}
    before = rib(scenario, tmp_path, Moment(at_us=sc.T0))
    assert len(mrtparse_records(before)) == 1, "the peer index table alone"


def test_offsets_cut_the_routes_partitions(scenario: sc.Scenario, tmp_path: Path) -> None:
    cut = Moment(offsets={(topics.ROUTES.suffix, p): 0 for p in range(sc.PARTITIONS)})
    assert prefixes_by_peer(rib(scenario, tmp_path, cut)) == set()


def test_client_view_is_its_adj_rib_out_from_the_route_server(scenario: sc.Scenario,
                                                             tmp_path: Path) -> None:
    config = load_config(str(GENERAL), str(CLIENTS))
    client = dataclasses.replace(config.clients[0], asn=sc.R.peer_asn, ip=sc.R.peer_address)
    summary = RibSummary()
    path = rib(scenario, tmp_path, Moment(at_us=scenario.now), [client], summary)
    table, *ribs = mrtparse_records(path)
    assert table["view_name"] == "adj-rib-out AS20007 192.0.2.7"
    assert [(p["peer_ip"], p["peer_as"], p["peer_bgp_id"]) for p in table["peer_entries"]] == [
        (sc.ROUTER_ID, str(sc.RS_AS), sc.ROUTER_ID)], "the route server is the peer"
    sent_at = max(t for s, _u, sent, t in scenario.messages if s == sc.R and sent)
    got = {}
    for record in ribs:
        [entry] = record["rib_entries"]
        assert key(entry["originated_time"]) == sent_at // 1_000_000
        attributes = mrtparse_attributes(entry["path_attributes"])
        got[f"{record['prefix']}/{record['length']}"] = (attributes["AS_PATH"],
                                                        attributes["NEXT_HOP"],
                                                        attributes["COMMUNITY"])
    path_text = "196615 212232 {64512,4200000000}"
    assert got == {p: (path_text, "192.0.2.4", ["65000:1", "0:6695"])
                   for p in ("185.50.0.0/24", "203.0.113.7/32")}
    assert (summary.peers, summary.prefixes, summary.entries) == (1, 2, 2)
    other = dataclasses.replace(client, asn=sc.A.peer_asn, ip=sc.A.peer_address)
    assert len(mrtparse_records(rib(scenario, tmp_path, Moment(at_us=scenario.now),
                                    [other]))) == 1, "nothing was sent to A"


def test_the_period_of_updates_is_half_open(scenario: sc.Scenario) -> None:
    stamps = sorted({t for _s, _u, _sent, t in scenario.messages})  # A's read: two UPDATEs
    first, second = stamps[0], stamps[1]
    records = bgp4mp(b"".join(update_records(scenario.source, first, second)))
    assert [r.time_us for r in records] == [second], "(from, to]: the first read is out"
    both = bgp4mp(b"".join(update_records(scenario.source, first - 1, second)))
    assert [r.time_us for r in both] == [first, first, second]
    assert list(update_records(scenario.source, scenario.now, scenario.now + 10**9)) == []


def test_a_file_is_written_whole_or_not_at_all(scenario: sc.Scenario, tmp_path: Path) -> None:
    target = tmp_path / "updates.mrt.gz"
    count = write_records(str(target), update_records(scenario.source, sc.T0, scenario.now))
    data = gzip.decompress(target.read_bytes())
    assert len(bgp4mp(data)) == count
    assert bgpdump(target) == bgpdump(_plain(tmp_path, data)), "bgpdump reads the .gz"

    def failing() -> Iterator[bytes]:
        yield b"half"
        raise RuntimeError("the log went away")

    broken = tmp_path / "broken.mrt"
    with pytest.raises(RuntimeError):
        write_records(str(broken), failing())
    assert sorted(tmp_path.iterdir()) == sorted([target, tmp_path / "plain.mrt"]), \
        "neither the broken file nor its temporary one"


def _plain(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "plain.mrt"
    path.write_bytes(data)
    return path


def test_prefixes_are_dumped_in_address_order() -> None:
    prefixes = ["2a0c::/16", "10.0.0.0/16", "9.0.0.0/8", "10.0.0.0/8", "::/0", "0.0.0.0/0",
                "192.0.2.0/24", "2001:db8::/32"]
    assert sorted(prefixes, key=prefix_key) == [
        "0.0.0.0/0", "9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "192.0.2.0/24", "::/0",
        "2001:db8::/32", "2a0c::/16"]
