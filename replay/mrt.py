"""MRT (RFC 6396) records as bytes. Pure: values in, bytes out, no I/O.

Two families of records, the two an analyst's tools (bgpdump, bgpkit, mrtparse, pybgpstream)
read everywhere:

- **TABLE_DUMP_V2** (§4.3): a PEER_INDEX_TABLE naming the peers once, then one
  RIB_IPV4_UNICAST or RIB_IPV6_UNICAST record per prefix, each with one entry per peer that
  holds a route for it. Path attributes are written from :class:`Attributes` by the
  speaker's own encoder, with 4-octet ASNs (§4.3.4 requires them in AS_PATH), and the next
  hop of an IPv6 route (or of an IPv4 route with an IPv6 next hop, RFC 8950) as the
  abbreviated MP_REACH_NLRI of §4.3.4: next-hop length and address only, since the AFI,
  SAFI and prefix are the record's own.
- **BGP4MP_ET** (§4.4, §3 extended timestamps): BGP messages as they crossed the wire and
  session state changes, stamped to the microsecond. The message bytes are passed through
  untouched; only the framing around them is made here.
"""

from __future__ import annotations

import functools
import ipaddress
import struct
from dataclasses import dataclass, replace
from enum import IntEnum

from schemas.attributes import Attributes
from schemas.events import SessionState
from speaker.codec.attribute_encoder import attribute_tlv, encode_attributes, mp_next_hop
from speaker.codec.attributes import STANDARD_FLAGS, AttrType
from speaker.codec.families import Afi
from speaker.codec.messages import AS_TRANS
from speaker.codec.negotiated import Negotiated
from speaker.codec.nlri import encode_prefix


class MrtType(IntEnum):
    TABLE_DUMP_V2 = 13
    BGP4MP = 16
    BGP4MP_ET = 17


class TableDumpV2(IntEnum):
    PEER_INDEX_TABLE = 1
    RIB_IPV4_UNICAST = 2
    RIB_IPV6_UNICAST = 4


class Bgp4mp(IntEnum):
    STATE_CHANGE = 0
    MESSAGE = 1
    MESSAGE_AS4 = 4
    STATE_CHANGE_AS4 = 5
    MESSAGE_LOCAL = 6
    MESSAGE_AS4_LOCAL = 7


# RFC 6396 §4.4.1 numbers the BGP FSM states from 1; ixrs's SessionState (RFC 4271 §8.2.2
# order) from 0. Spelled out rather than "+ 1" so that a change to either side shows here.
FSM_STATE = {
    SessionState.IDLE: 1,
    SessionState.CONNECT: 2,
    SessionState.ACTIVE: 3,
    SessionState.OPENSENT: 4,
    SessionState.OPENCONFIRM: 5,
    SessionState.ESTABLISHED: 6,
}

_PEER_IPV6 = 0x01  # PEER_INDEX_TABLE Peer Type bits (§4.3.1)
_PEER_AS4 = 0x02
# encode_attributes leaves LOCAL_PREF out unless the session is iBGP (RFC 4271 §5.1.5); a
# dump shows every attribute the route holds, so the dump encodes "as iBGP", with 4-octet
# ASNs. Nothing else in the encoder depends on `ibgp`.
_DUMP = Negotiated(four_octet_as=True, ibgp=True)


def record(time_us: int, mrt_type: int, subtype: int, body: bytes) -> bytes:
    """One MRT record: the common header (§2), then the body.

    For the _ET types (§3) the microseconds follow the header and count in its Length."""
    seconds, micro = divmod(time_us, 1_000_000)
    if mrt_type == MrtType.BGP4MP_ET:
        body = struct.pack("!I", micro) + body
    return struct.pack("!IHHI", seconds, mrt_type, subtype, len(body)) + body


def _packed(address: str) -> tuple[int, bytes]:
    """(4 or 6, packed bytes) of an address's text."""
    parsed = ipaddress.ip_address(address)
    return parsed.version, parsed.packed


# --- TABLE_DUMP_V2 ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Peer:
    """One PEER_INDEX_TABLE entry: who sent the routes of a RIB entry."""

    bgp_id: str  # IPv4 text; 0.0.0.0 when unknown
    address: str
    asn: int


def peer_index_table(collector_id: str, view: str, peers: list[Peer]) -> bytes:
    """The PEER_INDEX_TABLE body (§4.3.1). Every peer is written with a 4-octet AS, so that
    any ASN fits and readers need no second code path."""
    name = view.encode()
    out = [_packed(collector_id)[1], struct.pack("!H", len(name)), name,
           struct.pack("!H", len(peers))]
    for peer in peers:
        version, packed = _packed(peer.address)
        kind = _PEER_AS4 | (_PEER_IPV6 if version == 6 else 0)
        out.append(struct.pack("!B", kind) + _packed(peer.bgp_id)[1] + packed
                   + struct.pack("!I", peer.asn))
    return b"".join(out)


def rib_subtype(prefix: str) -> TableDumpV2:
    return TableDumpV2.RIB_IPV6_UNICAST if ":" in prefix else TableDumpV2.RIB_IPV4_UNICAST


