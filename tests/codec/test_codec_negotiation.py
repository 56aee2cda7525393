"""The session context from two OPENs, and the capabilities in them."""

from __future__ import annotations

import pytest

from speaker.codec import (
    IPV4_UNICAST,
    IPV6_UNICAST,
    AddPath,
    AddPathFamily,
    BgpRole,
    EnhancedRouteRefresh,
    ExtendedMessage,
    FourOctetAs,
    GracefulRestart,
    GracefulRestartFamily,
    Multiprotocol,
    Open,
    RouteRefreshCapability,
    UnknownCapability,
    negotiate,
)
from speaker.codec.capabilities import decode_capabilities
from speaker.codec.errors import Malformed


def _open(asn: int, *caps) -> Open:
    return Open(min(asn, 23456), 90, "192.0.2.1", (FourOctetAs(asn), *caps))


def test_capabilities_count_only_when_both_sides_advertise_them() -> None:
    local = _open(65000, ExtendedMessage(), RouteRefreshCapability(), EnhancedRouteRefresh())
    remote = Open(65001, 90, "192.0.2.2", (RouteRefreshCapability(128),))
    n = negotiate(local, remote)
    assert (n.four_octet_as, n.extended_message, n.enhanced_route_refresh) == (False, False, False)
    assert n.route_refresh  # code 2 and Cisco's 128 are the same capability
    assert n.max_message_size == 4096 and n.asn_size == 2


def test_both_sides_agreeing_gives_4_octet_asns_and_extended_messages() -> None:
    local = _open(65000, ExtendedMessage())
    remote = _open(4200000000, ExtendedMessage())
    n = negotiate(local, remote)
    assert n.four_octet_as and n.extended_message and not n.ibgp
    assert n.max_message_size == 65535


def test_families_are_the_intersection_and_default_to_ipv4_unicast() -> None:
    both = _open(1, Multiprotocol(1, 1), Multiprotocol(2, 1))
    assert negotiate(both, _open(2, Multiprotocol(2, 1))).families == {IPV6_UNICAST}
    assert negotiate(both, _open(2)).families == {IPV4_UNICAST}


def test_same_asn_is_ibgp() -> None:
    assert negotiate(_open(4200000000), _open(4200000000)).ibgp


@pytest.mark.parametrize(
    ("wire", "cap"),
    [
        (b"\x40\x06\x80\x78\x00\x01\x01\x80", GracefulRestart(
            True, False, 120, (GracefulRestartFamily(1, 1, True),))),
        (b"\x40\x02\x40\x00", GracefulRestart(False, True, 0, ())),
        (b"\x45\x08\x00\x01\x01\x03\x00\x02\x01\x01", AddPath(
            (AddPathFamily(1, 1, 3), AddPathFamily(2, 1, 1)))),
        (b"\x09\x01\x01", BgpRole(1)),
        (b"\x46\x00", EnhancedRouteRefresh()),
        (b"\x80\x00", RouteRefreshCapability(128)),
        (b"\x49\x03abc", UnknownCapability(73, b"abc")),
    ],
)
def test_capabilities_decode_to_typed_values(wire: bytes, cap) -> None:
    assert decode_capabilities(wire) == (cap,)


@pytest.mark.parametrize("wire", [b"\x40\x03\x00\x00\x00", b"\x45\x03\x00\x01\x01", b"\x09\x00",
                                  b"\x41\x02\x00\x01", b"\x06\x01\x00", b"\x02"])
def test_impossible_capability_lengths_are_malformed(wire: bytes) -> None:
    with pytest.raises(Malformed):
        decode_capabilities(wire)
