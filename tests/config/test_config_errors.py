"""Bad configurations: each is refused with the file, the field and the reason."""

from pathlib import Path
from typing import Any

import pytest
from config_helpers import general_with, minimal_clients, minimal_general, write

from ixrs.config import ConfigError, load_config


def clients_with(*clients: dict[str, Any]) -> dict[str, Any]:
    return {"clients": list(clients)}


def communities(**values: Any) -> dict[str, Any]:
    document = minimal_general()
    document["cfg"]["communities"] = values
    return document


G, C = "general.yml", "clients.yml"

# (id, general, clients, file, field, reason substring)
CASES = [
    (
        "yaml-syntax",
        "cfg:\n  rs_as: 59900\n  router_id: [192.0.2.1\n",
        None,
        G,
        "line 4",
        "invalid YAML",
    ),
    (
        "yaml-duplicate-key",
        "cfg:\n  rs_as: 59900\n  rs_as: 59901\n",
        None,
        G,
        "line 3",
        "duplicate key 'rs_as'",
    ),
    ("no-cfg", {"config": {}}, None, G, "config", "unknown key"),
    (
        "rs_as-too-big",
        general_with("cfg.rs_as", 4294967296),
        None,
        G,
        "cfg.rs_as",
        "out of range 1..4294967295",
    ),
    ("rs_as-zero", general_with("cfg.rs_as", 0), None, G, "cfg.rs_as", "out of range"),
    ("rs_as-missing", {"cfg": {"router_id": "192.0.2.1"}}, None, G, "cfg.rs_as", "missing"),
    (
        "router_id-bad",
        general_with("cfg.router_id", "300.0.0.1"),
        None,
        G,
        "cfg.router_id",
        "invalid IPv4 address",
    ),
    (
        "router_id-ipv6",
        general_with("cfg.router_id", ["192.0.2.1", "2001:db8::1"]),
        None,
        G,
        "cfg.router_id[1]",
        "invalid IPv4 address",
    ),
    (
        "next_hop-policy",
        general_with("cfg.filtering.next_hop.policy", "loose"),
        None,
        G,
        "cfg.filtering.next_hop.policy",
        "unknown value 'loose'",
    ),
    (
        "max_as_path_len-0",
        general_with("cfg.filtering.max_as_path_len", 0),
        None,
        G,
        "cfg.filtering.max_as_path_len",
        "out of range 1..64",
    ),
    (
        "passive-not-bool",
        general_with("cfg.passive", "maybe"),
        None,
        G,
        "cfg.passive",
        "must be a boolean",
    ),
    (
        "filtering-not-mapping",
        general_with("cfg.filtering", ["x"]),
        None,
        G,
        "cfg.filtering",
        "must be a mapping",
    ),
    (
        "unknown-key-cfg",
        general_with("cfg.path_hidding", True),
        None,
        G,
        "cfg.path_hidding",
        "unknown key",
    ),
    (
        "unknown-key-deep",
        general_with("cfg.filtering.irrdb.enforce_origin", True),
        None,
        G,
        "cfg.filtering.irrdb.enforce_origin",
        "unknown key",
    ),
    (
        "pref_len-min-gt-max",
        general_with("cfg.filtering.ipv4_pref_len", {"min": 25, "max": 24}),
        None,
        G,
        "cfg.filtering.ipv4_pref_len",
        "min (25) must be <= max (24)",
    ),
    (
        "pref_len-over-128",
        general_with("cfg.filtering.ipv6_pref_len", {"min": 12, "max": 129}),
        None,
        G,
        "cfg.filtering.ipv6_pref_len.max",
        "out of range 0..128",
    ),
    (
        "pref_len-half",
        general_with("cfg.filtering.ipv4_pref_len", {"min": 8}),
        None,
        G,
        "cfg.filtering.ipv4_pref_len.max",
        "missing",
    ),
    (
        "max_prefix-action",
        general_with("cfg.filtering.max_prefix.action", "drop"),
        None,
        G,
        "cfg.filtering.max_prefix.action",
        "allowed: 'shutdown', 'restart', 'block'",
    ),
    (
        "black-list-host-bits",
        general_with("cfg.filtering.global_black_list_pref", [{"prefix": "10.0.0.1", "length": 8}]),
        None,
        G,
        "cfg.filtering.global_black_list_pref[0].prefix",
        "host bits set",
    ),
    (
        "black-list-ge-le",
        general_with(
            "cfg.filtering.global_black_list_pref",
            [{"prefix": "10.0.0.0", "length": 8, "ge": 24, "le": 16}],
        ),
        None,
        G,
        "cfg.filtering.global_black_list_pref[0].ge",
        "ge (24) must be <= le (16)",
    ),
    (
        "transit-free-asns",
        general_with("cfg.filtering.transit_free.asns", "174, x"),
        None,
        G,
        "cfg.filtering.transit_free.asns[1]",
        "must be an integer",
    ),
    (
        "rtt-not-ascending",
        general_with("cfg.rtt_thresholds", "5, 10, 7"),
        None,
        G,
        "cfg.rtt_thresholds",
        "ascending order",
    ),
    (
        "community-missing-peer_as",
        communities(do_not_announce_to_peer={"std": "0:1"}),
        None,
        G,
        "cfg.communities.do_not_announce_to_peer.std",
        "'peer_as' macro is mandatory",
    ),
    (
        "community-peer_as-not-last",
        communities(announce_to_peer={"lrg": "rs_as:peer_as:1"}),
        None,
        G,
        "cfg.communities.announce_to_peer.lrg",
        "can only be the last part",
    ),
    (
        "community-macro-not-allowed",
        communities(blackholing={"std": "rs_as:peer_as"}),
        None,
        G,
        "cfg.communities.blackholing.std",
        "'peer_as' macro is not allowed",
    ),
    (
        "community-std-range",
        communities(do_not_announce_to_any={"std": "65536:0"}),
        None,
        G,
        "cfg.communities.do_not_announce_to_any.std",
        "not an integer in 0..65535",
    ),
    (
        "community-reserved",
        communities(do_not_announce_to_any={"std": "65535:0"}),
        None,
        G,
        "cfg.communities.do_not_announce_to_any.std",
        "65535:x is reserved",
    ),
    (
        "community-rs_as-4-byte-std",
        {
            "cfg": {
                "rs_as": 196615,
                "router_id": "192.0.2.1",
                "communities": {"do_not_announce_to_any": {"std": "0:rs_as"}},
            }
        },
        None,
        G,
        "cfg.communities.do_not_announce_to_any.std",
        "not an integer in 0..65535",
    ),
    (
        "community-large-parts",
        communities(blackholing={"lrg": "1:2"}),
        None,
        G,
        "cfg.communities.blackholing.lrg",
        "2 parts instead of 3",
    ),
    (
        "community-ext-type",
        communities(blackholing={"ext": "xx:1:2"}),
        None,
        G,
        "cfg.communities.blackholing.ext",
        "neither 'rt' nor 'ro'",
    ),
    (
        "community-unquoted",
        "cfg:\n  rs_as: 59900\n  router_id: 192.0.2.1\n  communities:\n"
        "    blackholing:\n      std: 65501:0\n",
        None,
        G,
        "cfg.communities.blackholing.std",
        "must be a quoted string",
    ),
    (
        "community-unknown-name",
        communities(black_holing={"std": "65501:0"}),
        None,
        G,
        "cfg.communities.black_holing",
        "unknown key",
    ),
    (
        "community-duplicate",
        communities(do_not_announce_to_any={"std": "0:rs_as"}, blackholing={"std": "0:rs_as"}),
        None,
        G,
        "cfg.communities.do_not_announce_to_any.std",
        "already used by",
    ),
    (
        "community-overlap",
        communities(
            announce_to_peer={"std": "0:peer_as"}, do_not_announce_to_any={"std": "0:20002"}
        ),
        None,
        G,
        "cfg.communities.announce_to_peer.std",
        "overlaps",
    ),
    (
        "reject-cause-without-tag",
        communities(reject_cause={"lrg": "rs_as:65535:dyn_val"}),
        None,
        G,
        "cfg.communities.reject_cause",
        "only allowed when",
    ),
    (
        "tag-without-reject-cause",
        general_with("cfg.filtering.reject_policy.policy", "tag"),
        None,
        G,
        "cfg.communities.reject_cause",
        "missing",
    ),
    (
        "reject-cause-map-code",
        communities(reject_cause_map={99: {"lrg": "rs_as:1:2"}}),
        None,
        G,
        "cfg.communities.reject_cause_map.99",
        "unknown reject cause code",
    ),
    (
        "rtt-community-without-thresholds",
        communities(prepend_once_to_peers_with_rtt_lower_than={"lrg": "rs_as:301:dyn_val"}),
        None,
        G,
        "cfg.rtt_thresholds",
        "missing",
    ),
    (
        "custom-community-builtin-name",
        general_with("cfg.custom_communities", {"blackholing": {"std": "65501:1"}}),
        None,
        G,
        "cfg.custom_communities.blackholing",
        "built-in community",
    ),
    (
        "blackhole-rewrite-no-address",
        general_with("cfg.blackhole_filtering.policy_ipv4", "rewrite-next-hop"),
        None,
        G,
        "cfg.blackhole_filtering.rewrite_next_hop_ipv4",
        "missing",
    ),
    (
        "deprecated-and-new",
        general_with(
            "cfg.filtering.next_hop",
            {"policy": "strict"},
            general_with("cfg.filtering.next_hop_policy", "same-as"),
        ),
        None,
        G,
        "cfg.filtering.next_hop_policy",
        "deprecated",
    ),
    ("clients-yaml-syntax", None, "clients:\n  - asn: 1\n   ip: x\n", C, "line 3", "invalid YAML"),
    ("clients-missing-list", None, {"asns": {}}, C, "clients", "missing"),
    (
        "client-bad-ip",
        None,
        clients_with({"asn": 20002, "ip": "192.0.2.300"}),
        C,
        "clients[0].ip",
        "invalid IP address",
    ),
    (
        "client-bad-ip-in-list",
        None,
        clients_with({"asn": 20002, "ip": ["192.0.2.2", "2001:db8:1::g"]}),
        C,
        "clients[0].ip[1]",
        "invalid IP address",
    ),
    (
        "client-duplicate-ip",
        None,
        clients_with(
            {"asn": 20002, "ip": ["192.0.2.2", "2001:db8:1::2"]},
            {"asn": 20003, "ip": ["192.0.2.3", "2001:DB8:1:0::2"]},
        ),
        C,
        "clients[1].ip[1]",
        "duplicate address 2001:db8:1::2, already used at clients[0].ip[1]",
    ),
    (
        "client-asn-range",
        None,
        clients_with({"asn": 4294967296, "ip": "192.0.2.2"}),
        C,
        "clients[0].asn",
        "out of range",
    ),
    ("client-asn-missing", None, clients_with({"ip": "192.0.2.2"}), C, "clients[0].asn", "missing"),
    (
        "client-unknown-key",
        None,
        clients_with({"asn": 20002, "ip": "192.0.2.2", "pasword": "x"}),
        C,
        "clients[0].pasword",
        "unknown key",
    ),
    (
        "client-cfg-unknown-key",
        None,
        clients_with({"asn": 20002, "ip": "192.0.2.2", "cfg": {"filtering": {"maxprefix": {}}}}),
        C,
        "clients[0].cfg.filtering.maxprefix",
        "unknown key",
    ),
    (
        "client-as-set",
        None,
        clients_with(
            {"asn": 20002, "ip": "192.0.2.2", "cfg": {"filtering": {"irrdb": {"as_sets": ["AS-"]}}}}
        ),
        C,
        "clients[0].cfg.filtering.irrdb.as_sets[0]",
        "invalid AS-SET",
    ),
    (
        "client-authorized-addresses-missing",
        None,
        clients_with(
            {
                "asn": 20002,
                "ip": "192.0.2.2",
                "cfg": {"filtering": {"next_hop": {"policy": "authorized_addresses"}}},
            }
        ),
        C,
        "clients[0].cfg.filtering.next_hop.authorized_addresses_list",
        "missing",
    ),
    (
        "client-authorized-addresses-unneeded",
        None,
        clients_with(
            {
                "asn": 20002,
                "ip": "192.0.2.2",
                "cfg": {"filtering": {"next_hop": {"authorized_addresses_list": ["192.0.2.9"]}}},
            }
        ),
        C,
        "clients[0].cfg.filtering.next_hop.authorized_addresses_list",
        "only allowed when",
    ),
    (
        "client-custom-community-unknown",
        None,
        clients_with(
            {"asn": 20002, "ip": "192.0.2.2", "cfg": {"attach_custom_communities": ["x"]}}
        ),
        C,
        "clients[0].cfg.attach_custom_communities[0]",
        "unknown custom community 'x'",
    ),
    (
        "client-16bit-for-16bit",
        None,
        clients_with({"asn": 20002, "ip": "192.0.2.2", "16bit_mapped_asn": 64512}),
        C,
        "clients[0].16bit_mapped_asn",
        "only for 32-bit ASNs",
    ),
    (
        "client-16bit-twice",
        None,
        clients_with(
            {"asn": 196615, "ip": "192.0.2.2", "16bit_mapped_asn": 64512},
            {"asn": 196616, "ip": "192.0.2.3", "16bit_mapped_asn": 64512},
        ),
        C,
        "clients[1].16bit_mapped_asn",
        "64512 already maps AS196615",
    ),
    (
        "client-rtbh-community",
        None,
        clients_with(
            {
                "asn": 20002,
                "ip": "192.0.2.2",
                "cfg": {"blackhole_filtering": {"client_community": {"std": "rs_as:666"}}},
            }
        ),
        C,
        "clients[0].cfg.blackhole_filtering.client_community.std",
        "'rs_as' macro cannot",
    ),
    (
        "asns-bad-key",
        None,
        {"asns": {"20002": {"as_sets": ["AS-X"]}}, "clients": []},
        C,
        "asns.20002",
        "AS<number> format",
    ),
]


