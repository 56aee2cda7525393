"""Hypothesis strategies for values the BGP wire can carry, per session context."""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from schemas.attributes import (
    Aggregator,
    AsPathSegment,
    Attributes,
    Origin,
    RawAttribute,
    SegmentType,
)
from speaker.codec import (
    AddPath,
    AddPathFamily,
    BgpRole,
    EnhancedRouteRefresh,
    ExtendedMessage,
    FourOctetAs,
    GracefulRestart,
    GracefulRestartFamily,
    Keepalive,
    MpReach,
    MpUnreach,
    Multiprotocol,
    Negotiated,
    Notification,
    Open,
    RouteRefresh,
    RouteRefreshCapability,
    UnknownCapability,
    Update,
)
from speaker.codec.attributes import STANDARD_FLAGS
from speaker.codec.capabilities import CapabilityCode

# For tests with many or large examples: no per-example deadline, no slow-data check.
UNHURRIED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)

ipv4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
# Bias towards the IPv4-mapped/compatible corner, where libc's text differs.
_v6_ints = st.one_of(
    st.integers(0, 2**128 - 1),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1).map(lambda n: 0xFFFF_0000_0000 | n),
)
ipv6 = _v6_ints.map(lambda n: str(ipaddress.IPv6Address(n)))


def _network(width: int, n: int, length: int) -> int:
    return (n >> (width - length) << (width - length)) if length else 0


prefix_v4 = st.builds(
    lambda n, length: str(ipaddress.IPv4Network((_network(32, n, length), length))),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)
prefix_v6 = st.builds(
    lambda n, length: str(ipaddress.IPv6Network((_network(128, n, length), length))),
    _v6_ints,
    st.integers(0, 128),
)

_NON_CONFED = st.sampled_from((SegmentType.AS_SEQUENCE, SegmentType.AS_SET))
_CONFED = st.sampled_from((SegmentType.AS_CONFED_SEQUENCE, SegmentType.AS_CONFED_SET))


def _segments(kinds: st.SearchStrategy[SegmentType], asns: st.SearchStrategy[int]):
    return st.builds(AsPathSegment, kinds, st.lists(asns, min_size=1, max_size=12).map(tuple))


def as_paths(four_octet_as: bool) -> st.SearchStrategy[tuple[AsPathSegment, ...]]:
    """Paths as a real speaker sends them: confederation segments first.

    Towards a 2-octet speaker, confederation members must fit 2 octets, as the
    AS4_PATH that carries the true ASNs never holds confederation segments.
    """
    confed_asns = u32 if four_octet_as else u16
    return st.builds(
        lambda lead, rest: (*lead, *rest),
        st.lists(_segments(_CONFED, confed_asns), max_size=1),
        st.lists(_segments(_NON_CONFED, u32), max_size=4),
    )


_UNKNOWN_TYPES = st.integers(0, 255).filter(lambda code: code not in STANDARD_FLAGS)
# What the decoder keeps of an unknown attribute: optional transitive, and the
# Partial bit set, as the encoder sets it when passing one on (RFC 4271 §5).
unknown_attributes = st.lists(
    st.builds(RawAttribute, st.just(0xE0), _UNKNOWN_TYPES, st.binary(max_size=300)),
    max_size=3,
    unique_by=lambda a: a.type_code,
).map(lambda attrs: tuple(sorted(attrs, key=lambda a: a.type_code)))


def attributes(negotiated: Negotiated, next_hop: st.SearchStrategy[str | None]):
    return st.builds(
        Attributes,
        origin=st.sampled_from(Origin),
        as_path=as_paths(negotiated.four_octet_as),
        next_hop=next_hop,
        med=st.none() | u32,
        # RFC 4271 §5.1.5: only an iBGP session carries LOCAL_PREF.
        local_pref=(st.none() | u32) if negotiated.ibgp else st.none(),
        atomic_aggregate=st.booleans(),
        aggregator=st.none() | st.builds(Aggregator, u32, ipv4),
        communities=st.lists(st.tuples(u16, u16), max_size=6).map(tuple),
        ext_communities=st.lists(st.binary(min_size=8, max_size=8), max_size=4).map(tuple),
        large_communities=st.lists(st.tuples(u32, u32, u32), max_size=4).map(tuple),
        otc=st.none() | u32,
        unknown=unknown_attributes,
    )


