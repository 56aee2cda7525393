"""UPDATE errors, one test per case of RFC 4271 §6.3 as revised by RFC 7606."""

from __future__ import annotations

import struct

import pytest

from speaker.codec import Action, BgpError, Negotiated, Update, decode
from tests.codec.wire import (
    AS_PATH_2,
    AS_PATH_4,
    MANDATORY,
    NEXT_HOP,
    NLRI,
    ORIGIN_IGP,
    WITHDRAWN,
    attr,
    message,
    mp_reach_v6,
    update,
)

EBGP = Negotiated()
IBGP = Negotiated(ibgp=True)
TWO_OCTET = Negotiated(four_octet_as=False)


def _decoded(data: bytes, negotiated: Negotiated = EBGP) -> Update:
    result = decode(data, negotiated)
    assert isinstance(result, Update)
    return result


def _reset(data: bytes, negotiated: Negotiated = EBGP) -> BgpError:
    with pytest.raises(BgpError) as info:
        decode(data, negotiated)
    return info.value


def _withdrawn(data: bytes, code: int, negotiated: Negotiated = EBGP) -> Update:
    """Assert the UPDATE is treat-as-withdraw because of attribute ``code``."""
    result = _decoded(data, negotiated)
    assert result.treat_as_withdraw
    assert result.announced() == ()
    assert any(n.type_code == code and n.action == Action.TREAT_AS_WITHDRAW for n in result.notes)
    return result


def _discarded(data: bytes, code: int, negotiated: Negotiated = EBGP) -> Update:
    """Assert the attribute was discarded and the route still stands."""
    result = _decoded(data, negotiated)
    assert not result.treat_as_withdraw
    assert len(result.announced()) == 1
    assert any(n.type_code == code and n.action == Action.ATTRIBUTE_DISCARD for n in result.notes)
    return result


# --- message structure: session reset (RFC 4271 §6.3, RFC 7606 §3.b, §5.3) ---


def test_withdrawn_routes_length_overrun_is_malformed_attribute_list() -> None:
    data = message(2, struct.pack("!HH", 50, 0))
    assert (_reset(data).code, _reset(data).subcode) == (3, 1)


def test_total_attribute_length_overrun_is_malformed_attribute_list() -> None:
    data = message(2, struct.pack("!HH", 0, 10) + ORIGIN_IGP)
    assert (_reset(data).code, _reset(data).subcode) == (3, 1)


@pytest.mark.parametrize("nlri", [b"\x21\x0a\x00\x00\x00\x00", b"\x18\x0a\x00"])
def test_bad_nlri_is_invalid_network_field(nlri: bytes) -> None:
    err = _reset(update(attrs=MANDATORY, nlri=nlri))
    assert (err.code, err.subcode) == (3, 10)


def test_bad_withdrawn_routes_are_invalid_network_field() -> None:
    err = _reset(update(withdrawn=b"\x40\x0a"))
    assert (err.code, err.subcode) == (3, 10)


def test_host_bits_in_nlri_are_ignored() -> None:
    assert _decoded(update(attrs=MANDATORY, nlri=b"\x17\xc0\x00\x03")).nlri == ("192.0.2.0/23",)


# --- duplicates (RFC 7606 §3.g) ---


def test_repeated_mp_reach_resets_with_malformed_attribute_list() -> None:
    attrs = mp_reach_v6() + mp_reach_v6() + ORIGIN_IGP + AS_PATH_4
    assert (_reset(update(attrs=attrs)).code, _reset(update(attrs=attrs)).subcode) == (3, 1)


def test_repeated_mp_unreach_resets_with_malformed_attribute_list() -> None:
    unreach = attr(0x80, 15, b"\x00\x02\x01")
    assert _reset(update(attrs=unreach + unreach)).subcode == 1


def test_other_repeated_attribute_keeps_the_first() -> None:
    med = attr(0x80, 4, b"\x00\x00\x00\x01") + attr(0x80, 4, b"\x00\x00\x00\x02")
    result = _discarded(update(attrs=MANDATORY + med, nlri=NLRI), 4)
    assert result.attributes is not None and result.attributes.med == 1


# --- unrecognized attributes (RFC 4271 §5, §6.3) ---


def test_unrecognized_well_known_attribute_resets() -> None:
    unknown = attr(0x40, 99, b"\x01")
    err = _reset(update(attrs=MANDATORY + unknown, nlri=NLRI))
    assert (err.code, err.subcode, err.data) == (3, 2, unknown)


