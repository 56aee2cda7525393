"""Message Header, OPEN, NOTIFICATION and ROUTE-REFRESH errors (RFC 4271 §6.1, §6.2)."""

from __future__ import annotations

import struct

import pytest

from speaker.codec import (
    BgpError,
    BgpRole,
    Multiprotocol,
    Negotiated,
    Notification,
    Open,
    OpenSubcode,
    Reader,
    RouteRefresh,
    decode,
    decode_shutdown_communication,
    encode_shutdown_communication,
)
from tests.codec.wire import MARKER, message, open_body

N = Negotiated()


def _error(data: bytes, negotiated: Negotiated = N) -> BgpError:
    with pytest.raises(BgpError) as info:
        decode(data, negotiated)
    return info.value


def test_bad_marker_is_connection_not_synchronized() -> None:
    err = _error(b"\xff" * 15 + b"\x00" + b"\x00\x13\x04")
    assert (err.code, err.subcode) == (1, 1)


@pytest.mark.parametrize("length", [0, 18, 4097, 65535])
def test_length_outside_19_to_4096_is_bad_message_length(length: int) -> None:
    err = _error(message(4, b"", length=length))
    assert (err.code, err.subcode, err.data) == (1, 2, struct.pack("!H", length))


def test_extended_messages_allow_an_update_up_to_65535() -> None:
    withdrawn = b"".join(b"\x18\x0a" + struct.pack("!H", i) for i in range(1200))
    data = message(2, struct.pack("!H", len(withdrawn)) + withdrawn + b"\x00\x00")
    assert _error(data).subcode == 2
    assert len(decode(data, Negotiated(extended_message=True)).withdrawals()) == 1200


def test_open_and_keepalive_never_exceed_4096_even_with_extended_messages() -> None:
    ext = Negotiated(extended_message=True)
    assert _error(message(1, open_body(b"") + bytes(5000)), ext).subcode == 2
    assert _error(message(4, bytes(5000)), ext).subcode == 2


def test_unknown_type_is_bad_message_type() -> None:
    err = _error(message(9, b""))
    assert (err.code, err.subcode, err.data) == (1, 3, b"\x09")


@pytest.mark.parametrize(("kind", "length"), [(1, 28), (2, 22), (3, 20), (4, 20), (5, 22)])
def test_length_below_the_type_minimum_is_bad_message_length(kind: int, length: int) -> None:
    err = _error(message(kind, bytes(length - 19)))
    assert (err.code, err.subcode, err.data) == (1, 2, struct.pack("!H", length))


def test_reader_rejects_a_bad_header_before_the_body_arrives() -> None:
    reader = Reader()
    reader.feed(MARKER + struct.pack("!HB", 5000, 2))
    with pytest.raises(BgpError) as info:
        reader.next_message()
    assert (info.value.code, info.value.subcode) == (1, 2)


def test_unsupported_version_sends_the_largest_supported() -> None:
    err = _error(message(1, open_body(b"", version=3)))
    assert (err.code, err.subcode, err.data) == (2, 1, b"\x00\x04")


@pytest.mark.parametrize("hold", [1, 2])
def test_hold_time_of_one_or_two_is_unacceptable(hold: int) -> None:
    err = _error(message(1, open_body(b"", hold=hold)))
    assert (err.code, err.subcode) == (2, 6)


@pytest.mark.parametrize("hold", [0, 3])
def test_hold_time_of_zero_or_three_is_accepted(hold: int) -> None:
    assert decode(message(1, open_body(b"", hold=hold)), N) == Open(65001, hold, "192.0.2.1")


def test_zero_bgp_identifier_is_bad() -> None:
    err = _error(message(1, open_body(b"", bgp_id=bytes(4))))
    assert (err.code, err.subcode) == (2, 3)


def test_bad_peer_as_is_left_to_the_session_with_its_constant() -> None:
    assert OpenSubcode.BAD_PEER_AS == 2
    assert decode(message(1, open_body(b"", my_as=0)), N) == Open(0, 90, "192.0.2.1")


def test_non_capability_optional_parameter_is_unsupported() -> None:
    param = b"\x01\x02\xab\xcd"  # type 1, the deprecated authentication parameter
    err = _error(message(1, open_body(param)))
    assert (err.code, err.subcode, err.data) == (2, 4, param)


def test_malformed_known_capability_is_an_open_error() -> None:
    param = b"\x02\x05" + b"\x01\x03\x00\x01\x00"  # multiprotocol of 3 octets
    err = _error(message(1, open_body(param)))
    assert (err.code, err.subcode) == (2, 0)


def test_capability_overrunning_its_parameter_is_an_open_error() -> None:
    param = b"\x02\x03" + b"\x41\x04\x00"
    assert _error(message(1, open_body(param))).subcode == 0


def test_parameters_length_disagreeing_with_the_message_is_an_open_error() -> None:
    body = open_body(b"\x02\x02\x02\x00")
    body = body[:9] + b"\x05" + body[10:]
    assert _error(message(1, body)).code == 2


def test_conflicting_roles_are_a_role_mismatch() -> None:
    param = b"\x02\x06" + b"\x09\x01\x01" + b"\x09\x01\x03"
    err = _error(message(1, open_body(param)))
    assert (err.code, err.subcode) == (2, 11)


def test_extended_optional_parameters_are_read() -> None:
    # RFC 9072 §2: 255, 255, 2-octet length, then type + 2-octet length params.
    caps = b"\x01\x04\x00\x02\x00\x01" + b"\x09\x01\x02"
    params = b"\xff\xff" + struct.pack("!H", 3 + len(caps)) + b"\x02" + struct.pack("!H", len(caps))
    body = open_body(b"")[:9] + params + caps
    assert decode(message(1, body), N).capabilities == (Multiprotocol(2, 1), BgpRole(2))


def test_borr_of_bad_length_is_a_route_refresh_error_carrying_the_message() -> None:
    data = message(5, b"\x00\x01\x01\x01\x00")
    err = _error(data)
    assert (err.code, err.subcode, err.data) == (7, 1, data)


def test_normal_route_refresh_of_bad_length_is_bad_message_length() -> None:
    err = _error(message(5, b"\x00\x01\x00\x01\x00"))
    assert (err.code, err.subcode) == (1, 2)


def test_unknown_route_refresh_subtype_is_kept_for_the_session_to_ignore() -> None:
    assert decode(message(5, b"\x00\x02\x07\x01"), N) == RouteRefresh(2, 1, 7)


def test_shutdown_communication_is_decoded_from_admin_shutdown() -> None:
    text = "maintenance, back at 14:00 — ticket 42"
    note = Notification(6, 2, encode_shutdown_communication(text))
    assert decode(message(3, b"\x06\x02" + note.data), N).shutdown_communication() == text
    assert Notification(6, 3, note.data).shutdown_communication() is None


@pytest.mark.parametrize("data", [b"", b"\x05abc", b"\x02\xff\xfe", b"\x00"])
def test_malformed_shutdown_communication_is_none(data: bytes) -> None:
    assert decode_shutdown_communication(data) is None


def test_shutdown_communication_is_cut_to_255_octets_on_a_character_boundary() -> None:
    data = encode_shutdown_communication("é" * 200)
    assert data[0] == 254 and len(data) == 255
    assert decode_shutdown_communication(data) == "é" * 127
