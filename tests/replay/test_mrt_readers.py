"""MRT exports read back by three independent readers: bgpdump -m, mrtparse and
bgpkit-parser. Every record must be read, and prefixes, AS paths, next hops and
communities must be what the clients sent and were sent.

The log is built in memory as the speaker writes it (tests/replay/mrt_scenario.py): IPv4 and
IPv6 routes, an IPv6 session, a 2-octet-AS session, 4-octet ASNs and an AS_SET, standard,
large and extended communities, a withdrawal by MP_UNREACH_NLRI, an End-of-RIB, a session
going down.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from replay.moment import Moment
from replay.mrt_export import write_records
from replay.mrt_rib import rib_records
from replay.mrt_updates import update_records
from schemas.attributes import AsPathSegment, Attributes, SegmentType
from schemas.events import Session
from tests.replay import mrt_scenario as sc
from tests.replay.mrt_readers import (
    bgp4mp,
    bgpdump,
    bgpkit_elems,
    key,
    mrtparse_attributes,
    mrtparse_records,
    split,
)

# (peer ip, peer AS, kind A/W, prefix, AS path, next hop, communities)
Element = tuple[str, int, str, str, str, str, tuple[str, ...]]


def path_text(segments: tuple[AsPathSegment, ...]) -> str:
    return " ".join(" ".join(map(str, s.asns)) if s.type == SegmentType.AS_SEQUENCE
                    else "{" + ",".join(map(str, s.asns)) + "}" for s in segments)


def communities(attributes: Attributes, large: bool = True) -> tuple[str, ...]:
    out = [f"{a}:{b}" for a, b in attributes.communities]
    if large:
        out += [f"lg:{a}:{b}:{c}" for a, b, c in attributes.large_communities]
    return tuple(out)


def announced(session: Session, prefix: str, attributes: Attributes, large: bool = True
              ) -> Element:
    return (session.peer_address, session.peer_asn, "A", prefix, path_text(attributes.as_path),
            attributes.next_hop or "", communities(attributes, large))


def withdrawn(session: Session, prefix: str) -> Element:
    return (session.peer_address, session.peer_asn, "W", prefix, "", "", ())


@pytest.fixture(scope="module")
def scenario() -> sc.Scenario:
    return sc.build()


@pytest.fixture(scope="module")
def rib_file(scenario: sc.Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mrt") / "rib.mrt"
    write_records(str(path), rib_records(scenario.source, Moment(at_us=scenario.now), None,
                                         0))
    return path


@pytest.fixture(scope="module")
def updates_file(scenario: sc.Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mrt") / "updates.mrt"
    write_records(str(path), update_records(scenario.source, sc.T0, scenario.now))
    return path


def expected_rib(large: bool = True) -> Counter[Element]:
    return Counter(announced(s, p, a, large) for (s, p), a in sc.RIB_IN.items())


def expected_updates(scenario: sc.Scenario, large: bool = True
                     ) -> Counter[tuple[bool, Element]]:
    """(sent by the route server, element) of every UPDATE in the log."""
    out: Counter[tuple[bool, Element]] = Counter()
    for session, update, sent, _time in scenario.messages:
        for attributes, prefixes in update.announced():
            out.update((sent, announced(session, p, attributes, large)) for p in prefixes)
        out.update((sent, withdrawn(session, p)) for p in update.withdrawals())
    return out


# --- bgpdump ---------------------------------------------------------------------------


def test_bgpdump_reads_the_rib(scenario: sc.Scenario, rib_file: Path) -> None:
    lines = bgpdump(rib_file)
    assert {line[0] for line in lines} == {"TABLE_DUMP2"}
    assert {line[1] for line in lines} == {str(scenario.now // 1_000_000)}  # the moment
    # bgpdump 1.6.2 prints standard communities only
    got = Counter((ln[3], int(ln[4]), "A", ln[5], ln[6], ln[8], tuple(ln[11].split()))
                  for ln in lines if ln[2] == "B")
    assert got == expected_rib(large=False)
    by_prefix = {(ln[3], ln[5]): ln for ln in lines}
    assert by_prefix[("2001:db8:1::5", "2a0c:9a40::/32")][12:14] == ["AG", "20005 10.0.0.5"]
    assert by_prefix[("192.0.2.4", "185.50.0.0/24")][7] == "IGP"
    assert by_prefix[("192.0.2.4", "185.50.0.0/24")][10] == "10"  # MED


def test_bgpdump_reads_the_updates(scenario: sc.Scenario, updates_file: Path) -> None:
    lines = bgpdump(updates_file)
    got: Counter[tuple[bool, Element]] = Counter()
    for ln in lines:
        assert ln[0] in ("BGP4MP_ET", "BGP4MP_ET_LOCAL"), ln
        if ln[2] == "A":
            got[(ln[0] == "BGP4MP_ET_LOCAL", (ln[3], int(ln[4]), "A", ln[5], ln[6], ln[8],
                                              tuple(ln[11].split())))] += 1
        elif ln[2] == "W":
            got[(ln[0] == "BGP4MP_ET_LOCAL", (ln[3], int(ln[4]), "W", ln[5], "", "", ()))] += 1
    assert got == expected_updates(scenario, large=False)
    states = [(ln[3], int(ln[4]), int(ln[5]), int(ln[6])) for ln in lines if ln[2] == "STATE"]
    assert states == [(c.session.peer_address, c.session.peer_asn, c.previous_state + 1,
                       c.state + 1) for c in scenario.changes]
    times = [ln[1] for ln in lines]
    assert times == sorted(times), "in time order"
    first = scenario.changes[0].header.event_time_us
    assert times[0] == f"{first // 1_000_000}.{first % 1_000_000:06d}", "microseconds kept"


# --- mrtparse ---------------------------------------------------------------------------


def _mrtparse_element(peer_ip: str, peer_as: int, prefix: dict[str, Any],
                      attributes: dict[str, Any], kind: str = "A") -> Element:
    text = f"{prefix['prefix']}/{prefix['length']}"
    if kind == "W":
        return (peer_ip, peer_as, "W", text, "", "", ())
    hop = attributes.get("NEXT_HOP") or attributes["MP_REACH_NLRI"]["next_hop"][0]
    found = tuple(attributes.get("COMMUNITY", [])) + tuple(
        f"lg:{c}" for c in attributes.get("LARGE_COMMUNITY", []))
    return (peer_ip, peer_as, "A", text, attributes["AS_PATH"], hop, found)


def test_mrtparse_reads_every_rib_record(scenario: sc.Scenario, rib_file: Path) -> None:
    records = mrtparse_records(rib_file)
    assert len(records) == len(split(rib_file.read_bytes())) == 1 + 3  # index + 3 prefixes
    table, *ribs = records
    assert key(table["subtype"]) == 1
    assert table["collector_bgp_id"] == sc.ROUTER_ID and table["view_name"] == "adj-rib-in"
    peers = table["peer_entries"]
    assert [(p["peer_ip"], int(p["peer_as"]), p["peer_bgp_id"]) for p in peers] == [
        (s.peer_address, s.peer_asn, s.router_id) for s in (sc.A, sc.C, sc.B)]
    got: Counter[Element] = Counter()
    for number, rib in enumerate(ribs):
        assert rib["sequence_number"] == number
        # mrtparse 2.2.0 stores the prefix length over the record's "length"
        prefix = {"prefix": rib["prefix"], "length": rib["length"]}
        assert key(rib["subtype"]) == (4 if ":" in rib["prefix"] else 2)
        for entry in rib["rib_entries"]:
            peer = peers[entry["peer_index"]]
            attributes = mrtparse_attributes(entry["path_attributes"])
            got[_mrtparse_element(peer["peer_ip"], int(peer["peer_as"]), prefix,
                                  attributes)] += 1
            originated = key(entry["originated_time"])
            session = next(s for s, p in sc.RIB_IN if s.peer_address == peer["peer_ip"])
            when = scenario.originated(session, f"{prefix['prefix']}/{prefix['length']}")
            assert originated == when // 1_000_000
            if "MP_REACH_NLRI" in attributes:  # the abbreviated form of RFC 6396 §4.3.4
                assert set(attributes["MP_REACH_NLRI"]) == {"next_hop_length", "next_hop"}
                assert "NEXT_HOP" not in attributes
    assert got == expected_rib()
    a_v6 = next(r for r in ribs if r["prefix"] == "2a0c:9a40::")["rib_entries"][0]
    assert mrtparse_attributes(a_v6["path_attributes"])["MP_REACH_NLRI"] == {
        "next_hop_length": 32, "next_hop": ["2001:db8:1::4", "fe80::4"]}


def test_mrtparse_reads_every_update_record(scenario: sc.Scenario, updates_file: Path) -> None:
    records = mrtparse_records(updates_file)
    framed = bgp4mp(updates_file.read_bytes())
    messages = sum(len(v) for v in scenario.received.values()) + sum(
        len(v) for v in scenario.sent.values())
    assert len(records) == len(framed) == messages + len(scenario.changes)
    got: Counter[tuple[bool, Element]] = Counter()
    states, refreshes = [], []
    for record in records:
        subtype = key(record["subtype"])
        assert record["local_as"] == str(sc.RS_AS)
        peer_ip, peer_as = record["peer_ip"], int(record["peer_as"])
        if subtype == 5:
            states.append((peer_ip, peer_as, key(record["old_state"]), key(record["new_state"])))
            continue
        sent = subtype in (6, 7)
        message = record["bgp_message"]
        if key(message["type"]) == 5:  # ROUTE-REFRESH: BoRR, EoRR
            refreshes.append((peer_ip, message["reserved"]))  # mrtparse's name for subtype
            continue
        attributes = mrtparse_attributes(message["path_attributes"])
        if "AS4_PATH" in attributes:  # a 2-octet session: the real path rides in AS4_PATH
            assert subtype == 1 and peer_ip == sc.C.peer_address
            assert attributes["AS_PATH"] == "20006 23456 3333"
            attributes["AS_PATH"] = "20006 196700 3333"
        reach = attributes.get("MP_REACH_NLRI", {}).get("nlri", [])
        for prefix in message["nlri"] + reach:
            got[(sent, _mrtparse_element(peer_ip, peer_as, prefix, attributes))] += 1
        gone = message["withdrawn_routes"] + attributes.get("MP_UNREACH_NLRI", {}).get(
            "withdrawn_routes", [])
        for prefix in gone:
            got[(sent, _mrtparse_element(peer_ip, peer_as, prefix, {}, "W"))] += 1
    assert got == expected_updates(scenario)
    assert states == [(c.session.peer_address, c.session.peer_asn, c.previous_state + 1,
                       c.state + 1) for c in scenario.changes]
    assert refreshes == [(sc.R.peer_address, 1), (sc.R.peer_address, 2)]


def test_messages_are_byte_exact_and_stamped(scenario: sc.Scenario, updates_file: Path) -> None:
    framed = bgp4mp(updates_file.read_bytes())
    for session in (sc.A, sc.B, sc.C, sc.D):
        mine = [r for r in framed if r.peer_ip == session.peer_address and r.subtype != 5]
        assert [r.payload for r in mine] == scenario.received[session]
        assert {r.subtype for r in mine} == ({4} if sc.FOUR_OCTET[session] else {1})
        assert {(r.peer_as, r.local_as) for r in mine} == {(session.peer_asn, sc.RS_AS)}
    to_r = [r for r in framed if r.peer_ip == sc.R.peer_address and r.subtype != 5]
    assert [r.payload for r in to_r] == scenario.sent[sc.R]
    assert {r.subtype for r in to_r} == {7}
    # the local end: the router id for IPv4 sessions, `::` for an IPv6 one (none recorded)
    assert {r.local_ip for r in framed if ":" not in r.peer_ip} == {sc.ROUTER_ID}
    assert {r.local_ip for r in framed if ":" in r.peer_ip} == {"::"}
    assert [r.time_us for r in framed] == sorted(r.time_us for r in framed)
    assert [r.time_us for r in framed if r.subtype == 5] == [
        c.header.event_time_us for c in scenario.changes]


# --- bgpkit-parser ----------------------------------------------------------------------


def _bgpkit_element(elem: dict[str, Any]) -> Element:
    if elem["elem_type"] == "W":
        return (elem["peer_ip"], elem["peer_asn"], "W", elem["prefix"], "", "", ())
    return (elem["peer_ip"], elem["peer_asn"], "A", elem["prefix"], elem["as_path"],
            elem["next_hop"] or "",
            tuple(c for c in elem["communities"] or () if not c.startswith("ecas")))


def test_bgpkit_reads_the_rib(scenario: sc.Scenario, rib_file: Path) -> None:
    elems = bgpkit_elems(rib_file)
    assert Counter(_bgpkit_element(e) for e in elems) == expected_rib()
    assert {e["timestamp"] for e in elems} == {scenario.now // 1_000_000}
    b = next(e for e in elems if e["peer_ip"] == sc.B.peer_address)
    assert (b["atomic"], b["aggr_asn"], b["aggr_ip"]) == ("AG", 20005, "10.0.0.5")
    assert b["communities"] == ["ecas2:0:2:65000:00000001"]


def test_bgpkit_reads_the_updates(scenario: sc.Scenario, updates_file: Path) -> None:
    elems = bgpkit_elems(updates_file)
    got: Counter[tuple[bool, Element]] = Counter()
    local = {sc.R.peer_address}  # bgpkit 0.5.2 does not tell _LOCAL records apart
    for elem in elems:
        element = _bgpkit_element(elem)
        if elem["elem_type"] == "A" and ":" in elem["prefix"]:
            # bgpkit-parser 0.5.2 leaves the next hop of MP_REACH_NLRI out of BGP4MP
            # elements (its RIB reading has it, above; bgpdump and mrtparse check these)
            assert elem["next_hop"] is None
            hop = next(a.next_hop for (s, p), a in sc.RIB_IN.items()
                       if p == elem["prefix"] and s.peer_address == elem["peer_ip"]) \
                if elem["prefix"] == "2a0c:9a40::/32" else "2001:db8:1::5"
            element = (*element[:5], hop, *element[6:])
        if elem["peer_ip"] == sc.C.peer_address and elem["elem_type"] == "A":
            # nor does it merge AS4_PATH into the AS_PATH of a 2-octet session's UPDATE
            assert elem["as_path"] == "20006 23456 3333"
            element = (*element[:4], "20006 196700 3333", *element[5:])
        got[(elem["peer_ip"] in local, element)] += 1
    assert got == expected_updates(scenario)
    first = next(t for s, _u, _sent, t in scenario.messages if s == sc.A)
    stamps = sorted({e["timestamp"] for e in elems})
    assert stamps[0] == pytest.approx(first / 1e6, abs=1e-6)
