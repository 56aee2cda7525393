"""Path attributes on the wire (RFC 4271 §4.3, §5), with RFC 7606 error handling.

Decoding builds one :class:`schemas.attributes.Attributes` per UPDATE. Each
attribute problem gets the approach RFC 7606 gives it: a :class:`BgpError`
(session reset), treat-as-withdraw, or attribute discard; the last two become
:class:`Note` values on the decoded UPDATE.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from schemas.attributes import Aggregator, AsPathSegment, Attributes, Origin, RawAttribute
from speaker.codec.aspath import decode_as_path, merge_as4_path, without_confed
from speaker.codec.errors import BgpError, ErrorCode, Malformed, UpdateSubcode
from speaker.codec.families import SUPPORTED_FAMILIES, Afi
from speaker.codec.messages import AS_TRANS, Action, MpReach, MpUnreach, Note
from speaker.codec.negotiated import Negotiated
from speaker.codec.nlri import decode_ipv4, decode_ipv6, ipv6_text

OPTIONAL = 0x80
TRANSITIVE = 0x40
PARTIAL = 0x20
EXTENDED_LENGTH = 0x10
OPTIONAL_TRANSITIVE = OPTIONAL | TRANSITIVE
_KIND = OPTIONAL_TRANSITIVE  # the bits that say what kind of attribute it is
_KEPT_FLAGS = OPTIONAL | TRANSITIVE | PARTIAL  # the Extended Length bit is framing


class AttrType(IntEnum):
    ORIGIN = 1
    AS_PATH = 2
    NEXT_HOP = 3
    MULTI_EXIT_DISC = 4
    LOCAL_PREF = 5
    ATOMIC_AGGREGATE = 6
    AGGREGATOR = 7
    COMMUNITIES = 8  # RFC 1997
    ORIGINATOR_ID = 9  # RFC 4456
    CLUSTER_LIST = 10  # RFC 4456
    MP_REACH_NLRI = 14  # RFC 4760
    MP_UNREACH_NLRI = 15  # RFC 4760
    EXTENDED_COMMUNITIES = 16  # RFC 4360
    AS4_PATH = 17  # RFC 6793
    AS4_AGGREGATOR = 18  # RFC 6793
    LARGE_COMMUNITY = 32  # RFC 8092
    OTC = 35  # RFC 9234


_ORIGINS = tuple(Origin)
_MP = (AttrType.MP_REACH_NLRI, AttrType.MP_UNREACH_NLRI)
_RESET = "session-reset"  # the strongest approach: a BgpError, never a Note
_IPV6_NEXT_HOP_SIZES = (16, 32)  # RFC 2545 §3: global, or global + link-local


@dataclass(frozen=True, slots=True)
class DecodedAttributes:
    attributes: Attributes | None
    mp_reach: MpReach | None
    mp_unreach: MpUnreach | None
    treat_as_withdraw: bool
    notes: tuple[Note, ...]


class _State:
    """What one UPDATE's attributes decoded to so far."""

    __slots__ = (
        "agg4",
        "aggregator",
        "as4_path",
        "as_path",
        "atomic_aggregate",
        "body_nlri",
        "communities",
        "error",
        "ext_communities",
        "large_communities",
        "local_pref",
        "med",
        "mp_reach",
        "mp_unreach",
        "negotiated",
        "next_hop",
        "notes",
        "origin",
        "otc",
        "path_attributes",
        "seen",
        "unknown",
        "withdraw",
    )

    def __init__(self, negotiated: Negotiated, body_nlri: bool) -> None:
        self.negotiated = negotiated
        self.body_nlri = body_nlri
        self.seen: set[int] = set()
        self.notes: list[Note] = []
        self.withdraw = False
        self.error: BgpError | None = None  # the first treat-as-withdraw cause
        self.path_attributes = False
        self.origin: Origin | None = None
        self.as_path: tuple[AsPathSegment, ...] | None = None
        self.next_hop: str | None = None
        self.med: int | None = None
        self.local_pref: int | None = None
        self.atomic_aggregate = False
        self.aggregator: Aggregator | None = None
        self.communities: tuple[tuple[int, int], ...] = ()
        self.ext_communities: tuple[bytes, ...] = ()
        self.large_communities: tuple[tuple[int, int, int], ...] = ()
        self.otc: int | None = None
        self.unknown: list[RawAttribute] = []
        self.as4_path: tuple[AsPathSegment, ...] | None = None
        self.agg4: Aggregator | None = None
        self.mp_reach: MpReach | None = None
        self.mp_unreach: MpUnreach | None = None

    def note(self, code: int, action: Action, reason: str) -> None:
        self.notes.append(Note(code, action, reason))

    def treat_as_withdraw(self, code: int, subcode: int, data: bytes, reason: str) -> None:
        self.note(code, Action.TREAT_AS_WITHDRAW, reason)
        self.withdraw = True
        if self.error is None:
            self.error = BgpError(ErrorCode.UPDATE_MESSAGE, subcode, data, reason)