def rib_entry(peer_index: int, originated_us: int, attributes: bytes) -> bytes:
    """One RIB Entry (§4.3.4): peer index, originated time (seconds), attributes."""
    return struct.pack("!HIH", peer_index, originated_us // 1_000_000,
                       len(attributes)) + attributes


def rib_body(sequence: int, prefix: str, entries: list[bytes]) -> bytes:
    """A RIB_IPV4_UNICAST / RIB_IPV6_UNICAST body (§4.3.2) of already encoded entries."""
    return (struct.pack("!I", sequence) + encode_prefix(prefix, ":" in prefix)
            + struct.pack("!H", len(entries)) + b"".join(entries))


def rib_attributes(attributes: Attributes, ipv6_prefix: bool) -> bytes:
    """The path attributes of a RIB entry, in ascending type order.

    An IPv4 next hop of an IPv4 prefix is the NEXT_HOP attribute. Any other next hop (an
    IPv6 prefix's; an IPv4 prefix's IPv6 one, RFC 8950) is the abbreviated MP_REACH_NLRI
    of §4.3.4: Next Hop Length and Next Hop only (with the link-local address, when the
    route has one, as RFC 2545 §3 puts it)."""
    next_hop = attributes.next_hop
    if next_hop is None or (not ipv6_prefix and ":" not in next_hop):
        return encode_attributes(attributes, _DUMP)
    plain = encode_attributes(replace(attributes, next_hop=None, next_hop_link_local=None),
                              _DUMP)
    hop = mp_next_hop(Afi.IPV6, next_hop, attributes.next_hop_link_local) \
        if ":" in next_hop else mp_next_hop(Afi.IPV4, next_hop, None)
    mp = attribute_tlv(STANDARD_FLAGS[AttrType.MP_REACH_NLRI], AttrType.MP_REACH_NLRI,
                       bytes((len(hop),)) + hop)
    return _inserted(plain, AttrType.MP_REACH_NLRI, mp)


def _inserted(attributes: bytes, code: int, tlv: bytes) -> bytes:
    """The attribute TLVs with one more, placed before the first of a higher type code, so
    that the order stays ascending as RFC 4271 §5 asks of a speaker."""
    at = 0
    while at < len(attributes):
        flags, type_code = attributes[at], attributes[at + 1]
        if type_code > code:
            break
        if flags & 0x10:  # Extended Length
            size = 4 + struct.unpack_from("!H", attributes, at + 2)[0]
        else:
            size = 3 + attributes[at + 2]
        at += size
    return attributes[:at] + tlv + attributes[at:]


# --- BGP4MP ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _endpoints(peer_ip: str, local_ip: str) -> bytes:
    """Interface Index (0: unknown), Address Family, Peer IP, Local IP (§4.4.1). Cached:
    a session's every message has the same two ends, and parsing them costs more than
    the rest of the record."""
    peer_version, peer = _packed(peer_ip)
    local_version, local = _packed(local_ip)
    if peer_version != local_version:
        raise ValueError(f"peer {peer_ip} and local {local_ip}: not one address family")
    return struct.pack("!HH", 0, Afi.IPV6 if peer_version == 6 else Afi.IPV4) + peer + local


def _as2(asn: int) -> int:
    return asn if asn <= 0xFFFF else AS_TRANS


def bgp4mp_message(peer_as: int, local_as: int, peer_ip: str, local_ip: str, message: bytes,
                   *, sent: bool, four_octet_as: bool) -> tuple[Bgp4mp, bytes]:
    """(subtype, body) of a BGP message received from (``sent`` False) or sent to a peer.

    The message is written as it crossed the wire. A session that negotiated 4-octet ASNs
    gets MESSAGE_AS4(_LOCAL); one that did not gets MESSAGE(_LOCAL), whose 2-octet AS
    fields tell readers to read the AS_PATH inside with 2-octet ASNs, as it was sent
    (§4.4.3 reserves _AS4 for messages whose AS_PATH holds 4-octet ASNs)."""
    ends = _endpoints(peer_ip, local_ip)
    if four_octet_as:
        subtype = Bgp4mp.MESSAGE_AS4_LOCAL if sent else Bgp4mp.MESSAGE_AS4
        return subtype, struct.pack("!II", peer_as, local_as) + ends + message
    subtype = Bgp4mp.MESSAGE_LOCAL if sent else Bgp4mp.MESSAGE
    return subtype, struct.pack("!HH", _as2(peer_as), _as2(local_as)) + ends + message


def bgp4mp_state_change(peer_as: int, local_as: int, peer_ip: str, local_ip: str,
                        old: SessionState, new: SessionState) -> tuple[Bgp4mp, bytes]:
    """(subtype, body) of a STATE_CHANGE_AS4 (§4.4.4): no AS_PATH inside, so the 4-octet
    form serves every session."""
    body = (struct.pack("!II", peer_as, local_as) + _endpoints(peer_ip, local_ip)
            + struct.pack("!HH", FSM_STATE[old], FSM_STATE[new]))
    return Bgp4mp.STATE_CHANGE_AS4, body
