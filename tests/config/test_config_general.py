"""general.yml: defaults as arouteserver's, normalization, and the ixrs extensions."""

from pathlib import Path
from typing import Any

import pytest
from config_helpers import general_with, minimal_general

from ixrs.config.codec import to_plain
from ixrs.config.general import GeneralConfig, parse_general
from ixrs.config.legacy import upgrade_general
from ixrs.config.prefixes import PrefixLenRange


def parse(document: dict[str, Any], path: str = "general.yml") -> GeneralConfig:
    return parse_general(upgrade_general(document, path), path)


def test_defaults() -> None:
    general = parse(minimal_general())
    filtering = general.filtering
    assert (general.rs_as, general.router_id) == (59900, ("192.0.2.1",))
    assert (general.prepend_rs_as, general.path_hiding, general.passive) == (False, True, True)
    assert (general.gtsm, general.add_path, general.rfc8950, general.multihop) == (
        False,
        False,
        False,
        None,
    )
    assert filtering.next_hop.policy == "strict"
    assert filtering.ipv4_pref_len == PrefixLenRange(8, 24)
    assert filtering.ipv6_pref_len == PrefixLenRange(12, 48)
    assert filtering.max_as_path_len == 32
    assert filtering.reject_invalid_as_in_as_path is True
    assert filtering.allow_as_set is False
    assert (filtering.transit_free.action, filtering.transit_free.asns) == (None, ())
    assert filtering.irrdb.enforce_origin_in_as_set is True
    assert filtering.irrdb.enforce_prefix_in_as_set is True
    assert filtering.irrdb.tag_as_set is True
    assert filtering.rpki_bgp_origin_validation.enabled is False
    assert filtering.rpki_bgp_origin_validation.reject_invalid is True
    assert filtering.max_prefix.action is None
    assert (filtering.max_prefix.general_limit_ipv4, filtering.max_prefix.general_limit_ipv6) == (
        170000,
        12000,
    )
    assert filtering.max_prefix.restart_after == 15
    assert filtering.reject_policy.policy == "reject"
    assert general.blackhole_filtering.policy_ipv4 is None
    assert general.blackhole_filtering.announce_to_client is True
    assert general.graceful_shutdown.enabled is False
    assert general.rfc1997_wellknown_communities.policy == "pass"
    assert general.rtt_thresholds == ()
    assert not any(
        getattr(general.communities, n).configured
        for n in ("blackholing", "do_not_announce_to_peer", "reject_cause")
    )


def test_peering_db_lookups_are_off_unless_set() -> None:
    general = parse(minimal_general())
    assert general.filtering.never_via_route_servers.peering_db is False
    assert general.filtering.max_prefix.peering_db.enabled is False
    assert general.blackhole_filtering.client_community.peering_db is False
    explicit = parse(general_with("cfg.filtering.max_prefix.peering_db", {"enabled": True}))
    assert explicit.filtering.max_prefix.peering_db.enabled is True


# Where ixrs departs from arouteserver's defaults on purpose (documented in general.py).
DEPARTURES = {
    "cfg.filtering.never_via_route_servers.peering_db": (True, False),
    "cfg.filtering.max_prefix.peering_db.enabled": (True, False),
    "cfg.blackhole_filtering.client_community.peering_db": (True, False),
}
# arouteserver leaves these None; ixrs gives an empty list.
EMPTY = {
    "cfg.filtering.global_black_list_pref",
    "cfg.filtering.transit_free.asns",
    "cfg.filtering.never_via_route_servers.asns",
    "cfg.rtt_thresholds",
}