# --- one decoder per attribute; each raises Malformed or stores into the state ---


def _expect(value: bytes, size: int, what: str) -> None:
    if len(value) != size:
        raise Malformed(f"{what} length {len(value)}, expected {size}")


def _expect_multiple(value: bytes, size: int, what: str) -> None:
    if not value or len(value) % size:
        raise Malformed(f"{what} length {len(value)} is not a non-zero multiple of {size}")


def _origin(st: _State, value: bytes) -> None:
    _expect(value, 1, "ORIGIN")
    if value[0] >= len(_ORIGINS):
        raise Malformed(f"undefined ORIGIN {value[0]}")
    st.origin = _ORIGINS[value[0]]


def _as_path(st: _State, value: bytes) -> None:
    st.as_path = decode_as_path(value, st.negotiated.asn_size)


def _next_hop(st: _State, value: bytes) -> None:
    _expect(value, 4, "NEXT_HOP")
    st.next_hop = socket.inet_ntoa(value)


def _med(st: _State, value: bytes) -> None:
    _expect(value, 4, "MULTI_EXIT_DISC")
    st.med = int.from_bytes(value, "big")


def _local_pref(st: _State, value: bytes) -> None:
    _expect(value, 4, "LOCAL_PREF")
    st.local_pref = int.from_bytes(value, "big")


def _atomic_aggregate(st: _State, value: bytes) -> None:
    _expect(value, 0, "ATOMIC_AGGREGATE")
    st.atomic_aggregate = True


def _aggregator(st: _State, value: bytes) -> None:
    size = st.negotiated.asn_size
    _expect(value, size + 4, "AGGREGATOR")
    st.aggregator = Aggregator(int.from_bytes(value[:size], "big"), socket.inet_ntoa(value[size:]))


def _communities(st: _State, value: bytes) -> None:
    _expect_multiple(value, 4, "COMMUNITIES")
    halves = struct.unpack(f"!{len(value) // 2}H", value)
    st.communities = tuple(zip(halves[0::2], halves[1::2], strict=True))


def _originator_id(st: _State, value: bytes) -> None:
    # Checked so a malformed one still withdraws (RFC 7606 §7.9); not kept,
    # since a route server does no reflection.
    _expect(value, 4, "ORIGINATOR_ID")


def _cluster_list(st: _State, value: bytes) -> None:
    _expect_multiple(value, 4, "CLUSTER_LIST")


def _ext_communities(st: _State, value: bytes) -> None:
    _expect_multiple(value, 8, "EXTENDED_COMMUNITIES")
    st.ext_communities = tuple(value[i : i + 8] for i in range(0, len(value), 8))


def _large_communities(st: _State, value: bytes) -> None:
    _expect_multiple(value, 12, "LARGE_COMMUNITY")
    words = struct.unpack(f"!{len(value) // 4}I", value)
    st.large_communities = tuple(zip(words[0::3], words[1::3], words[2::3], strict=True))


def _otc(st: _State, value: bytes) -> None:
    _expect(value, 4, "OTC")
    st.otc = int.from_bytes(value, "big")


def _as4_path(st: _State, value: bytes) -> None:
    if not value:
        raise Malformed("empty AS4_PATH")
    segments = decode_as_path(value, 4)
    stripped = without_confed(segments)
    if stripped is not None:
        st.note(AttrType.AS4_PATH, Action.ATTRIBUTE_DISCARD, "confederation segments removed")
        segments = stripped
    st.as4_path = segments


def _as4_aggregator(st: _State, value: bytes) -> None:
    _expect(value, 8, "AS4_AGGREGATOR")
    st.agg4 = Aggregator(int.from_bytes(value[:4], "big"), socket.inet_ntoa(value[4:]))


