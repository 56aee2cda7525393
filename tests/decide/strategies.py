"""Hypothesis strategies: client policies, and candidate sets full of control communities."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from processors.control import BLACKHOLE, NO_ADVERTISE, NO_EXPORT, RPKI_INVALID_EXT
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import Epoch, Route, Session
from tests.decide.build import RS_AS, client_doc, config

# Few values, so that ties, shared neighbour ASes and loops are common.
CLIENT_ASNS = (20002, 3333, 196615, 8283, 212232)
MAPPED = {196615: 64512, 212232: 64513}
OTHER_ASNS = (15169, 13335)
ADDRESSES = (
    *(f"192.0.2.{n}" for n in (2, 3, 4, 5, 6, 7, 10, 11)),
    *(f"2001:db8:1::{n}" for n in (2, 3, 4, 5, 10)),
)
ROUTER_IDS = ("192.0.2.1", "192.0.2.2", "10.0.0.1", "")


def ext_rt(high: int, low: int) -> bytes:
    """An RFC 4360 route target, encoded as BIRD encodes (rt, high, low)."""
    if high <= 0xFFFF:
        return bytes((0x00, 0x02)) + high.to_bytes(2) + low.to_bytes(4)
    return bytes((0x02, 0x02)) + high.to_bytes(4) + low.to_bytes(2)


@st.composite
def client_entry(draw: st.DrawFn, ip: str, asn: int, mapped: bool) -> dict[str, Any]:
    cfg: dict[str, Any] = {}
    if draw(st.booleans()):
        cfg["prepend_rs_as"] = draw(st.booleans())
    blackhole: dict[str, Any] = {}
    if draw(st.booleans()):
        blackhole["announce_to_client"] = draw(st.booleans())
    if draw(st.booleans()):
        blackhole["client_community"] = {
            "std": draw(st.sampled_from(["65535:666", "64999:666"])),
            "lrg": f"{asn}:666:0",
            "action": draw(st.sampled_from(["add", "replace"])),
        }
    if blackhole:
        cfg["blackhole_filtering"] = blackhole
    if mapped and asn in MAPPED:
        cfg["mapped"] = MAPPED[asn]
    if ":" in ip and draw(st.booleans()):
        cfg["rfc8950"] = True  # the IPv6 session carries IPv4 too
    return client_doc(ip, asn, **cfg)


@st.composite
def policies(draw: st.DrawFn) -> Any:
    """A configuration: 2-8 client sessions with random policies, random general options."""
    ips = draw(st.lists(st.sampled_from(ADDRESSES), min_size=2, max_size=8, unique=True))
    mapped = draw(st.booleans())
    # A few ASNs for many sessions: routes from one neighbour AS make MED matter.
    asns = draw(st.lists(st.sampled_from(CLIENT_ASNS), min_size=2, max_size=5, unique=True))
    entries = [draw(client_entry(ip, draw(st.sampled_from(asns)), mapped)) for ip in ips]
    return config(entries, **draw(general_options()))


@st.composite
def general_options(draw: st.DrawFn) -> dict[str, Any]:
    """The general.yml options the export policy reads, drawn at random."""
    return {
        "rfc1997_wellknown_communities": {"policy": draw(st.sampled_from(["pass", "rfc1997"]))},
        "blackhole_filtering": {
            "policy_ipv4": draw(st.sampled_from([None, "propagate-unchanged"])),
            "policy_ipv6": draw(st.sampled_from([None, "propagate-unchanged"])),
            "announce_to_client": draw(st.booleans()),
            "add_noexport": draw(st.booleans()),
        },
    }


def _targets() -> st.SearchStrategy[int]:
    return st.sampled_from((*CLIENT_ASNS, *MAPPED.values(), 0, 64999, RS_AS))


def _std() -> st.SearchStrategy[tuple[int, int]]:
    small = _targets().filter(lambda v: v <= 0xFFFF)
    return st.one_of(
        st.sampled_from(
            [
                (0, RS_AS),
                NO_EXPORT,
                NO_ADVERTISE,
                BLACKHOLE,
                (20002, 100),
                (3333, 7),
                *((65500 + n, RS_AS) for n in range(1, 6)),
            ]
        ),
        st.tuples(st.sampled_from([0, RS_AS, 65501, 65502, 65503, 65504, 65505]), small),
    )


def _lrg() -> st.SearchStrategy[tuple[int, int, int]]:
    rs = st.just(RS_AS)
    return st.one_of(
        st.just((RS_AS, 666, 0)),  # blackholing
        st.tuples(rs, st.sampled_from([0, 1]), _targets()),  # (do not) announce to a peer
        st.tuples(rs, st.sampled_from([101, 102, 103, 901, 902]), st.sampled_from(CLIENT_ASNS)),
        st.tuples(
            rs,
            st.sampled_from([0, 101, 102, 103, 901, 902, 1000, 2000, 65535]),
            st.sampled_from([0, 1, 4]),
        ),
    )


def _ext() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.builds(ext_rt, st.sampled_from([0, RS_AS]), _targets()),
        st.just(RPKI_INVALID_EXT),
        st.just(bytes((0x40, 0x02, 0, 1, 0, 0, 0, 1))),  # non-transitive
    )


@st.composite
def attributes(draw: st.DrawFn, peer_asn: int, plain: bool = False) -> Attributes:
    """Random attributes; `plain` ones tie up to MED (same LOCAL_PREF, path length, ORIGIN)."""
    size = 1 if plain else draw(st.integers(0, 2))
    transit = draw(
        st.lists(
            st.sampled_from((*CLIENT_ASNS, *OTHER_ASNS, *OTHER_ASNS)), min_size=size, max_size=size
        )
    )
    path = (AsPathSegment(SegmentType.AS_SEQUENCE, (peer_asn, *transit)),)
    if not plain and draw(st.integers(0, 3)) == 0:
        members = draw(st.lists(st.sampled_from(OTHER_ASNS + CLIENT_ASNS), min_size=1, max_size=2))
        path += (AsPathSegment(SegmentType.AS_SET, tuple(members)),)
    return Attributes(
        origin=Origin.IGP
        if plain
        else draw(st.sampled_from([Origin.IGP, Origin.EGP, Origin.INCOMPLETE])),
        as_path=path,
        next_hop="192.0.2.250",
        med=draw(st.sampled_from([None, 0, 10, 20])),
        local_pref=None if plain else draw(st.sampled_from([None, None, 50, 100, 200])),
        communities=tuple(draw(st.lists(_std(), max_size=2, unique=True))),
        large_communities=tuple(draw(st.lists(_lrg(), max_size=2, unique=True))),
        ext_communities=tuple(draw(st.lists(_ext(), max_size=1, unique=True))),
    )


@st.composite
def candidate_sets(draw: st.DrawFn, sessions: list[tuple[str, int]]) -> list[Route]:
    """One route from each of some of the given sessions (address, ASN)."""
    chosen = draw(st.lists(st.sampled_from(sessions), unique=True, min_size=min(2, len(sessions))))
    plain = draw(st.booleans())
    return [
        Route(
            Session("speaker-1", ip, asn, Epoch("incarnation-1", 1)),
            draw(attributes(asn, plain)),
            draw(st.sampled_from(ROUTER_IDS)),
        )
        for ip, asn in chosen
    ]