def _mp_reach(size: int) -> st.SearchStrategy[MpReach]:
    return st.one_of(
        st.builds(MpReach, st.just(2), st.just(1), ipv6, st.none() | ipv6,
                  st.lists(prefix_v6, max_size=size).map(tuple)),
        st.builds(MpReach, st.just(1), st.just(1), ipv4, st.none(),
                  st.lists(prefix_v4, max_size=size).map(tuple)),
    )


def _mp_unreach(size: int) -> st.SearchStrategy[MpUnreach]:
    return st.one_of(
        st.builds(MpUnreach, st.just(2), st.just(1), st.lists(prefix_v6, max_size=size).map(tuple)),
        st.builds(MpUnreach, st.just(1), st.just(1), st.lists(prefix_v4, max_size=size).map(tuple)),
    )


@st.composite
def updates(draw: st.DrawFn, negotiated: Negotiated, size: int = 20) -> Update:
    """UPDATEs that decode without any RFC 7606 note: NLRI come with the
    mandatory attributes, and a NEXT_HOP when the body carries NLRI."""
    nlri = tuple(draw(st.lists(prefix_v4, max_size=size)))
    mp_reach = draw(st.none() | _mp_reach(size))
    reachable = bool(nlri) or (mp_reach is not None and bool(mp_reach.nlri))
    next_hop = ipv4 if nlri else st.none() | ipv4
    attrs_strategy = attributes(negotiated, next_hop)
    attrs = draw(attrs_strategy if reachable else st.none() | attrs_strategy)
    return Update(
        withdrawn=tuple(draw(st.lists(prefix_v4, max_size=size))),
        attributes=attrs,
        nlri=nlri,
        mp_reach=mp_reach,
        mp_unreach=draw(st.none() | _mp_unreach(size)),
    )


_families = st.sampled_from(((1, 1), (2, 1), (1, 2), (25, 65)))
capabilities = st.one_of(
    st.builds(Multiprotocol, st.sampled_from((1, 2)), st.sampled_from((1, 2, 128))),
    st.builds(RouteRefreshCapability, st.sampled_from((2, 128))),
    st.just(EnhancedRouteRefresh()),
    st.just(ExtendedMessage()),
    st.builds(FourOctetAs, u32),
    st.builds(
        GracefulRestart,
        st.booleans(),
        st.booleans(),
        st.integers(0, 4095),
        st.lists(
            st.builds(lambda f, fwd: GracefulRestartFamily(*f, fwd), _families, st.booleans()),
            max_size=4,
        ).map(tuple),
    ),
    st.builds(
        AddPath,
        st.lists(
            st.builds(lambda f, mode: AddPathFamily(*f, mode), _families, st.integers(1, 3)),
            min_size=1,
            max_size=4,
        ).map(tuple),
    ),
    st.builds(
        UnknownCapability,
        st.integers(0, 255).filter(lambda code: code not in set(CapabilityCode)),
        st.binary(max_size=255),
    ),
)


@st.composite
def opens(draw: st.DrawFn) -> Open:
    caps = draw(st.lists(capabilities, max_size=12))
    role = draw(st.none() | st.integers(0, 255))
    if role is not None:
        caps.insert(draw(st.integers(0, len(caps))), BgpRole(role))
    return Open(
        my_as=draw(u16),
        hold_time=draw(st.just(0) | st.integers(3, 0xFFFF)),
        bgp_id=draw(ipv4.filter(lambda a: a != "0.0.0.0")),
        capabilities=tuple(caps),
    )


def messages(negotiated: Negotiated) -> st.SearchStrategy:
    return st.one_of(
        opens(),
        updates(negotiated),
        st.builds(Notification, u8, u8, st.binary(max_size=64)),
        st.just(Keepalive()),
        st.builds(RouteRefresh, u16, u8, u8),
    )


negotiations = st.builds(
    Negotiated,
    four_octet_as=st.booleans(),
    extended_message=st.booleans(),
    ibgp=st.booleans(),
)