def _mp_next_hop(afi: int, raw: bytes) -> tuple[str, str | None]:
    if afi == Afi.IPV4:
        _expect(raw, 4, "MP_REACH_NLRI IPv4 next hop")
        return socket.inet_ntoa(raw), None
    if len(raw) not in _IPV6_NEXT_HOP_SIZES:
        raise Malformed(f"MP_REACH_NLRI IPv6 next hop length {len(raw)}")
    link_local = ipv6_text(raw[16:]) if len(raw) == 32 else None
    return ipv6_text(raw[:16]), link_local


def _prefix_decoder(afi: int) -> Callable[[bytes], tuple[str, ...]]:
    return decode_ipv4 if afi == Afi.IPV4 else decode_ipv6


def _family_ignored(st: _State, code: int, afi: int, safi: int) -> bool:
    if (afi, safi) in st.negotiated.families and (afi, safi) in SUPPORTED_FAMILIES:
        return False
    st.note(code, Action.ATTRIBUTE_DISCARD, f"AFI/SAFI {afi}/{safi} not negotiated")
    return True


def _mp_reach(st: _State, value: bytes) -> None:
    if len(value) < 5 or len(value) < 5 + value[3]:
        raise Malformed(f"MP_REACH_NLRI length {len(value)}")
    afi, safi, nh_len = struct.unpack_from("!HBB", value)
    if _family_ignored(st, AttrType.MP_REACH_NLRI, afi, safi):
        return
    next_hop, link_local = _mp_next_hop(afi, value[4 : 4 + nh_len])
    # RFC 4760 §3: the Reserved octet is ignored on receipt.
    nlri = _prefix_decoder(afi)(value[5 + nh_len :])
    st.mp_reach = MpReach(afi, safi, next_hop, link_local, nlri)


def _mp_unreach(st: _State, value: bytes) -> None:
    if len(value) < 3:
        raise Malformed(f"MP_UNREACH_NLRI length {len(value)}")
    afi, safi = struct.unpack_from("!HB", value)
    if _family_ignored(st, AttrType.MP_UNREACH_NLRI, afi, safi):
        return
    st.mp_unreach = MpUnreach(afi, safi, _prefix_decoder(afi)(value[3:]))


@dataclass(frozen=True, slots=True)
class _Spec:
    flags: int  # the Optional and Transitive bits this attribute must carry
    decode: Callable[[_State, bytes], None]
    action: Action | str  # RFC 7606 §7 approach when malformed
    subcode: int  # RFC 4271 §6.3 subcode, should the error reset the session


_W, _D = Action.TREAT_AS_WITHDRAW, Action.ATTRIBUTE_DISCARD
_U = UpdateSubcode
_SPECS: dict[int, _Spec] = {
    AttrType.ORIGIN: _Spec(TRANSITIVE, _origin, _W, _U.INVALID_ORIGIN_ATTRIBUTE),
    AttrType.AS_PATH: _Spec(TRANSITIVE, _as_path, _W, _U.MALFORMED_AS_PATH),
    AttrType.NEXT_HOP: _Spec(TRANSITIVE, _next_hop, _W, _U.INVALID_NEXT_HOP_ATTRIBUTE),
    AttrType.MULTI_EXIT_DISC: _Spec(OPTIONAL, _med, _W, _U.ATTRIBUTE_LENGTH_ERROR),
    AttrType.LOCAL_PREF: _Spec(TRANSITIVE, _local_pref, _W, _U.ATTRIBUTE_LENGTH_ERROR),
    AttrType.ATOMIC_AGGREGATE: _Spec(
        TRANSITIVE, _atomic_aggregate, _D, _U.ATTRIBUTE_LENGTH_ERROR
    ),
    AttrType.AGGREGATOR: _Spec(_KIND, _aggregator, _D, _U.ATTRIBUTE_LENGTH_ERROR),
    AttrType.COMMUNITIES: _Spec(_KIND, _communities, _W, _U.ATTRIBUTE_LENGTH_ERROR),
    AttrType.ORIGINATOR_ID: _Spec(OPTIONAL, _originator_id, _W, _U.ATTRIBUTE_LENGTH_ERROR),
    AttrType.CLUSTER_LIST: _Spec(OPTIONAL, _cluster_list, _W, _U.ATTRIBUTE_LENGTH_ERROR),
    AttrType.MP_REACH_NLRI: _Spec(OPTIONAL, _mp_reach, _RESET, _U.OPTIONAL_ATTRIBUTE_ERROR),
    AttrType.MP_UNREACH_NLRI: _Spec(OPTIONAL, _mp_unreach, _RESET, _U.OPTIONAL_ATTRIBUTE_ERROR),
    AttrType.EXTENDED_COMMUNITIES: _Spec(
        _KIND, _ext_communities, _W, _U.ATTRIBUTE_LENGTH_ERROR
    ),
    AttrType.AS4_PATH: _Spec(_KIND, _as4_path, _D, _U.OPTIONAL_ATTRIBUTE_ERROR),
    AttrType.AS4_AGGREGATOR: _Spec(_KIND, _as4_aggregator, _D, _U.ATTRIBUTE_LENGTH_ERROR),
    AttrType.LARGE_COMMUNITY: _Spec(_KIND, _large_communities, _W, _U.ATTRIBUTE_LENGTH_ERROR),
    AttrType.OTC: _Spec(_KIND, _otc, _W, _U.ATTRIBUTE_LENGTH_ERROR),
}