def test_unknown_optional_transitive_is_kept_and_unknown_non_transitive_dropped() -> None:
    attrs = MANDATORY + attr(0xC0, 99, b"keep") + attr(0x80, 98, b"drop")
    result = _decoded(update(attrs=attrs, nlri=NLRI))
    assert result.attributes is not None
    assert [(a.type_code, a.value) for a in result.attributes.unknown] == [(99, b"keep")]
    assert result.notes == ()


def test_unknown_attribute_keeps_its_flags_but_not_the_extended_length_bit() -> None:
    attrs = MANDATORY + attr(0xF0, 99, b"x")  # Optional, Transitive, Partial, Extended
    result = _decoded(update(attrs=attrs, nlri=NLRI))
    assert result.attributes is not None
    assert [a.flags for a in result.attributes.unknown] == [0xE0]


# --- missing well-known mandatory attributes (RFC 7606 §3.d) ---


@pytest.mark.parametrize(
    ("attrs", "missing"),
    [(AS_PATH_4 + NEXT_HOP, 1), (ORIGIN_IGP + NEXT_HOP, 2), (ORIGIN_IGP + AS_PATH_4, 3)],
)
def test_missing_mandatory_attribute_is_treat_as_withdraw(attrs: bytes, missing: int) -> None:
    result = _withdrawn(update(attrs=attrs, nlri=NLRI), missing)
    assert result.withdrawals() == ("198.51.100.0/24",)


def test_nlri_without_any_attribute_is_treat_as_withdraw() -> None:
    _withdrawn(update(nlri=NLRI), 1)


def test_next_hop_is_not_mandatory_when_only_mp_reach_carries_nlri() -> None:
    result = _decoded(update(attrs=mp_reach_v6() + ORIGIN_IGP + AS_PATH_4))
    assert not result.treat_as_withdraw
    assert result.announced()[0][1] == ("2001:db8::/32",)


def test_missing_mandatory_attribute_for_mp_nlri_withdraws_them() -> None:
    result = _withdrawn(update(attrs=mp_reach_v6() + ORIGIN_IGP), 2)
    assert result.withdrawals() == ("2001:db8::/32",)


# --- attribute flags (RFC 7606 §3.c, §5.3) ---


def test_conflicting_flags_are_treat_as_withdraw() -> None:
    attrs = attr(0xC0, 1, b"\x00") + AS_PATH_4 + NEXT_HOP
    _withdrawn(update(attrs=attrs, nlri=NLRI), 1)


def test_conflicting_flags_on_mp_reach_reset_even_with_other_nlri() -> None:
    bad = bytearray(mp_reach_v6())
    bad[0] = 0xC0
    err = _reset(update(attrs=bytes(bad) + MANDATORY, nlri=NLRI))
    assert (err.code, err.subcode, err.data) == (3, 4, bytes(bad))


def test_partial_and_extended_length_bits_are_not_flag_conflicts() -> None:
    origin = attr(0x70, 1, b"\x00")  # Transitive + Partial + Extended Length
    assert not _decoded(update(attrs=origin + AS_PATH_4 + NEXT_HOP, nlri=NLRI)).treat_as_withdraw


# --- per attribute (RFC 7606 §7) ---


@pytest.mark.parametrize("value", [b"\x03", b"\x00\x00", b""])
def test_malformed_origin_is_treat_as_withdraw(value: bytes) -> None:
    _withdrawn(update(attrs=attr(0x40, 1, value) + AS_PATH_4 + NEXT_HOP, nlri=NLRI), 1)


@pytest.mark.parametrize(
    "value",
    [
        b"\x05\x01\x00\x00\xfd\xe9",  # unknown segment type
        b"\x02\x00",  # empty segment
        b"\x02\x02\x00\x00\xfd\xe9",  # overrun
        b"\x02\x01\x00\x00\xfd\xe9\x02",  # underrun: one octet left
    ],
)
def test_malformed_as_path_is_treat_as_withdraw(value: bytes) -> None:
    _withdrawn(update(attrs=ORIGIN_IGP + attr(0x40, 2, value) + NEXT_HOP, nlri=NLRI), 2)


def test_empty_as_path_is_valid() -> None:
    result = _decoded(update(attrs=ORIGIN_IGP + attr(0x40, 2, b"") + NEXT_HOP, nlri=NLRI))
    assert result.attributes is not None and result.attributes.as_path == ()


