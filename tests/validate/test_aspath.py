"""The AS_PATH steps: AS_SET, the route server's ASN, length, left-most ASN, invalid ASNs,
transit-free, never via RS."""

from __future__ import annotations

from pathlib import Path

import pytest

from ixrs.config import load_config
from processors.validate import ImportPolicy
from processors.validate.aspath import INVALID_ASN_RANGES
from schemas.attributes import AsPathSegment, SegmentType
from tests.validate.ixp import RS_AS, client_policy, codes, names, route, verdict

PREFIX = "185.50.0.0/24"


def test_a_clean_path_passes() -> None:
    group = verdict(client_policy(), route(20002, 3333, 196615), PREFIX)
    assert group.accepted
    assert group.reasons == ()


def test_as_set_is_refused_by_default() -> None:
    path = (
        AsPathSegment(SegmentType.AS_SEQUENCE, (20002, 3333)),
        AsPathSegment(SegmentType.AS_SET, (196615, 20940)),
    )
    group = verdict(client_policy(), route(segments=path), PREFIX)
    assert not group.accepted
    assert names(group) == ["as_set_in_as_path"]
    assert codes(group) == [65535]


def test_as_set_is_allowed_with_allow_as_set() -> None:
    path = (
        AsPathSegment(SegmentType.AS_SEQUENCE, (20002, 3333)),
        AsPathSegment(SegmentType.AS_SET, (196615, 20940)),
    )
    policy = client_policy({"filtering.allow_as_set": True})
    assert verdict(policy, route(segments=path), PREFIX).reasons == ()


@pytest.mark.parametrize(("length", "ok"), [(32, True), (33, False)])
def test_as_path_length_default_limit(length: int, ok: bool) -> None:
    path = (20002,) * (length - 1) + (3333,)
    group = verdict(client_policy(), route(*path), PREFIX)
    assert (names(group) == []) is ok
    if not ok:
        assert codes(group) == [1]
        assert "33 is over 32" in group.reasons[0].detail


def test_as_path_length_counts_an_as_set_as_one() -> None:
    path = (
        AsPathSegment(SegmentType.AS_SEQUENCE, (20002, 3333)),
        AsPathSegment(SegmentType.AS_SET, (196615, 20940, 13335)),
    )
    policy = client_policy({"filtering.max_as_path_len": 3, "filtering.allow_as_set": True})
    assert verdict(policy, route(segments=path), PREFIX).reasons == ()
    policy = client_policy({"filtering.max_as_path_len": 2, "filtering.allow_as_set": True})
    assert names(verdict(policy, route(segments=path), PREFIX)) == ["as_path_too_long"]


def test_client_level_max_as_path_len_overrides_general() -> None:
    clients = [{"asn": 20002, "ip": "192.0.2.2", "cfg": {"filtering": {"max_as_path_len": 3}}}]
    policy = client_policy({"filtering.max_as_path_len": 10}, clients=clients)
    assert names(verdict(policy, route(20002, 3333, 20940, 13335), PREFIX)) == ["as_path_too_long"]


def test_left_most_asn_must_be_the_peer() -> None:
    group = verdict(client_policy(), route(3333, 20002), PREFIX)
    assert names(group) == ["invalid_left_most_asn"]
    assert codes(group) == [6]
    assert "AS3333" in group.reasons[0].detail and "AS20002" in group.reasons[0].detail


def test_an_empty_as_path_fails_the_left_most_check() -> None:
    group = verdict(client_policy(), route(segments=()), PREFIX)
    assert names(group) == ["invalid_left_most_asn"]


def test_a_path_starting_with_an_as_set_has_no_left_most_asn() -> None:
    path = (AsPathSegment(SegmentType.AS_SET, (20002, 3333)),)
    policy = client_policy({"filtering.allow_as_set": True})
    assert names(verdict(policy, route(segments=path), PREFIX)) == ["invalid_left_most_asn"]


@pytest.mark.parametrize(
    "asn",
    sorted({bound for low, high, _ in INVALID_ASN_RANGES for bound in (low, high)}),
)
def test_every_invalid_asn_range_is_refused_at_both_ends(asn: int) -> None:
    group = verdict(client_policy(), route(20002, asn, 3333), PREFIX)
    assert names(group) == ["invalid_asn_in_as_path"]
    assert codes(group) == [7]


@pytest.mark.parametrize("asn", [1, 23455, 23457, 64495, 131072, 196615, 4199999999])
def test_asns_just_outside_the_invalid_ranges_pass(asn: int) -> None:
    assert verdict(client_policy(), route(20002, asn, 3333), PREFIX).reasons == ()


def test_invalid_asns_pass_when_the_check_is_off() -> None:
    policy = client_policy({"filtering.reject_invalid_as_in_as_path": False})
    assert verdict(policy, route(20002, 64512, 3333), PREFIX).reasons == ()


