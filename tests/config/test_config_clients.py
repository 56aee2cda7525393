"""clients.yml: sessions, AS-SETs, and each client's effective settings."""

import copy
from collections.abc import Callable
from typing import Any

import pytest
from config_helpers import general_with, minimal_general

from ixrs.config import RouteServerConfig
from ixrs.config.prefixes import PrefixLenRange

Load = Callable[..., RouteServerConfig]

OVERRIDING_CLIENT = {
    "asn": 20003,
    "ip": ["192.0.2.3", "2001:db8:1::3"],
    "description": "B",
    "cfg": {
        "prepend_rs_as": True,
        "passive": False,
        "filtering": {
            "next_hop": {
                "policy": "authorized_addresses",
                "authorized_addresses_list": ["192.0.2.33", "2001:db8:1::33"],
            },
            "ipv4_pref_len": {"min": 16, "max": 24},
            "max_as_path_len": 10,
            "irrdb": {
                "as_sets": ["ripe::as-example"],
                "enforce_origin_in_as_set": False,
                "white_list_asn": [20004],
            },
            "rpki_bgp_origin_validation": {"reject_invalid": False},
            "black_list_pref": [{"prefix": "203.0.113.0", "length": 24}],
            "max_prefix": {"action": "restart", "limit_ipv4": 1000},
            "roles": {"local_role": "RS"},
            "reject_policy": {"policy": "tag"},
        },
        "blackhole_filtering": {
            "announce_to_client": False,
            "client_community": {"std": "65535:666", "lrg": "20003:666:0"},
        },
        "graceful_shutdown": {"enabled": False},
    },
}


def general_for_merge() -> dict[str, Any]:
    document = general_with("cfg.filtering.max_prefix", {"action": "block", "restart_after": 5})
    document["cfg"]["filtering"]["irrdb"] = {"enforce_prefix_in_as_set": False}
    document["cfg"]["graceful_shutdown"] = {"enabled": True, "local_pref": 10}
    return document


def clients_for_merge() -> dict[str, Any]:
    return {
        "asns": {"AS20002": {"as_sets": ["AS20002:AS-CUSTOMERS"]}},
        "clients": [{"asn": "20002", "ip": "192.0.2.2"}, copy.deepcopy(OVERRIDING_CLIENT)],
    }


def test_sessions_and_lookups(load: Load) -> None:
    config = load(general_for_merge(), clients_for_merge())
    assert [(c.asn, c.ip) for c in config.clients] == [
        (20002, "192.0.2.2"),
        (20003, "192.0.2.3"),
        (20003, "2001:db8:1::3"),
    ]
    assert config.client_by_ip("2001:DB8:1:0::3") is config.clients[2]
    assert config.client_by_ip("192.0.2.99") is None
    assert config.client_by_ip("not an address") is None
    assert config.clients_by_asn(20003) == config.clients[1:]
    assert config.clients_by_asn("AS20003") == config.clients[1:]
    assert config.clients_by_asn("as20002") == config.clients[:1]
    assert config.clients_by_asn("65001") == ()
    assert config.clients[2].ip_version == 6


def test_client_without_overrides_inherits_general(load: Load) -> None:
    config = load(general_for_merge(), clients_for_merge())
    settings = config.clients[0].settings
    assert (settings.prepend_rs_as, settings.passive) == (False, True)
    assert settings.filtering.next_hop.policy == "strict"
    assert settings.filtering.ipv4_pref_len == PrefixLenRange(8, 24)
    assert settings.filtering.irrdb.as_sets == ("AS20002:AS-CUSTOMERS",)  # from `asns:`
    assert settings.filtering.irrdb.enforce_origin_in_as_set is True
    assert settings.filtering.irrdb.enforce_prefix_in_as_set is False
    assert settings.filtering.max_prefix.action == "block"
    assert settings.filtering.max_prefix.restart_after == 5
    assert (settings.filtering.max_prefix.limit_ipv4, settings.filtering.max_prefix.limit_ipv6) == (
        170000,
        12000,
    )
    assert settings.filtering.roles.local_role == "rs"
    assert settings.graceful_shutdown.enabled is True
    assert settings.graceful_shutdown.local_pref == 10
    assert settings.blackhole_filtering.announce_to_client is True


