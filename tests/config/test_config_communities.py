"""BGP community patterns and arouteserver's rules for them."""

from collections.abc import Callable

import pytest
from config_helpers import minimal_general

from ixrs.config import ConfigError, RouteServerConfig
from ixrs.config.communities import (
    BUILTIN_SPECS,
    RTT_COMMUNITIES,
    CommunityPattern,
    Macro,
    parse_pattern,
)

Load = Callable[..., RouteServerConfig]


def with_communities(**values: object) -> dict:
    document = minimal_general()
    document["cfg"]["communities"] = values
    return document


@pytest.mark.parametrize(
    ("text", "kind", "flags", "expected"),
    [
        ("0:peer_as", "std", {"peer_as": True}, ("std", (0, Macro.PEER_AS), None)),
        ("rs_as:peer_as", "std", {"peer_as": True}, ("std", (59900, Macro.PEER_AS), None)),
        (" rs_as : 0 ", "std", {}, ("std", (59900, 0), None)),
        ("rs_as:0:peer_as", "lrg", {"peer_as": True}, ("lrg", (59900, 0, Macro.PEER_AS), None)),
        ("4294967295:1:2", "lrg", {}, ("lrg", (4294967295, 1, 2), None)),
        (
            "rs_as:65535:dyn_val",
            "lrg",
            {"dyn_val": True},
            ("lrg", (59900, 65535, Macro.DYN_VAL), None),
        ),
        ("RT:65501:4294967295", "ext", {}, ("ext", (65501, 4294967295), "rt")),
        ("ro:rs_as:peer_as", "ext", {"peer_as": True}, ("ext", (59900, Macro.PEER_AS), "ro")),
        ("065:1", "std", {}, ("std", (65, 1), None)),
    ],
)
def test_valid_patterns(text: str, kind: str, flags: dict, expected: tuple) -> None:
    pattern = parse_pattern(text, kind, 59900, **flags)
    assert (pattern.kind, pattern.parts, pattern.ext_type) == expected
    assert CommunityPattern.from_text(str(pattern)) == pattern