def test_an_invalid_asn_inside_an_as_set_is_found() -> None:
    path = (
        AsPathSegment(SegmentType.AS_SEQUENCE, (20002,)),
        AsPathSegment(SegmentType.AS_SET, (3333, 65000)),
    )
    policy = client_policy({"filtering.allow_as_set": True})
    assert names(verdict(policy, route(segments=path), PREFIX)) == ["invalid_asn_in_as_path"]


TRANSIT_FREE = {
    "filtering.transit_free.action": "reject",
    "filtering.transit_free.asns": "174, 3356",
}


def test_transit_free_asn_in_the_path_is_refused() -> None:
    group = verdict(client_policy(TRANSIT_FREE), route(20002, 3356, 3333), PREFIX)
    assert names(group) == ["transit_free_asn_in_as_path"]
    assert codes(group) == [8]
    assert "AS3356" in group.reasons[0].detail


def test_a_transit_free_client_may_announce_its_own_routes() -> None:
    clients = [{"asn": 3356, "ip": "192.0.2.9"}]
    policy = client_policy(TRANSIT_FREE, ip="192.0.2.9", clients=clients)
    attrs = route(3356, 3356, 20940, next_hop="192.0.2.9")
    assert verdict(policy, attrs, PREFIX).reasons == ()
    assert names(verdict(policy, route(3356, 174, next_hop="192.0.2.9"), PREFIX)) == [
        "transit_free_asn_in_as_path"
    ]


def test_transit_free_warning_action_does_not_reject() -> None:
    policy = client_policy({**TRANSIT_FREE, "filtering.transit_free.action": "warning"})
    assert verdict(policy, route(20002, 3356, 3333), PREFIX).reasons == ()


def test_transit_free_asns_without_action_are_not_enforced() -> None:
    policy = client_policy({"filtering.transit_free.asns": "3356"})
    assert verdict(policy, route(20002, 3356, 3333), PREFIX).reasons == ()


def test_never_via_route_servers_asns_are_refused() -> None:
    policy = client_policy({"filtering.never_via_route_servers.asns": "15169"})
    group = verdict(policy, route(20002, 15169), PREFIX)
    assert names(group) == ["never_via_route_servers_asn"]
    assert codes(group) == [15]


def test_never_via_route_servers_reads_the_local_asns_file(tmp_path: Path) -> None:
    (tmp_path / "never.txt").write_text("# no route servers please\nAS15169, 8075\n")
    (tmp_path / "general.yml").write_text(
        "cfg:\n  rs_as: 59900\n  router_id: 192.0.2.1\n  filtering:\n"
        "    never_via_route_servers:\n      asns_file: never.txt\n"
        "    irrdb:\n      enforce_origin_in_as_set: False\n      enforce_prefix_in_as_set: False\n"
    )
    (tmp_path / "clients.yml").write_text("clients:\n  - asn: 20002\n    ip: 192.0.2.2\n")
    config = load_config(str(tmp_path / "general.yml"), str(tmp_path / "clients.yml"))
    policy = ImportPolicy(config).for_peer("192.0.2.2")
    assert policy is not None
    assert names(verdict(policy, route(20002, 8075, 3333), PREFIX)) == [
        "never_via_route_servers_asn"
    ]
    assert verdict(policy, route(20002, 3333), PREFIX).reasons == ()


def test_every_failing_path_check_is_reported_in_chain_order() -> None:
    policy = client_policy(
        {
            **TRANSIT_FREE,
            "filtering.never_via_route_servers.asns": "15169",
            "filtering.max_as_path_len": 4,
        }
    )
    group = verdict(policy, route(3333, 3356, 64512, 15169, 20940), PREFIX)
    assert names(group) == [
        "as_path_too_long",
        "invalid_left_most_asn",
        "invalid_asn_in_as_path",
        "transit_free_asn_in_as_path",
        "never_via_route_servers_asn",
    ]
    assert codes(group) == [1, 6, 7, 8, 15]


@pytest.mark.parametrize("path", [(20002, RS_AS, 3333), (20002, 3333, RS_AS)])
def test_the_route_servers_own_asn_in_the_path_is_a_loop(path: tuple[int, ...]) -> None:
    """BIRD (arouteserver's configuration) drops such a route at the session, by loop
    detection (RFC 4271 §9.1.2): no client may receive it (tests/interop/
    test_reference_bird.py found ixrs passing it on)."""
    group = verdict(client_policy(), route(*path), PREFIX)
    assert not group.accepted
    assert names(group) == ["rs_as_in_as_path"]
    assert codes(group) == [65535]
    assert f"AS{RS_AS}" in group.reasons[0].detail


def test_the_route_servers_asn_in_an_as_set_is_a_loop_too() -> None:
    path = (
        AsPathSegment(SegmentType.AS_SEQUENCE, (20002, 3333)),
        AsPathSegment(SegmentType.AS_SET, (RS_AS, 20940)),
    )
    policy = client_policy({"filtering.allow_as_set": True})
    assert names(verdict(policy, route(segments=path), PREFIX)) == ["rs_as_in_as_path"]
