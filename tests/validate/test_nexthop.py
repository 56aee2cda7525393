"""NEXT_HOP (RFC 7948 §4.8): strict, same-as, authorized_addresses."""

from __future__ import annotations

import pytest

from tests.validate.ixp import client_cfg, client_policy, codes, names, route, verdict

V4, V6 = "185.50.0.0/24", "2a0c:9a40::/32"


def test_strict_accepts_the_peers_own_address() -> None:
    assert verdict(client_policy(), route(next_hop="192.0.2.2"), V4).reasons == ()


@pytest.mark.parametrize("next_hop", ["192.0.2.22", "192.0.2.3", "192.0.2.99", None])
def test_strict_refuses_any_other_address(next_hop: str | None) -> None:
    group = verdict(client_policy(), route(next_hop=next_hop), V4)  # type: ignore[arg-type]
    assert names(group) == ["invalid_next_hop"]
    assert codes(group) == [5]


def test_same_as_accepts_another_router_of_the_same_asn() -> None:
    policy = client_policy(
        clients=client_cfg(20002, "192.0.2.2", {"filtering": {"next_hop": {"policy": "same-as"}}})
    )
    assert verdict(policy, route(next_hop="192.0.2.22"), V4).reasons == ()
    assert verdict(policy, route(next_hop="192.0.2.2"), V4).reasons == ()


def test_same_as_refuses_another_asns_router() -> None:
    # RFC 7948 §4.8: rewriting to a router of a different AS is the hijack.
    policy = client_policy(
        clients=client_cfg(20002, "192.0.2.2", {"filtering": {"next_hop": {"policy": "same-as"}}})
    )
    assert names(verdict(policy, route(next_hop="192.0.2.3"), V4)) == ["invalid_next_hop"]


def test_same_as_is_a_general_policy_too() -> None:
    policy = client_policy({"filtering.next_hop.policy": "same-as"})
    assert verdict(policy, route(next_hop="192.0.2.22"), V4).reasons == ()


def test_authorized_addresses() -> None:
    cfg = {
        "filtering": {
            "next_hop": {
                "policy": "authorized_addresses",
                "authorized_addresses_list": ["192.0.2.50", "2001:db8:1::50"],
            }
        }
    }
    policy = client_policy(clients=client_cfg(20002, "192.0.2.2", cfg))
    assert verdict(policy, route(next_hop="192.0.2.50"), V4).reasons == ()
    # Only the listed addresses: not even the client's own.
    assert names(verdict(policy, route(next_hop="192.0.2.2"), V4)) == ["invalid_next_hop"]
    # An address of the other family does not count on an IPv4 session.
    assert names(verdict(policy, route(next_hop="2001:db8:1::50"), V4)) == ["invalid_next_hop"]


def test_ipv6_session_compares_canonical_addresses() -> None:
    policy = client_policy(ip="2001:db8:1::2")
    attrs = route(next_hop="2001:DB8:1:0::2")
    assert verdict(policy, attrs, V6).reasons == ()
    assert names(verdict(policy, route(next_hop="2001:db8:1::3"), V6)) == ["invalid_next_hop"]


def test_same_as_on_ipv6_uses_only_ipv6_addresses() -> None:
    policy = client_policy({"filtering.next_hop.policy": "same-as"}, ip="2001:db8:1::2")
    assert policy.next_hops == frozenset({"2001:db8:1::2"})


def test_link_local_client_address_is_not_checked() -> None:
    clients = [{"asn": 20002, "ip": "fe80::2"}]
    policy = client_policy(ip="fe80::2", clients=clients)
    assert verdict(policy, route(next_hop="2001:db8:1::77"), V6).reasons == ()


def test_the_detail_names_next_hop_and_allowed_addresses() -> None:
    group = verdict(client_policy(), route(next_hop="192.0.2.3"), V4)
    detail = group.reasons[0].detail
    assert "192.0.2.3" in detail and "192.0.2.2" in detail and "strict" in detail