def test_client_overrides_win(load: Load) -> None:
    config = load(general_for_merge(), clients_for_merge())
    client = config.clients[1]
    assert client.description == "B"
    settings, filtering = client.settings, client.settings.filtering
    assert (settings.prepend_rs_as, settings.passive) == (True, False)
    assert filtering.next_hop.policy == "authorized_addresses"
    assert filtering.next_hop.authorized_addresses == ("192.0.2.33", "2001:db8:1::33")
    assert filtering.ipv4_pref_len == PrefixLenRange(16, 24)
    assert filtering.ipv6_pref_len == PrefixLenRange(12, 48)
    assert filtering.max_as_path_len == 10
    assert filtering.irrdb.as_sets == ("ripe::AS-EXAMPLE",)
    assert filtering.irrdb.enforce_origin_in_as_set is False
    assert filtering.irrdb.enforce_prefix_in_as_set is False
    assert filtering.irrdb.white_list_asn == (20004,)
    assert filtering.rpki_bgp_origin_validation.enabled is False
    assert filtering.rpki_bgp_origin_validation.reject_invalid is False
    assert filtering.black_list_pref[0].prefix == "203.0.113.0"
    assert (
        filtering.max_prefix.action,
        filtering.max_prefix.limit_ipv4,
        filtering.max_prefix.limit_ipv6,
        filtering.max_prefix.restart_after,
    ) == ("restart", 1000, 12000, 5)
    assert filtering.roles.local_role == "rs"
    assert filtering.reject_policy.policy == "tag"
    assert settings.blackhole_filtering.announce_to_client is False
    rtbh = settings.blackhole_filtering.client_community
    assert (str(rtbh.std), str(rtbh.lrg), rtbh.action) == ("65535:666", "20003:666:0", "add")
    assert settings.graceful_shutdown.enabled is False
    # What the file set, separately from what applies.
    assert client.overrides.filtering.max_as_path_len == 10
    assert client.overrides.filtering.max_prefix.limit_ipv6 is None
    assert config.clients[0].overrides.filtering.max_as_path_len is None


def test_client_level_as_sets_beat_asn_level(load: Load) -> None:
    clients = {
        "asns": {"AS20002": {"as_sets": ["AS-ASN-LEVEL"]}},
        "clients": [
            {
                "asn": 20002,
                "ip": "192.0.2.2",
                "cfg": {"filtering": {"irrdb": {"as_sets": ["AS-CLIENT"]}}},
            },
            {"asn": 20003, "ip": "192.0.2.3"},
        ],
    }
    config = load(None, clients)
    assert config.clients[0].settings.filtering.irrdb.as_sets == ("AS-CLIENT",)
    assert config.clients[1].settings.filtering.irrdb.as_sets == ()
    assert [(entry.asn, entry.as_sets) for entry in config.asns] == [(20002, ("AS-ASN-LEVEL",))]


def test_general_authorized_addresses_policy_needs_a_list_per_client(load: Load) -> None:
    general = general_with("cfg.filtering.next_hop.policy", "authorized_addresses")
    clients = {
        "clients": [
            {
                "asn": 20002,
                "ip": "192.0.2.2",
                "cfg": {"filtering": {"next_hop": {"authorized_addresses_list": ["192.0.2.22"]}}},
            }
        ]
    }
    assert load(general, clients).clients[0].settings.filtering.next_hop.authorized_addresses == (
        "192.0.2.22",
    )


