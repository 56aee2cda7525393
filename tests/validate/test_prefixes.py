"""Per-prefix steps: address family, 2000::/3, black lists, bogons, prefix length."""

from __future__ import annotations

import pytest
import yaml

from ixrs.config import ConfigError
from processors.validate import DEFAULT_BOGONS, PolicyData, parse_bogons
from processors.validate.net import parse_prefix
from tests.validate.ixp import client_cfg, client_policy, codes, names, route, verdict

V6_PEER = "2001:db8:1::2"


def v6route(*path: int) -> object:
    return route(*path, next_hop=V6_PEER)


def test_an_ipv6_prefix_on_an_ipv4_session_is_refused() -> None:
    group = verdict(client_policy(), route(), "2a0c:9a40::/32")
    assert names(group) == ["afi_not_enabled"]
    assert codes(group) == [65535]


def test_an_ipv4_prefix_on_an_ipv6_session_is_refused() -> None:
    policy = client_policy(ip=V6_PEER)
    assert names(verdict(policy, v6route(), "185.50.0.0/24")) == ["afi_not_enabled"]


@pytest.mark.parametrize(
    ("prefix", "ok"),
    [
        ("2a0c:9a40::/32", True),
        ("2001:678::/32", True),
        ("3fff:1000::/24", True),
        ("4000:1::/32", False),  # outside 2000::/3 (and a bogon)
        ("fc00:1::/48", False),
        ("2000::/3", True),  # the /3 itself
        ("::/2", False),  # shorter, covering more than 2000::/3
    ],
)
def test_ipv6_must_be_global_unicast(prefix: str, ok: bool) -> None:
    policy = client_policy({"filtering.ipv6_pref_len": {"min": 2, "max": 48}}, ip=V6_PEER)
    group = verdict(policy, v6route(), prefix)
    assert ("ipv6_not_global_unicast" not in names(group)) is ok
    if not ok:
        assert 10 in codes(group)


BLACK_LIST = {
    "filtering.global_black_list_pref": [
        {"prefix": "185.50.0.0", "length": 22, "comment": "IXP services"},
        {"prefix": "193.0.0.0", "length": 16, "le": 20},
        {"prefix": "2a0c:9a40::", "length": 32, "exact": True},
    ]
}


@pytest.mark.parametrize(
    ("prefix", "listed"),
    [
        ("185.50.0.0/22", True),  # the entry itself
        ("185.50.2.0/24", True),  # any more specific: le defaults to 32
        ("185.50.0.0/21", False),  # shorter: not within it
        ("185.50.4.0/24", False),
        ("193.0.16.0/20", True),
        ("193.0.16.0/21", False),  # longer than le
        ("2a0c:9a40::/32", True),  # exact
        ("2a0c:9a40:1::/48", False),  # exact: not its more specifics
    ],
)
def test_global_black_list_semantics(prefix: str, listed: bool) -> None:
    ip = V6_PEER if ":" in prefix else "192.0.2.2"
    attrs = v6route() if ":" in prefix else route()
    group = verdict(client_policy(BLACK_LIST, ip=ip), attrs, prefix)
    assert ("in_global_black_list" in names(group)) is listed
    if listed:
        assert 3 in codes(group)


def test_global_black_list_detail_names_the_entry() -> None:
    group = verdict(client_policy(BLACK_LIST), route(), "185.50.1.0/24")
    assert (
        group.reasons[0].detail
        == "within global black list entry 185.50.0.0/22{22,32} (IXP services)"
    )


def test_client_black_list_with_ge() -> None:
    cfg = {"filtering": {"black_list_pref": [{"prefix": "185.50.0.0", "length": 16, "ge": 24}]}}
    policy = client_policy(clients=client_cfg(20002, "192.0.2.2", cfg))
    group = verdict(policy, route(), "185.50.3.0/24")
    assert names(group) == ["in_client_black_list"]
    assert codes(group) == [11]
    assert verdict(policy, route(), "185.50.0.0/23").reasons == ()  # shorter than ge
    # Another client is not affected by it.
    other = client_policy(ip="192.0.2.3", clients=client_cfg(20002, "192.0.2.2", cfg))
    assert verdict(other, route(20003, next_hop="192.0.2.3"), "185.50.3.0/24").reasons == ()