# The Optional and Transitive bits of every attribute this codec interprets.
STANDARD_FLAGS: dict[int, int] = {code: spec.flags for code, spec in _SPECS.items()}
_EBGP_ONLY_DISCARDED = (AttrType.LOCAL_PREF, AttrType.ORIGINATOR_ID, AttrType.CLUSTER_LIST)
_AS4_ATTRIBUTES = (AttrType.AS4_PATH, AttrType.AS4_AGGREGATOR)


def _out_of_place(code: int, negotiated: Negotiated) -> str | None:
    """Why this session discards the attribute whatever its content, if it does."""
    if code in _EBGP_ONLY_DISCARDED and not negotiated.ibgp:
        return "received from an external peer (RFC 7606 §7.5, §7.9, §7.10)"
    if code in _AS4_ATTRIBUTES and negotiated.four_octet_as:
        return "received from a 4-octet AS speaker (RFC 6793 §4.1)"
    return None


def _malformed(
    st: _State, code: int, action: Action | str, subcode: int, raw: bytes, reason: str
) -> None:
    if action == _RESET:
        raise BgpError(ErrorCode.UPDATE_MESSAGE, subcode, raw, reason)
    # RFC 4760 §3: NEXT_HOP is ignored when only MP_REACH_NLRI carries NLRI.
    if code == AttrType.NEXT_HOP and not st.body_nlri:
        action = Action.ATTRIBUTE_DISCARD
    if action == Action.TREAT_AS_WITHDRAW:
        st.treat_as_withdraw(code, subcode, raw, reason)
    else:
        st.note(code, Action.ATTRIBUTE_DISCARD, reason)


def _unknown(st: _State, flags: int, code: int, value: bytes, raw: bytes) -> None:
    if not flags & OPTIONAL:
        raise BgpError(
            ErrorCode.UPDATE_MESSAGE,
            UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
            raw,
            f"unrecognized well-known attribute {code}",
        )
    # RFC 4271 §5: unrecognized optional transitive ones are passed on, the
    # optional non-transitive ones are quietly ignored.
    if flags & TRANSITIVE:
        st.unknown.append(RawAttribute(flags & _KEPT_FLAGS, code, value))


def _attribute(st: _State, flags: int, code: int, value: bytes, raw: bytes) -> None:
    if code in st.seen:
        if code in _MP:  # RFC 7606 §3.g
            raise BgpError(
                ErrorCode.UPDATE_MESSAGE,
                UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
                b"",
                f"attribute {code} repeated",
            )
        st.note(code, Action.ATTRIBUTE_DISCARD, "repeated attribute, first one kept")
        return
    st.seen.add(code)
    if code not in _MP:
        st.path_attributes = True
    spec = _SPECS.get(code)
    if spec is None:
        _unknown(st, flags, code, value, raw)
        return
    reason = _out_of_place(code, st.negotiated)
    if reason is not None:
        st.note(code, Action.ATTRIBUTE_DISCARD, reason)
        return
    if flags & _KIND != spec.flags:
        # RFC 7606 §3.c, and §5.3 for the MP attributes, whose NLRI we would
        # otherwise have to trust.
        action = _RESET if code in _MP else Action.TREAT_AS_WITHDRAW
        subcode = UpdateSubcode.ATTRIBUTE_FLAGS_ERROR
        _malformed(st, code, action, subcode, raw, f"conflicting flags {flags:#04x}")
        return
    try:
        spec.decode(st, value)
    except Malformed as exc:
        _malformed(st, code, spec.action, spec.subcode, raw, str(exc))