# Inherited options, checked against arouteserver's own merge: (arouteserver path, ours).
INHERITED = [
    ("prepend_rs_as", "prepend_rs_as"),
    ("passive", "passive"),
    ("gtsm", "gtsm"),
    ("add_path", "add_path"),
    ("filtering.next_hop.policy", "filtering.next_hop.policy"),
    ("filtering.ipv4_pref_len", "filtering.ipv4_pref_len"),
    ("filtering.ipv6_pref_len", "filtering.ipv6_pref_len"),
    ("filtering.max_as_path_len", "filtering.max_as_path_len"),
    ("filtering.reject_invalid_as_in_as_path", "filtering.reject_invalid_as_in_as_path"),
    ("filtering.irrdb.enforce_origin_in_as_set", "filtering.irrdb.enforce_origin_in_as_set"),
    ("filtering.irrdb.enforce_prefix_in_as_set", "filtering.irrdb.enforce_prefix_in_as_set"),
    (
        "filtering.rpki_bgp_origin_validation.enabled",
        "filtering.rpki_bgp_origin_validation.enabled",
    ),
    (
        "filtering.rpki_bgp_origin_validation.reject_invalid",
        "filtering.rpki_bgp_origin_validation.reject_invalid",
    ),
    ("filtering.max_prefix.action", "filtering.max_prefix.action"),
    ("filtering.max_prefix.restart_after", "filtering.max_prefix.restart_after"),
    ("filtering.max_prefix.count_rejected_routes", "filtering.max_prefix.count_rejected_routes"),
    ("filtering.roles.local_role", "filtering.roles.local_role"),
    ("filtering.reject_policy.policy", "filtering.reject_policy.policy"),
    ("blackhole_filtering.announce_to_client", "blackhole_filtering.announce_to_client"),
    ("graceful_shutdown.enabled", "graceful_shutdown.enabled"),
]


def _get(value: Any, path: str) -> Any:
    for key in path.split("."):
        value = value[key] if isinstance(value, dict) else getattr(value, key)
    if isinstance(value, PrefixLenRange):
        return {"min": value.min, "max": value.max}
    return value


@pytest.mark.parametrize(("theirs", "ours"), INHERITED, ids=[row[0] for row in INHERITED])
def test_merge_matches_arouteserver(load: Load, theirs: str, ours: str) -> None:
    general_module = pytest.importorskip("pierky.arouteserver.config.general")
    clients_module = pytest.importorskip("pierky.arouteserver.config.clients")
    general_parser = general_module.ConfigParserGeneral()
    general_parser.load_from_dict(general_for_merge())
    clients_parser = clients_module.ConfigParserClients(general_cfg=general_parser)
    clients_parser.load_from_dict({"clients": clients_for_merge()["clients"]})
    their_clients = sorted(clients_parser.cfg["clients"], key=lambda c: c["ip"])
    our_clients = sorted(load(general_for_merge(), clients_for_merge()).clients, key=lambda c: c.ip)
    for their_client, our_client in zip(their_clients, our_clients, strict=True):
        assert their_client["ip"] == our_client.ip
        assert _get(our_client.settings, ours) == _get(their_client["cfg"], theirs)


def test_arouteserver_distributed_files_load(load: Load) -> None:
    pytest.importorskip("pierky.arouteserver")
    from pathlib import Path

    import pierky.arouteserver as package

    from ixrs.config import load_config

    directory = Path(package.__file__).parent / "config.d"
    config = load_config(str(directory / "general.distrib.yml"), str(directory / "clients.yml"))
    assert [(c.asn, c.ip) for c in config.clients] == [
        (3333, "192.0.2.11"),
        (10745, "192.0.2.22"),
        (10745, "2001:db:1:1::22"),
        (65551, "192.0.2.33"),
    ]
    assert config.clients[3].mapped_16bit_asn == 64512


def test_empty_client_list_is_fine(load: Load) -> None:
    assert load(minimal_general(), {"clients": []}).clients == ()