def test_malformed_next_hop_is_treat_as_withdraw() -> None:
    attrs = ORIGIN_IGP + AS_PATH_4 + attr(0x40, 3, b"\xc0\x00\x02\x01\x00")
    _withdrawn(update(attrs=attrs, nlri=NLRI), 3)


def test_malformed_next_hop_is_ignored_when_only_mp_reach_carries_nlri() -> None:
    attrs = mp_reach_v6() + ORIGIN_IGP + AS_PATH_4 + attr(0x40, 3, b"\x01")
    _discarded(update(attrs=attrs), 3)


@pytest.mark.parametrize("value", [b"\x00\x00\x01", b""])
def test_malformed_med_is_treat_as_withdraw(value: bytes) -> None:
    _withdrawn(update(attrs=MANDATORY + attr(0x80, 4, value), nlri=NLRI), 4)


def test_local_pref_from_external_peer_is_discarded_even_if_malformed() -> None:
    result = _discarded(update(attrs=MANDATORY + attr(0x40, 5, b"\x01"), nlri=NLRI), 5)
    assert result.attributes is not None and result.attributes.local_pref is None


def test_local_pref_from_internal_peer_is_kept_and_if_malformed_withdraws() -> None:
    ok = _decoded(update(attrs=MANDATORY + attr(0x40, 5, b"\x00\x00\x00\x64"), nlri=NLRI), IBGP)
    assert ok.attributes is not None and ok.attributes.local_pref == 100
    _withdrawn(update(attrs=MANDATORY + attr(0x40, 5, b"\x01"), nlri=NLRI), 5, IBGP)


def test_malformed_atomic_aggregate_is_discarded() -> None:
    result = _discarded(update(attrs=MANDATORY + attr(0x40, 6, b"\x01"), nlri=NLRI), 6)
    assert result.attributes is not None and not result.attributes.atomic_aggregate


@pytest.mark.parametrize(
    ("negotiated", "size"), [(EBGP, 6), (TWO_OCTET, 8)], ids=["4-octet", "2-octet"]
)
def test_aggregator_of_the_other_session_size_is_discarded(negotiated, size) -> None:
    as_path = AS_PATH_4 if negotiated.four_octet_as else AS_PATH_2
    attrs = ORIGIN_IGP + as_path + NEXT_HOP + attr(0xC0, 7, bytes(size))
    result = _discarded(update(attrs=attrs, nlri=NLRI), 7, negotiated)
    assert result.attributes is not None and result.attributes.aggregator is None


@pytest.mark.parametrize(
    ("code", "value"),
    [
        (8, b""),
        (8, b"\x00\x01\x00\x02\x00"),  # COMMUNITIES, RFC 7606 §7.8
        (16, bytes(7)),  # EXTENDED_COMMUNITIES, §7.14
        (32, bytes(11)),  # LARGE_COMMUNITY, RFC 8092 §6
        (32, b""),
        (35, b"\x00\x00\xfd"),  # OTC, RFC 9234 §5
    ],
)
def test_malformed_community_or_otc_is_treat_as_withdraw(code: int, value: bytes) -> None:
    _withdrawn(update(attrs=MANDATORY + attr(0xC0, code, value), nlri=NLRI), code)


@pytest.mark.parametrize(("code", "value"), [(9, b"\x01\x02\x03"), (10, b"")])
def test_reflection_attributes_from_external_peer_are_discarded(code: int, value: bytes) -> None:
    _discarded(update(attrs=MANDATORY + attr(0x80, code, value), nlri=NLRI), code)


@pytest.mark.parametrize(("code", "value"), [(9, b"\x01\x02\x03"), (10, b"\x01\x02")])
def test_malformed_reflection_attributes_from_internal_peer_withdraw(code, value) -> None:
    _withdrawn(update(attrs=MANDATORY + attr(0x80, code, value), nlri=NLRI), code, IBGP)


# --- MP_REACH_NLRI / MP_UNREACH_NLRI: session reset (RFC 7606 §5.3, §7.11) ---


@pytest.mark.parametrize(
    "reach",
    [
        attr(0x80, 14, b"\x00\x02\x01\x10"),  # shorter than 5
        mp_reach_v6(next_hop_len=8),  # impossible IPv6 next hop length
        mp_reach_v6(nlri=b"\x81" + bytes(17)),  # prefix length 129
        mp_reach_v6(nlri=b"\x30\x20\x01"),  # prefix overruns
    ],
)
def test_malformed_mp_reach_resets_with_optional_attribute_error(reach: bytes) -> None:
    err = _reset(update(attrs=reach + ORIGIN_IGP + AS_PATH_4))
    assert (err.code, err.subcode) == (3, 9)


