"""Prefixes on the wire: <length octet, just enough address octets> (RFC 4271 §4.3).

This is the codec's hot path, so it avoids :mod:`ipaddress` objects: IPv4 text
comes from ``socket.inet_ntoa`` on the zero-padded octets, IPv6 text from
``socket.inet_ntop``, with per-length tables for the octet count, the padding,
the host-bit mask and the "/len" suffix. Prefixes are canonical text as
``str(ipaddress.ip_network(...))`` prints it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from speaker.codec.errors import Malformed

_AF_INET6 = socket.AF_INET6

# Per prefix length: how many address octets follow the length octet.
_OCTETS = tuple((n + 7) // 8 for n in range(129))
_SUFFIX = tuple(f"/{n}" for n in range(129))
_PAD4 = tuple(bytes(4 - _OCTETS[n]) for n in range(33))
_PAD6 = tuple(bytes(16 - _OCTETS[n]) for n in range(129))
# The bits of the last octet beyond the prefix length. RFC 4271 §4.3 says their
# value is irrelevant, so they are cleared to give the canonical network text.
_HOST_BITS = tuple((0xFF >> (n % 8)) if n % 8 else 0 for n in range(129))


def _cleared(chunk: bytes, plen: int) -> bytes:
    return chunk[:-1] + bytes((chunk[-1] & ~_HOST_BITS[plen] & 0xFF,))


# decode_ipv4 and decode_ipv6 are two loops of the same shape on purpose: this is the
# per-prefix hot path, and neither should pay for the other family's branches.
def decode_ipv4(data: bytes) -> tuple[str, ...]:
    """Every IPv4 prefix in an NLRI or Withdrawn Routes field."""
    out: list[str] = []
    append = out.append
    ntoa = socket.inet_ntoa
    octets, pad, suffix, host = _OCTETS, _PAD4, _SUFFIX, _HOST_BITS
    end = len(data)
    i = 0
    while i < end:
        plen = data[i]
        if plen > 32:
            raise Malformed(f"IPv4 prefix length {plen} > 32")
        nxt = i + 1 + octets[plen]
        if nxt > end:
            raise Malformed("prefix overruns the field")
        chunk = data[i + 1 : nxt]
        if host[plen] and chunk[-1] & host[plen]:
            chunk = _cleared(chunk, plen)
        append(ntoa(chunk + pad[plen]) + suffix[plen])
        i = nxt
    return tuple(out)


def ipv6_text(packed: bytes) -> str:
    """Canonical text of a 16-octet IPv6 address.

    libc writes IPv4-mapped and IPv4-compatible addresses in dotted form, which
    :mod:`ipaddress` does not; those rare ones go through ipaddress.
    """
    text = socket.inet_ntop(_AF_INET6, packed)
    if "." in text:
        return str(ipaddress.IPv6Address(packed))
    return text


def decode_ipv6(data: bytes) -> tuple[str, ...]:
    """Every IPv6 prefix in an MP_REACH_NLRI or MP_UNREACH_NLRI field."""
    out: list[str] = []
    append = out.append
    ntop = socket.inet_ntop
    octets, pad, suffix, host = _OCTETS, _PAD6, _SUFFIX, _HOST_BITS
    end = len(data)
    i = 0
    while i < end:
        plen = data[i]
        if plen > 128:
            raise Malformed(f"IPv6 prefix length {plen} > 128")
        nxt = i + 1 + octets[plen]
        if nxt > end:
            raise Malformed("prefix overruns the field")
        chunk = data[i + 1 : nxt]
        if host[plen] and chunk[-1] & host[plen]:
            chunk = _cleared(chunk, plen)
        text = ntop(_AF_INET6, chunk + pad[plen])
        if "." in text:
            text = ipv6_text(chunk + pad[plen])
        append(text + suffix[plen])
        i = nxt
    return tuple(out)


def is_ipv6(prefix: str) -> bool:
    return ":" in prefix


# "/len" text -> len, and len -> its octet: encode_prefix runs for every prefix packed, and
# these lookups take the place of isdigit(), int() and bytes((len,)) for canonical text.
_LENGTH_OF = {str(n): n for n in range(129)}
_LENGTH_OCTET = tuple(bytes((n,)) for n in range(129))
_AF_INET = socket.AF_INET


def encode_prefix(prefix: str, ipv6: bool) -> bytes:
    """The wire form of one prefix of the given family.

    Raises ValueError for text that is not a prefix of that family.
    """
    address, slash, length = prefix.partition("/")
    plen = _LENGTH_OF.get(length)
    if plen is not None and (":" in address) == ipv6 and (ipv6 or plen <= 32):
        # Canonical text, the usual case; anything else takes the checks below.
        try:
            packed = socket.inet_pton(_AF_INET6 if ipv6 else _AF_INET, address)
        except OSError:
            raise ValueError(f"not a prefix: {prefix!r}") from None
        chunk = packed[: _OCTETS[plen]]
        if chunk and chunk[-1] & _HOST_BITS[plen]:
            chunk = _cleared(chunk, plen)
        return _LENGTH_OCTET[plen] + chunk
    if not slash or not length.isdigit() or (":" in address) != ipv6:
        raise ValueError(f"not an {'IPv6' if ipv6 else 'IPv4'} prefix: {prefix!r}")
    family, width = (_AF_INET6, 128) if ipv6 else (socket.AF_INET, 32)
    plen = int(length)
    if plen > width:
        raise ValueError(f"prefix length out of range: {prefix!r}")
    try:
        packed = socket.inet_pton(family, address)
    except OSError:
        raise ValueError(f"not a prefix: {prefix!r}") from None
    chunk = packed[: _OCTETS[plen]]
    if _HOST_BITS[plen]:
        chunk = _cleared(chunk, plen)
    return bytes((plen,)) + chunk


def encode_prefixes(prefixes: Iterable[str], ipv6: bool) -> bytes:
    return b"".join(encode_prefix(p, ipv6) for p in prefixes)