def _framing_error(st: _State, reason: str) -> None:
    # RFC 7606 §4: treat-as-withdraw; the Total Path Attribute Length still
    # locates the NLRI.
    st.treat_as_withdraw(0, UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, b"", reason)


def decode_attributes(data: bytes, negotiated: Negotiated, body_nlri: bool) -> DecodedAttributes:
    """The Path Attributes field of an UPDATE.

    ``body_nlri`` tells whether the UPDATE's own NLRI field is non-empty, which
    decides whether NEXT_HOP is mandatory and whether anything can be withdrawn.
    Raises BgpError when RFC 7606 calls for a session reset.
    """
    st = _State(negotiated, body_nlri)
    end = len(data)
    i = 0
    while i < end:
        if end - i < 3:
            _framing_error(st, "truncated attribute header")
            break
        flags, code = data[i], data[i + 1]
        if flags & EXTENDED_LENGTH:
            if end - i < 4:
                _framing_error(st, "truncated attribute header")
                break
            start = i + 4
            length = (data[i + 2] << 8) | data[i + 3]
        else:
            start = i + 3
            length = data[i + 2]
        stop = start + length
        if stop > end:
            _framing_error(st, f"attribute {code} overruns the attribute list")
            break
        _attribute(st, flags, code, data[start:stop], data[i:stop])
        i = stop
    return _finish(st)


def _check_mandatory(st: _State) -> None:
    """RFC 7606 §3.d: a missing well-known mandatory attribute withdraws.

    NEXT_HOP is mandatory only for NLRI in the UPDATE body (RFC 4760 §3).
    """
    required = [AttrType.ORIGIN, AttrType.AS_PATH]
    if st.body_nlri:
        required.append(AttrType.NEXT_HOP)
    for code in required:
        if code not in st.seen:
            st.treat_as_withdraw(
                code,
                UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE,
                bytes((code,)),
                f"missing well-known attribute {code.name}",
            )


def _merge_as4(st: _State) -> None:
    """RFC 6793 §4.2.3: rebuild true ASNs from a 2-octet speaker's attributes."""
    if st.agg4 is not None:
        if st.aggregator is not None and st.aggregator.asn != AS_TRANS:
            why = "AGGREGATOR is not AS_TRANS (RFC 6793 §4.2.3)"
            st.note(AttrType.AS4_AGGREGATOR, Action.ATTRIBUTE_DISCARD, why)
            if st.as4_path is not None:
                st.note(AttrType.AS4_PATH, Action.ATTRIBUTE_DISCARD, why)
            st.as4_path = None
        elif st.aggregator is None:
            st.note(AttrType.AS4_AGGREGATOR, Action.ATTRIBUTE_DISCARD, "no AGGREGATOR")
        else:
            st.aggregator = st.agg4
    if st.as4_path is None or st.as_path is None:
        return
    merged = merge_as4_path(st.as_path, st.as4_path)
    if merged is None:
        why = "AS4_PATH longer than AS_PATH (RFC 6793 §4.2.3)"
        st.note(AttrType.AS4_PATH, Action.ATTRIBUTE_DISCARD, why)
        return
    st.as_path = merged


def _finish(st: _State) -> DecodedAttributes:
    reachable = st.body_nlri or (st.mp_reach is not None and bool(st.mp_reach.nlri))
    if reachable:
        _check_mandatory(st)
    elif st.error is not None:
        # RFC 7606 §5.2: with no reachable NLRI we cannot be sure the NLRI were
        # parsed right, so only attribute discard is allowed short of a reset.
        raise st.error
    if not st.negotiated.four_octet_as:
        _merge_as4(st)
    attributes = None
    if st.path_attributes:
        attributes = Attributes(
            # Only a treat-as-withdraw UPDATE lacks ORIGIN; the value is moot there.
            origin=st.origin if st.origin is not None else Origin.IGP,
            as_path=st.as_path or (),
            next_hop=st.next_hop,
            med=st.med,
            local_pref=st.local_pref,
            atomic_aggregate=st.atomic_aggregate,
            aggregator=st.aggregator,
            communities=st.communities,
            ext_communities=st.ext_communities,
            large_communities=st.large_communities,
            otc=st.otc,
            unknown=tuple(sorted(st.unknown, key=lambda a: a.type_code)),
        )
    return DecodedAttributes(attributes, st.mp_reach, st.mp_unreach, st.withdraw, tuple(st.notes))
