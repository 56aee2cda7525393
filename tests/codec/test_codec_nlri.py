"""Prefix text straight from the wire equals what ipaddress prints."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from speaker.codec.errors import Malformed
from speaker.codec.nlri import decode_ipv4, decode_ipv6, encode_prefix, ipv6_text
from tests.codec import wire_strategies as ws
from tests.codec.wire_strategies import UNHURRIED


@settings(UNHURRIED, max_examples=3000)
@given(ws.prefix_v6)
def test_ipv6_prefix_text_is_canonical(prefix: str) -> None:
    assert decode_ipv6(encode_prefix(prefix, ipv6=True)) == (prefix,)


@settings(UNHURRIED, max_examples=3000)
@given(ws.prefix_v4)
def test_ipv4_prefix_text_is_canonical(prefix: str) -> None:
    assert decode_ipv4(encode_prefix(prefix, ipv6=False)) == (prefix,)


@settings(UNHURRIED, max_examples=3000)
@given(st.binary(min_size=16, max_size=16) | st.binary(min_size=6, max_size=6).map(
    lambda tail: bytes(10) + b"\xff\xff" + tail[:4]
))
def test_ipv6_address_text_matches_ipaddress(packed: bytes) -> None:
    assert ipv6_text(packed) == str(ipaddress.IPv6Address(packed))


@given(st.integers(0, 32), st.binary(min_size=4, max_size=4))
def test_host_bits_are_cleared(length: int, address: bytes) -> None:
    wire = bytes((length,)) + address[: (length + 7) // 8]
    expected = str(ipaddress.IPv4Network((address, length), strict=False))
    assert decode_ipv4(wire) == (expected,)


@pytest.mark.parametrize(
    ("decoder", "data"),
    [(decode_ipv4, b"\x21" + bytes(5)), (decode_ipv4, b"\x18\x0a"), (decode_ipv6, b"\x81")],
)
def test_bad_prefixes_are_malformed(decoder, data: bytes) -> None:
    with pytest.raises(Malformed):
        decoder(data)


@pytest.mark.parametrize("text", ["10.0.0.0", "10.0.0.0/33", "2001:db8::/32", "x/8", "10.0.0/8"])
def test_encoding_refuses_what_is_not_an_ipv4_prefix(text: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        encode_prefix(text, ipv6=False)