@pytest.mark.parametrize(
    "prefix",
    [
        "10.0.0.0/8",
        "10.20.0.0/16",
        "192.168.1.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "203.0.113.0/24",
        "100.64.0.0/10",
        "224.0.0.0/4",
        "0.0.0.0/0",
        "127.0.0.0/8",
    ],
)
def test_default_bogons_v4(prefix: str) -> None:
    policy = client_policy({"filtering.ipv4_pref_len": {"min": 0, "max": 24}})
    group = verdict(policy, route(), prefix)
    assert names(group) == ["bogon"]
    assert codes(group) == [2]


@pytest.mark.parametrize(
    "prefix", ["2001:db8::/32", "2001:db8:42::/48", "2002::/16", "fe80::/10", "::/0", "2001::/33"]
)
def test_default_bogons_v6(prefix: str) -> None:
    policy = client_policy({"filtering.ipv6_pref_len": {"min": 0, "max": 48}}, ip=V6_PEER)
    assert "bogon" in names(verdict(policy, v6route(), prefix))


@pytest.mark.parametrize("prefix", ["185.50.0.0/24", "1.1.1.0/24", "8.0.0.0/8", "11.0.0.0/8"])
def test_public_v4_prefixes_are_not_bogons(prefix: str) -> None:
    assert DEFAULT_BOGONS.rules.match(parse_prefix(prefix)) is None


def test_the_default_route_entry_is_exact() -> None:
    # 0.0.0.0/0 is a bogon, not every prefix within it.
    assert DEFAULT_BOGONS.rules.match(parse_prefix("0.0.0.0/0")) is not None
    assert DEFAULT_BOGONS.rules.match(parse_prefix("0.0.0.0/1")) is None


def test_bogons_can_be_replaced_by_a_file() -> None:
    document = yaml.safe_load(
        "bogons:\n"
        "  - prefix: 185.50.0.0\n    length: 16\n    comment: our test bogon\n"
        '  - prefix: "2a0c:9a40::"\n    length: 32\n    exact: true\n'
    )
    bogons = parse_bogons(document, "bogons.yml")
    data = PolicyData(bogons=bogons)
    group = verdict(client_policy(), route(), "185.50.7.0/24", data)
    assert names(group) == ["bogon"]
    assert "our test bogon" in group.reasons[0].detail
    # The defaults are replaced, not extended.
    assert verdict(client_policy(), route(), "10.0.0.0/8", data).reasons == ()
    assert bogons.version != DEFAULT_BOGONS.version


def test_a_bogons_file_with_a_bad_entry_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="bogons"):
        parse_bogons({"bogons": [{"prefix": "10.0.0.1", "length": 8}]}, "bogons.yml")


@pytest.mark.parametrize(
    ("prefix", "ok"),
    [
        ("185.50.0.0/24", True),
        ("185.50.0.0/25", False),
        ("185.0.0.0/8", True),
        ("184.0.0.0/7", False),
    ],
)
def test_ipv4_prefix_length_default_limits(prefix: str, ok: bool) -> None:
    group = verdict(client_policy(), route(), prefix)
    assert (group.reasons == ()) is ok
    if not ok:
        assert names(group) == ["invalid_prefix_length"]
        assert codes(group) == [13]


@pytest.mark.parametrize(
    ("prefix", "ok"),
    [
        ("2a0c:9a40::/48", True),
        ("2a0c:9a40::/49", False),
        ("2a00::/12", True),
        ("2a00::/11", False),
    ],
)
def test_ipv6_prefix_length_default_limits(prefix: str, ok: bool) -> None:
    group = verdict(client_policy(ip=V6_PEER), v6route(), prefix)
    assert (group.reasons == ()) is ok


def test_prefix_length_limits_per_client() -> None:
    cfg = {"filtering": {"ipv4_pref_len": {"min": 16, "max": 22}}}
    policy = client_policy(clients=client_cfg(20002, "192.0.2.2", cfg))
    assert names(verdict(policy, route(), "185.50.0.0/24")) == ["invalid_prefix_length"]
    assert verdict(policy, route(), "185.50.0.0/22").reasons == ()


def test_a_malformed_prefix_is_reported_and_never_accepted() -> None:
    policy = client_policy(
        {
            "filtering.reject_policy.policy": "tag",
            "communities.reject_cause.lrg": "rs_as:65520:dyn_val",
        }
    )
    group = verdict(policy, route(), "185.50.0.1/24")
    assert names(group) == ["malformed_prefix"]
    assert not group.accepted
