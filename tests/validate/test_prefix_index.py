"""Prefix text to integers, prefix lists with BIRD's {ge,le}, and community encodings."""

from __future__ import annotations

import pytest

from ixrs.config.communities import CommunitySet, parse_pattern
from processors.validate.communities import Matcher, Tags, ext_bytes, ext_values, render
from processors.validate.net import Net, format_net, parse_prefix
from processors.validate.prefix_index import PrefixList, PrefixRule
from tests.validate.ixp import route


@pytest.mark.parametrize(
    ("text", "net"),
    [
        ("185.50.0.0/24", Net(4, 0xB9320000, 24)),
        ("0.0.0.0/0", Net(4, 0, 0)),
        ("2a0c:9a40::/32", Net(6, 0x2A0C9A40 << 96, 32)),
        ("::/0", Net(6, 0, 0)),
    ],
)
def test_parse_and_format(text: str, net: Net) -> None:
    assert parse_prefix(text) == net
    assert format_net(net) == text


@pytest.mark.parametrize(
    "text",
    [
        "185.50.0.1/24",
        "185.50.0.0/33",
        "185.50.0.0",
        "185.50.0.0/",
        "185.50.0/24",
        "185.50.0.0/+4",
        "2a0c:9a40::/129",
        "2a0c:9a40::1/32",
        "nonsense/8",
        "185.50.0.0/٢٤",
    ],
)
def test_parse_refuses_what_is_not_a_network(text: str) -> None:
    with pytest.raises(ValueError):
        parse_prefix(text)


def test_format_gives_canonical_ipv6() -> None:
    assert format_net(parse_prefix("2A0C:9A40:0:0::/48")) == "2a0c:9a40::/48"


def _match(rules: list[PrefixRule], prefix: str, longer: bool = False) -> bool:
    return PrefixList(rules, longer=longer).match(parse_prefix(prefix)) is not None


def test_ge_le_ranges() -> None:
    rules = [PrefixRule("185.50.0.0/16", 20, 22)]
    assert not _match(rules, "185.50.0.0/16")
    assert _match(rules, "185.50.16.0/20")
    assert _match(rules, "185.50.4.0/22")
    assert not _match(rules, "185.50.4.0/23")
    assert not _match(rules, "185.51.0.0/20")
    assert _match(rules, "185.50.4.0/23", longer=True)  # `longer` lifts le to 32


def test_short_entries_that_only_match_short_routes() -> None:
    # Entries shorter than the /8 gate, whose le is under it too, match routes that the gate
    # never sees; entries whose range reaches past it fill the gate with all their blocks.
    rules = [PrefixRule("0.0.0.0/3", 3, 7), PrefixRule("224.0.0.0/3", 3, 32)]
    assert _match(rules, "16.0.0.0/7")
    assert _match(rules, "0.0.0.0/4")
    assert not _match(rules, "16.0.0.0/8")
    assert _match(rules, "239.1.0.0/16")
    assert _match(rules, "255.255.0.0/16")  # the last block of 224.0.0.0/3
    v6 = [PrefixRule("2000::/3", 3, 15), PrefixRule("fc00::/7", 7, 128)]
    assert _match(v6, "2000::/15")
    assert not _match(v6, "2000::/16")
    assert _match(v6, "fd12:3456::/32")
    assert _match(v6, "fdff:ffff::/32")


def test_families_do_not_mix() -> None:
    rules = [PrefixRule("0.0.0.0/0", 0, 32)]
    assert _match(rules, "185.50.0.0/24")
    assert not _match(rules, "2a0c:9a40::/32")


def _set(**forms: str) -> CommunitySet:
    return CommunitySet(
        **{
            kind: parse_pattern(text, kind, 59900, dyn_val="dyn_val" in text)
            for kind, text in forms.items()
        }
    )


@pytest.mark.parametrize(
    ("ext_type", "admin", "value", "raw"),
    [
        ("rt", 20002, 70000, bytes.fromhex("00024e2200011170")),
        ("ro", 20002, 1, bytes.fromhex("00034e2200000001")),
        ("rt", 65535, 1, bytes.fromhex("0002ffff00000001")),
        ("rt", 65536, 1, bytes.fromhex("0202000100000001")),
        ("rt", 196615, 7, bytes.fromhex("0202000300070007")),
    ],
)
def test_extended_communities_encode_as_bird_does(
    ext_type: str, admin: int, value: int, raw: bytes
) -> None:
    assert ext_bytes(ext_type, admin, value) == raw
    assert ext_values(raw) == (ext_type, admin, value)


def test_render_fills_the_placeholder() -> None:
    tags = render(_set(std="65520:dyn_val", lrg="rs_as:65520:dyn_val", ext="rt:65520:dyn_val"), 9)
    assert tags == Tags(((65520, 9),), ((59900, 65520, 9),), (ext_bytes("rt", 65520, 9),))


def test_matcher_scrubs_every_value_of_a_placeholder() -> None:
    matcher = Matcher.of([_set(lrg="rs_as:65520:dyn_val", ext="ro:64512:dyn_val")])
    attrs = route(
        large=[(59900, 65520, 3), (59900, 65521, 3)],
        ext=[ext_bytes("ro", 64512, 77), ext_bytes("rt", 64512, 77)],
    )
    out = matcher.scrub(attrs)
    assert out.large_communities == ((59900, 65521, 3),)
    assert out.ext_communities == (ext_bytes("rt", 64512, 77),)
    assert matcher.found_in(attrs) and not matcher.found_in(out)


def test_adding_tags_keeps_order_and_skips_duplicates() -> None:
    attrs = route(communities=[(20002, 1), (65535, 0)])
    out = Tags(std=((65535, 0), (65535, 65281))).apply(attrs)
    assert out.communities == ((20002, 1), (65535, 0), (65535, 65281))
