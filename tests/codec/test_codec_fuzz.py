"""Whatever bytes arrive, the codec answers with a message or a BgpError."""

from __future__ import annotations

import contextlib
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from speaker.codec import BgpError, Keepalive, Negotiated, Reader, decode, encode
from speaker.codec.header import MARKER
from tests.codec import wire_strategies as ws
from tests.codec.wire_strategies import UNHURRIED

SESSIONS = st.builds(
    Negotiated, four_octet_as=st.booleans(), extended_message=st.booleans(), ibgp=st.booleans()
)


def _drain(reader: Reader) -> None:
    with contextlib.suppress(BgpError):
        list(reader)


@settings(UNHURRIED, max_examples=500)
@given(SESSIONS, st.binary(max_size=600))
def test_random_stream_only_raises_bgp_error(negotiated: Negotiated, data: bytes) -> None:
    reader = Reader(negotiated)
    reader.feed(data)
    _drain(reader)


@settings(UNHURRIED, max_examples=2000)
@given(SESSIONS, st.integers(1, 5), st.binary(max_size=300))
def test_random_body_behind_a_valid_header_only_raises_bgp_error(
    negotiated: Negotiated, kind: int, body: bytes
) -> None:
    data = MARKER + struct.pack("!HB", 19 + len(body), kind) + body
    with contextlib.suppress(BgpError):
        decode(data, negotiated)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Negotiated, bytes]:
    """A valid message with a few octets overwritten, inserted or removed,
    its length field kept consistent half of the time."""
    negotiated = draw(SESSIONS)
    message = draw(ws.messages(negotiated))
    try:
        data = bytearray(encode(message, negotiated))
    except ValueError:
        data = bytearray(encode(Keepalive(), negotiated))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(16, len(data)))
        match draw(st.sampled_from(("set", "insert", "delete"))):
            case "set" if at < len(data):
                data[at] = draw(st.integers(0, 255))
            case "insert":
                data[at:at] = draw(st.binary(min_size=1, max_size=4))
            case "delete" if at < len(data):
                del data[at]
    if draw(st.booleans()) and len(data) >= 19:
        data[16:18] = struct.pack("!H", min(len(data), 0xFFFF))
    return negotiated, bytes(data)


@settings(UNHURRIED, max_examples=2000)
@given(mutated())
def test_mutated_valid_messages_only_raise_bgp_error(case) -> None:
    negotiated, data = case
    with contextlib.suppress(BgpError):
        decode(data, negotiated)
    reader = Reader(negotiated)
    reader.feed(data)
    _drain(reader)
