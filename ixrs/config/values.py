"""Parsers for the scalar values of arouteserver's files.

They accept what arouteserver accepts (e.g. "yes" for a boolean, "32" for an integer), so that
a file arouteserver takes is taken here too, and return normalized Python values.
"""

import ipaddress
import re
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import TypeVar

from ixrs.config.node import Node, describe

T = TypeVar("T")
Parser = Callable[[Node], T]

MAX_ASN = 4294967295
MAX_U32 = 4294967295

_TRUE = frozenset({"true", "yes", "t", "1"})
_FALSE = frozenset({"false", "no", "f", "0"})


def is_decimal(text: str) -> bool:
    """Only ASCII digits: str.isdigit() also takes "²", which int() refuses."""
    return text.isascii() and text.isdigit()


def _present(node: Node) -> None:
    if node.absent:
        raise node.error("must not be empty")


def boolean(node: Node) -> bool:
    _present(node)
    value = node.value
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise node.error(f"must be a boolean (True or False), not {describe(value)}")


def integer(low: int, high: int) -> Parser[int]:
    """An integer in [low, high]; digit strings count, as in arouteserver."""

    def parse(node: Node) -> int:
        _present(node)
        value = node.value
        if isinstance(value, str) and is_decimal(value.strip()):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise node.error(f"must be an integer, not {describe(node.value)}")
        if not low <= value <= high:
            raise node.error(f"{value} is out of range {low}..{high}")
        return value

    return parse


uint = integer(0, MAX_U32)


def asn(node: Node) -> int:
    return integer(1, MAX_ASN)(node)


def asn_list(node: Node) -> tuple[int, ...]:
    """ASNs as a list or as a comma-separated string ("174, 701, 1299")."""
    if isinstance(node.value, str):
        parts = [
            Node(node.file, f"{node.path}[{i}]", part.strip())
            for i, part in enumerate(node.value.split(","))
        ]
        return tuple(asn(part) for part in parts)
    return tuple(asn(item) for item in node.items(single_ok=True))


def text(node: Node) -> str:
    _present(node)
    if isinstance(node.value, dict | list):
        raise node.error(f"must be a string, not {describe(node.value)}")
    return str(node.value)


def choice(*options: str) -> Parser[str]:
    def parse(node: Node) -> str:
        _present(node)
        if node.value in options:
            return str(node.value)
        allowed = ", ".join(repr(option) for option in options)
        raise node.error(f"unknown value {node.value!r}; allowed: {allowed}")

    return parse


def ip_address(version: int | None = None) -> Parser[str]:
    """An IP address, in its compressed form so that equal addresses compare equal."""
    label = f"IPv{version} address" if version else "IP address"

    def parse(node: Node) -> str:
        _present(node)
        try:
            address = ipaddress.ip_address(str(node.value).strip())
        except ValueError:
            raise node.error(f"invalid {label}: {node.value!r}") from None
        if version and address.version != version:
            raise node.error(f"invalid {label}: {node.value!r}")
        return address.compressed

    return parse


def list_of(item: Parser[T], *, single_ok: bool = False) -> Parser[tuple[T, ...]]:
    def parse(node: Node) -> tuple[T, ...]:
        return tuple(item(entry) for entry in node.items(single_ok=single_ok))

    return parse


_AS_SET_PART = re.compile(r"^(?:AS\d+|AS-[A-Z0-9_\-]*[A-Z0-9])$")
_ASN_NAME = re.compile(r"^AS\d+$")
_SOURCE = re.compile(r"^([A-Za-z]+)::(.+)$")


def as_set(node: Node) -> str:
    """An RPSL AS-SET or ASN: AS-FOO, AS64496:AS-FOO, RIPE::AS-FOO (RFC 2622 section 5)."""
    raw = text(node).strip()
    source, name = None, raw
    match = _SOURCE.match(raw)
    if match:
        source, name = match.group(1), match.group(2)
    normalized = name.strip() if _ASN_NAME.match(name.strip()) else _set_name(node, raw, name)
    return f"{source}::{normalized}" if source else normalized


def _set_name(node: Node, raw: str, name: str) -> str:
    parts = [part.strip().upper() for part in name.split(":")]
    bad = [part for part in parts if not _AS_SET_PART.match(part)]
    if bad:
        raise node.error(f"invalid AS-SET {raw!r}: bad name {bad[0]!r}")
    if not any(part.startswith("AS-") for part in parts):
        raise node.error(f"invalid AS-SET {raw!r}: no 'AS-' part")
    return ":".join(parts)


def ascending(node: Node, values: Sequence[int]) -> tuple[int, ...]:
    """`values` if strictly ascending; used for the RTT thresholds."""
    for before, after in pairwise(values):
        if after == before:
            raise node.error(f"duplicate value {after}")
        if after < before:
            raise node.error(f"values must be in ascending order: {after} after {before}")
    return tuple(values)


def rtt_thresholds(node: Node) -> tuple[int, ...]:
    """A list of RTTs in ms, or a comma-separated string ("5, 10, 15")."""
    if isinstance(node.value, str):
        entries = [
            Node(node.file, f"{node.path}[{i}]", part.strip())
            for i, part in enumerate(node.value.split(","))
        ]
    else:
        entries = list(node.items())
    return ascending(node, [uint(entry) for entry in entries])
