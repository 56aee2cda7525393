"""Hypothesis strategies for ixrs values and events, shared by the test suites."""

from __future__ import annotations

import ipaddress

from hypothesis import strategies as st

from schemas import events as ev
from schemas.attributes import (
    Aggregator,
    AsPathSegment,
    Attributes,
    Origin,
    RawAttribute,
    SegmentType,
)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
i31 = st.integers(0, 2**31 - 1)
i63 = st.integers(0, 2**63 - 1)
# Avro strings are UTF-8: exclude lone surrogates, which UTF-8 cannot carry.
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)

ipv4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
ipv6 = st.integers(0, 2**128 - 1).map(lambda n: str(ipaddress.IPv6Address(n)))
address = st.one_of(ipv4, ipv6)


@st.composite
def prefix_v4(draw: st.DrawFn) -> str:
    length = draw(st.integers(0, 32))
    net = draw(st.integers(0, 2**32 - 1)) >> (32 - length) << (32 - length) if length else 0
    return str(ipaddress.IPv4Network((net, length)))


@st.composite
def prefix_v6(draw: st.DrawFn) -> str:
    length = draw(st.integers(0, 128))
    net = draw(st.integers(0, 2**128 - 1)) >> (128 - length) << (128 - length) if length else 0
    return str(ipaddress.IPv6Network((net, length)))


prefix = st.one_of(prefix_v4(), prefix_v6())
prefixes = st.lists(prefix, max_size=8).map(tuple)

segments = st.builds(
    AsPathSegment, st.sampled_from(SegmentType), st.lists(u32, min_size=1, max_size=6).map(tuple)
)
attributes = st.builds(
    Attributes,
    origin=st.sampled_from(Origin),
    as_path=st.lists(segments, max_size=4).map(tuple),
    next_hop=st.none() | address,
    next_hop_link_local=st.none() | ipv6,
    med=st.none() | u32,
    local_pref=st.none() | u32,
    atomic_aggregate=st.booleans(),
    aggregator=st.none() | st.builds(Aggregator, u32, ipv4),
    communities=st.lists(st.tuples(u16, u16), max_size=5).map(tuple),
    ext_communities=st.lists(st.binary(min_size=8, max_size=8), max_size=3).map(tuple),
    large_communities=st.lists(st.tuples(u32, u32, u32), max_size=3).map(tuple),
    otc=st.none() | u32,
    unknown=st.lists(st.builds(RawAttribute, u8, u8, st.binary(max_size=16)), max_size=2).map(
        tuple
    ),
)

header = st.builds(ev.EventHeader, text, i63, i63, text)
session = st.builds(ev.Session, text, address, u32, st.builds(ev.Epoch, text, i63), ipv4)
position = st.builds(ev.Position, text, i31, i63)
route = st.builds(ev.Route, session, attributes, ipv4)
reason = st.builds(ev.Reason, st.integers(0, 65535), text, text)
strings = st.lists(text, max_size=4).map(tuple)

EVENTS = {
    ev.SessionChange: st.builds(
        ev.SessionChange, header, session, st.sampled_from(ev.SessionState),
        st.sampled_from(ev.SessionState), text,
        st.none() | st.builds(ev.NotificationInfo, st.booleans(), u8, u8, st.binary(max_size=8)),
        text, strings, st.booleans(),
    ),
    ev.ReceivedRoutes: st.builds(
        ev.ReceivedRoutes, header, session, i63, st.none() | attributes, prefixes, prefixes,
        strings,
    ),
    ev.ReceivedUpdates: st.builds(
        ev.ReceivedUpdates, header, session,
        st.lists(st.builds(ev.UpdatePart, i63, st.none() | attributes, prefixes, prefixes,
                           strings), max_size=3).map(tuple),
    ),
    ev.RawUpdate: st.builds(ev.RawUpdate, header, session, i63, st.binary(max_size=64)),
    ev.RawUpdates: st.builds(ev.RawUpdates, header, session, i63,
                             st.lists(st.binary(max_size=64), max_size=3).map(tuple)),
    ev.SpeakerIncarnation: st.builds(ev.SpeakerIncarnation, header, text, text),
    ev.Verdict: st.builds(
        ev.Verdict, header, text, position, session,
        st.lists(
            st.builds(ev.VerdictGroup, prefixes, st.booleans(),
                      st.lists(reason, max_size=3).map(tuple), st.none() | attributes),
            max_size=3,
        ).map(tuple),
        st.lists(st.builds(ev.DataSetRef, text, text, text), max_size=3).map(tuple),
    ),
    ev.Decision: st.builds(
        ev.Decision, header, text, position, prefix, st.none() | route, text, i31,
        st.lists(st.builds(ev.ClientOutcome, address, st.none() | route, text), max_size=3).map(
            tuple
        ),
    ),
    ev.Decisions: st.builds(
        ev.Decisions, header, position,
        st.lists(st.builds(
            ev.DecisionGroup, st.lists(prefix, min_size=1, max_size=3).map(tuple),
            st.none() | route, text, i31,
            st.lists(st.builds(ev.ClientOutcome, address, st.none() | route, text),
                     max_size=3).map(tuple)), min_size=1, max_size=3).map(tuple),
    ),
    ev.SentUpdate: st.builds(ev.SentUpdate, header, session, st.binary(max_size=64), strings,
                             text),
    ev.ConfigVersion: st.builds(
        ev.ConfigVersion, header, text, text,
        st.lists(st.builds(ev.SourceFile, text, text), max_size=2).map(tuple),
    ),
    ev.DataSetVersion: st.builds(ev.DataSetVersion, header, text, text, text, i31, i63, text),
    ev.DataSetChunk: st.builds(
        ev.DataSetChunk, header, text, text, text, i31,
        st.lists(st.builds(ev.Vrp, prefix, st.integers(0, 128), u32, text), max_size=4).map(tuple),
        st.lists(
            st.builds(ev.IrrPrefix, text, prefix, st.booleans(), st.none() | st.integers(0, 128),
                      st.none() | st.integers(0, 128)),
            max_size=4,
        ).map(tuple),
    ),
    ev.DataSetMarker: st.builds(ev.DataSetMarker, header, text, text, text),
    ev.BrokerIncarnation: st.builds(ev.BrokerIncarnation, header, text),
    ev.PeerNotice: st.builds(ev.PeerNotice, header, text, address, st.none() | u32, text, text,
                             text, st.none() | session, i63),
}