def _leaves(value: Any, path: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        return [leaf for key, item in value.items() for leaf in _leaves(item, f"{path}.{key}")]
    return [(path, value)]


def test_defaults_match_arouteserver() -> None:
    general_module = pytest.importorskip("pierky.arouteserver.config.general")
    theirs = general_module.ConfigParserGeneral()
    theirs.load_from_dict(minimal_general())
    ours = {"cfg": to_plain(parse(minimal_general()))}
    ours["cfg"]["custom_communities"] = {}
    compared = 0
    for path, their_value in _leaves(theirs.cfg["cfg"], "cfg"):
        if ".reject_cause_map_" in path:
            continue  # arouteserver's internal expansion of reject_cause_map
        our_value: Any = ours
        for key in path.split("."):
            our_value = our_value[key]
        if path in DEPARTURES:
            assert (their_value, our_value) == DEPARTURES[path], path
        elif path in EMPTY:
            assert (their_value, our_value) == (None, []), path
        else:
            assert our_value == their_value, path
        compared += 1
    assert compared > 150


def test_values_are_normalized() -> None:
    document = minimal_general()
    document["cfg"].update(
        {
            "router_id": ["192.0.2.1", "192.0.2.9"],
            "passive": "no",
            "multihop": "2",
            "filtering": {
                "transit_free": {"action": "reject", "asns": "174, 701,\n1299"},
                "ipv6_pref_len": {"min": "12", "max": 48},
                "global_black_list_pref": [
                    {"prefix": "2001:DB8:0::", "length": 32, "comment": 7, "le": 0}
                ],
            },
            "rtt_thresholds": [5, 10, 20],
        }
    )
    general = parse(document)
    assert general.router_id == ("192.0.2.1", "192.0.2.9")
    assert (general.passive, general.multihop) == (False, 2)
    assert general.filtering.transit_free.asns == (174, 701, 1299)
    assert general.filtering.ipv6_pref_len == PrefixLenRange(12, 48)
    entry = general.filtering.global_black_list_pref[0]
    assert (entry.prefix, entry.length, entry.comment, entry.le) == ("2001:db8::", 32, "7", None)
    assert general.rtt_thresholds == (5, 10, 20)


def test_prefix_list_entry_matching() -> None:
    import ipaddress

    document = general_with(
        "cfg.filtering.global_black_list_pref",
        [
            {"prefix": "10.0.0.0", "length": 8},
            {"prefix": "172.16.0.0", "length": 12, "exact": True},
            {"prefix": "100.64.0.0", "length": 10, "ge": 16, "le": 24},
        ],
    )
    whole, exact, ranged = parse(document).filtering.global_black_list_pref
    net = ipaddress.ip_network
    assert whole.matches(net("10.1.0.0/16")) and whole.matches(net("10.0.0.0/8"))
    assert not whole.matches(net("11.0.0.0/8"))
    assert exact.matches(net("172.16.0.0/12")) and not exact.matches(net("172.16.0.0/16"))
    assert ranged.matches(net("100.64.1.0/24")) and not ranged.matches(net("100.64.0.0/10"))
    assert not ranged.matches(net("2001:db8::/32"))


def test_deprecated_spellings_are_upgraded() -> None:
    document = minimal_general()
    document["cfg"]["filtering"] = {
        "next_hop_policy": "same-as",
        "rpki": {"enabled": True},
        "max_prefix": {"peering_db": False},
    }
    general = parse(document)
    assert general.filtering.next_hop.policy == "same-as"
    assert general.filtering.rpki_bgp_origin_validation.enabled is True
    assert general.filtering.max_prefix.peering_db.enabled is False


def test_never_via_route_servers_asns_file(tmp_path: Path) -> None:
    (tmp_path / "nvrs.txt").write_text("# networks\nAS8075, 15169\nas32934 8075  # again\n")
    document = general_with(
        "cfg.filtering.never_via_route_servers", {"asns": "13335", "asns_file": "nvrs.txt"}
    )
    general = parse(document, str(tmp_path / "general.yml"))
    never = general.filtering.never_via_route_servers
    assert never.asns_file is not None
    assert (never.asns_file.path, never.asns_file.asns) == ("nvrs.txt", (8075, 15169, 32934))
    assert never.all_asns == {8075, 13335, 15169, 32934}


def test_arouteserver_distributed_file_loads() -> None:
    pytest.importorskip("pierky.arouteserver")
    import pierky.arouteserver as package

    from ixrs.config.yamlfile import load_yaml

    path = str(Path(package.__file__).parent / "config.d" / "general.distrib.yml")
    general = parse_general(upgrade_general(load_yaml(path), path), path)
    assert general.rs_as == 999
    assert general.filtering.transit_free.asns[:2] == (174, 701)
    assert general.rtt_thresholds == (5, 10, 15, 20, 30, 50, 100, 200, 500)