def test_malformed_mp_unreach_resets() -> None:
    err = _reset(update(attrs=attr(0x80, 15, b"\x00\x02")))
    assert (err.code, err.subcode) == (3, 9)


def test_mp_reach_of_a_family_not_negotiated_is_discarded() -> None:
    reach = attr(0x80, 14, b"\x00\x19\x41\x04\x01\x02\x03\x04\x00\xab")
    result = _decoded(update(attrs=reach + MANDATORY, nlri=NLRI))
    assert not result.treat_as_withdraw and result.mp_reach is None
    assert [(n.type_code, n.action) for n in result.notes] == [(14, Action.ATTRIBUTE_DISCARD)]


def test_ipv6_next_hop_of_32_octets_carries_the_link_local() -> None:
    next_hop = bytes.fromhex("20010db8000000000000000000000001fe800000000000000000000000000001")
    reach = attr(0x80, 14, b"\x00\x02\x01\x20" + next_hop + b"\x00\x20\x20\x01\x0d\xb8")
    result = _decoded(update(attrs=reach + ORIGIN_IGP + AS_PATH_4))
    assert result.mp_reach is not None
    assert (result.mp_reach.next_hop, result.mp_reach.next_hop_link_local) == (
        "2001:db8::1",
        "fe80::1",
    )


# --- attribute framing (RFC 7606 §4, §5.2) ---


def test_attribute_overrunning_the_list_with_nlri_is_treat_as_withdraw() -> None:
    attrs = MANDATORY + b"\x80\x04\x09\x00\x00"  # MED claiming 9 octets, 2 left
    result = _withdrawn(update(attrs=attrs, nlri=NLRI), 0)
    assert result.withdrawals() == ("198.51.100.0/24",)


def test_truncated_attribute_header_with_nlri_is_treat_as_withdraw() -> None:
    _withdrawn(update(attrs=MANDATORY + b"\x80\x04", nlri=NLRI), 0)


def test_attribute_overrun_without_reachable_nlri_resets() -> None:
    err = _reset(update(withdrawn=WITHDRAWN, attrs=ORIGIN_IGP + b"\x80\x04\x09\x00"))
    assert (err.code, err.subcode) == (3, 1)


def test_treat_as_withdraw_error_without_reachable_nlri_resets() -> None:
    # RFC 7606 §5.2: no NLRI to withdraw, so the error cannot be contained.
    err = _reset(update(withdrawn=WITHDRAWN, attrs=attr(0x40, 1, b"\x07")))
    assert (err.code, err.subcode, err.data) == (3, 6, attr(0x40, 1, b"\x07"))


def test_discard_error_without_reachable_nlri_is_only_noted() -> None:
    result = _decoded(update(withdrawn=WITHDRAWN, attrs=attr(0x40, 6, b"\x01")))
    assert result.withdrawals() == ("10.1.0.0/16",)
    assert [n.action for n in result.notes] == [Action.ATTRIBUTE_DISCARD]


@pytest.mark.parametrize(("code", "flags"), [(3, 0x40), (4, 0x80), (16, 0xC0), (35, 0xC0)])
def test_zero_length_attribute_is_an_error(code: int, flags: int) -> None:
    # RFC 7606 §4: only AS_PATH and ATOMIC_AGGREGATE may be empty.
    attrs = ORIGIN_IGP + AS_PATH_4 + (b"" if code == 3 else NEXT_HOP) + attr(flags, code, b"")
    _withdrawn(update(attrs=attrs, nlri=NLRI), code)


def test_empty_atomic_aggregate_is_valid() -> None:
    result = _decoded(update(attrs=MANDATORY + attr(0x40, 6, b""), nlri=NLRI))
    assert result.attributes is not None and result.attributes.atomic_aggregate


def test_strongest_approach_wins() -> None:
    both = MANDATORY + attr(0x40, 6, b"\x01") + attr(0x80, 4, b"\x01")
    result = _withdrawn(update(attrs=both, nlri=NLRI), 4)
    assert {n.action for n in result.notes} == {Action.ATTRIBUTE_DISCARD, Action.TREAT_AS_WITHDRAW}
    with pytest.raises(BgpError):
        decode(update(attrs=attr(0x80, 4, b"\x01") + mp_reach_v6(next_hop_len=3)), EBGP)