@pytest.mark.parametrize(
    ("text", "kind", "flags", "reason"),
    [
        ("0:1", "std", {"peer_as": True}, "'peer_as' macro is mandatory"),
        ("peer_as:0", "std", {"peer_as": True}, "can only be the last part"),
        ("0:dyn_val", "std", {}, "'dyn_val' macro is not allowed"),
        ("65536:1", "std", {}, "not an integer in 0..65535"),
        ("-1:1", "std", {}, "not an integer"),
        ("65535:1", "std", {}, "65535:x is reserved"),
        ("1:2:3", "std", {}, "3 parts instead of 2"),
        ("4294967296:1:1", "lrg", {}, "not an integer in 0..4294967295"),
        ("rt:65536:65536", "ext", {}, "only one of the two values"),
        ("xx:1:1", "ext", {}, "neither 'rt' nor 'ro'"),
    ],
)
def test_invalid_patterns(text: str, kind: str, flags: dict, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_pattern(text, kind, 59900, **flags)


def test_rs_as_needs_a_known_asn() -> None:
    with pytest.raises(ValueError, match="'rs_as' macro cannot be used"):
        parse_pattern("rs_as:666", "std", None)


def test_matching_and_rendering() -> None:
    pattern = parse_pattern("rs_as:1:peer_as", "lrg", 59900, peer_as=True)
    assert pattern.macro is Macro.PEER_AS
    assert pattern.matches((59900, 1, 20002)) and not pattern.matches((59900, 2, 20002))
    assert pattern.render(20002) == (59900, 1, 20002)
    with pytest.raises(ValueError):
        pattern.render()
    fixed = parse_pattern("0:rs_as", "std", 59900)
    assert fixed.macro is None and fixed.render() == (0, 59900)


def test_every_arouteserver_community_is_known() -> None:
    general = pytest.importorskip("pierky.arouteserver.config.general")
    theirs = general.ConfigParserGeneral.COMMUNITIES_SCHEMA
    builtin = {n: s for n, s in theirs.items() if not n.startswith("reject_cause_map_")}
    assert set(BUILTIN_SPECS) == set(builtin)
    for name, spec in builtin.items():
        ours = BUILTIN_SPECS[name]
        assert (ours["role"], ours["peer_as"], ours["dyn_val"], ours["rtt"]) == (
            spec["type"],
            spec.get("peer_as", False),
            spec.get("dyn_val", False),
            spec.get("rtt", False),
        ), name
    assert len(RTT_COMMUNITIES) == 10


def test_communities_are_typed_in_the_config(load: Load, tag_policy: dict) -> None:
    document = with_communities(
        do_not_announce_to_peer={
            "std": "0:peer_as",
            "lrg": "rs_as:0:peer_as",
            "ext": "rt:0:peer_as",
        },
        reject_cause={"lrg": "rs_as:65535:dyn_val"},
        # Several reject codes may share one community.
        reject_cause_map={"14": {"lrg": "rs_as:1101:13"}, 5: {"lrg": "rs_as:1101:13"}},
    )
    document["cfg"].update(tag_policy)
    communities = load(document).general.communities
    assert [str(p) for p in communities.do_not_announce_to_peer.patterns()] == [
        "0:peer_as",
        "59900:0:peer_as",
        "rt:0:peer_as",
    ]
    assert [entry.code for entry in communities.reject_cause_map] == [5, 14]
    assert str(communities.for_reject_cause(14).lrg) == "59900:1101:13"
    assert communities.for_reject_cause(1) is None


@pytest.fixture
def tag_policy() -> dict:
    return {"filtering": {"reject_policy": {"policy": "tag"}}}


def test_reject_cause_map_needs_tag_policy(load: Load) -> None:
    document = with_communities(reject_cause_map={"14": {"lrg": "rs_as:1101:13"}})
    with pytest.raises(ConfigError, match="only allowed when") as caught:
        load(document)
    assert caught.value.field == "cfg.communities.reject_cause_map.14"


def test_custom_communities(load: Load) -> None:
    document = minimal_general()
    document["cfg"]["custom_communities"] = {"ixp_member": {"lrg": "rs_as:2000:1"}}
    clients = {
        "clients": [
            {"asn": 20002, "ip": "192.0.2.2", "cfg": {"attach_custom_communities": ["ixp_member"]}}
        ]
    }
    config = load(document, clients)
    assert str(config.general.custom_community("ixp_member").community.lrg) == "59900:2000:1"
    assert config.clients[0].settings.attach_custom_communities == ("ixp_member",)


@pytest.mark.parametrize(
    ("values", "ok"),
    [
        # 0, the route server's ASN and private ASNs never stand for a peer.
        (
            {
                "announce_to_peer": {"std": "0:peer_as"},
                "do_not_announce_to_any": {"std": "0:59900"},
            },
            True,
        ),
        (
            {
                "announce_to_peer": {"std": "0:peer_as"},
                "do_not_announce_to_any": {"std": "0:64512"},
            },
            True,
        ),
        (
            {
                "announce_to_peer": {"lrg": "rs_as:1:peer_as"},
                "do_not_announce_to_any": {"lrg": "rs_as:1:0"},
            },
            True,
        ),
        (
            {
                "announce_to_peer": {"lrg": "rs_as:1:peer_as"},
                "do_not_announce_to_any": {"lrg": "rs_as:1:1"},
            },
            False,
        ),
        # An internal dyn_val community swallows everything that shares its first parts.
        (
            {"reject_cause": {"lrg": "rs_as:1:dyn_val"}, "blackholing": {"lrg": "rs_as:1:666"}},
            False,
        ),
        ({"reject_cause": {"lrg": "rs_as:1:dyn_val"}, "blackholing": {"lrg": "rs_as:2:666"}}, True),
        # Outbound against outbound is allowed.
        (
            {
                "prefix_present_in_as_set": {"lrg": "rs_as:5:1"},
                "origin_present_in_as_set": {"lrg": "rs_as:5:2"},
            },
            True,
        ),
    ],
)
def test_overlaps(load: Load, values: dict, ok: bool) -> None:
    document = with_communities(**values)
    document["cfg"]["filtering"] = {"reject_policy": {"policy": "tag"}}
    if "reject_cause" not in values:
        document["cfg"]["communities"]["reject_cause"] = {"lrg": "rs_as:65535:dyn_val"}
    if ok:
        load(document)
        return
    with pytest.raises(ConfigError, match="overlaps"):
        load(document)