@pytest.mark.parametrize(
    ("general", "clients", "file", "field", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_config(
    tmp_path: Path, general: Any, clients: Any, file: str, field: str, reason: str
) -> None:
    general_path = write(tmp_path / G, general if general is not None else minimal_general())
    clients_path = write(tmp_path / C, clients if clients is not None else minimal_clients())
    with pytest.raises(ConfigError) as caught:
        load_config(general_path, clients_path)
    error = caught.value
    assert (Path(error.file).name, error.field) == (file, field), str(error)
    assert reason in error.reason
    assert str(error) == f"{error.file}: {error.field}: {error.reason}"
    assert "\n" not in str(error)


def test_missing_general_file(tmp_path: Path) -> None:
    clients = write(tmp_path / C, minimal_clients())
    with pytest.raises(ConfigError) as caught:
        load_config(str(tmp_path / "nope.yml"), clients)
    assert (caught.value.file, caught.value.field) == (str(tmp_path / "nope.yml"), "(file)")
    assert "file not found" in caught.value.reason


def test_missing_clients_file(tmp_path: Path) -> None:
    general = write(tmp_path / G, minimal_general())
    with pytest.raises(ConfigError) as caught:
        load_config(general, str(tmp_path / "nope.yml"))
    assert caught.value.file == str(tmp_path / "nope.yml")
    assert "file not found" in caught.value.reason


def test_missing_asns_file(tmp_path: Path) -> None:
    general = write(
        tmp_path / G, general_with("cfg.filtering.never_via_route_servers.asns_file", "nvrs.txt")
    )
    clients = write(tmp_path / C, minimal_clients())
    with pytest.raises(ConfigError) as caught:
        load_config(general, clients)
    assert caught.value.field == "cfg.filtering.never_via_route_servers.asns_file"
    assert "file not found" in caught.value.reason


def test_bad_line_in_asns_file(tmp_path: Path) -> None:
    (tmp_path / "nvrs.txt").write_text("AS8075\n# comment\n15169, ASX\n")
    general = write(
        tmp_path / G, general_with("cfg.filtering.never_via_route_servers.asns_file", "nvrs.txt")
    )
    clients = write(tmp_path / C, minimal_clients())
    with pytest.raises(ConfigError) as caught:
        load_config(general, clients)
    assert (caught.value.file, caught.value.field) == (str(tmp_path / "nvrs.txt"), "line 3")
    assert "invalid ASN 'ASX'" in caught.value.reason


def test_error_survives_pickling() -> None:
    import pickle

    error = ConfigError("a.yml", "cfg.rs_as", "out of range")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.file, copy.field, copy.reason) == ("a.yml", "cfg.rs_as", "out of range")
