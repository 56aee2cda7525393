"""Bogon prefixes: arouteserver's default list, or an operator's file in the same format.

A route is a bogon (reject cause 2) when its prefix falls within one of these; the default
routes are `exact` entries, so that only 0.0.0.0/0 and ::/0 themselves match them (BIRD's
`prefix_is_bogon()`). The list is a data set like VRPs: its version is a content hash, and
verdicts cite it.

The file format is arouteserver's bogons.yml: `bogons:` followed by prefix-list entries
(`prefix`, `length`, optional `comment`, `exact`, `ge`, `le`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ixrs.config.node import Node
from ixrs.config.prefixes import PrefixListEntry, prefix_list_entry
from processors.validate.net import format_net, parse_prefix
from processors.validate.prefix_index import PrefixList, PrefixRule

KIND = "bogons"

# The special-purpose ranges of arouteserver 1.27's config.d/bogons.yml (IANA registries).
# (network, length, what it is); the two default routes are exact entries.
_DEFAULTS: tuple[tuple[str, int, str], ...] = (
    ("0.0.0.0", 8, "IANA - Local Identification"),
    ("10.0.0.0", 8, "RFC 1918 - Private Use"),
    ("127.0.0.0", 8, "IANA - Loopback"),
    ("169.254.0.0", 16, "RFC 3927 - Link Local"),
    ("172.16.0.0", 12, "RFC 1918 - Private Use"),
    ("192.0.2.0", 24, "RFC 5737 - TEST-NET-1"),
    ("192.88.99.0", 24, "RFC 3068 - 6to4 prefix"),
    ("192.168.0.0", 16, "RFC 1918 - Private Use"),
    ("198.18.0.0", 15, "RFC 2544 - Network Interconnect Device Benchmark Testing"),
    ("198.51.100.0", 24, "RFC 5737 - TEST-NET-2"),
    ("203.0.113.0", 24, "RFC 5737 - TEST-NET-3"),
    ("224.0.0.0", 3, "RFC 5771 - Multicast (formerly Class D)"),
    ("100.64.0.0", 10, "RFC 6598 - Shared Address Space"),
    ("::", 8, "loopback, unspecified, v4-mapped"),
    ("64:ff9b::", 96, "RFC 6052 - IPv4-IPv6 Translation"),
    ("100::", 8, "RFC 6666 - reserved for Discard-Only Address Block"),
    ("200::", 7, "RFC 4048 - Reserved by IETF"),
    ("400::", 6, "RFC 4291 - Reserved by IETF"),
    ("800::", 5, "RFC 4291 - Reserved by IETF"),
    ("1000::", 4, "RFC 4291 - Reserved by IETF"),
    ("2001::", 33, "RFC 4380 - Teredo prefix"),
    ("2001:0:8000::", 33, "RFC 4380 - Teredo prefix"),
    ("2001:2::", 48, "RFC 5180 - Benchmarking"),
    ("2001:3::", 32, "RFC 7450 - Automatic Multicast Tunneling"),
    ("2001:10::", 28, "RFC 4843 - Deprecated ORCHID"),
    ("2001:20::", 28, "RFC 7343 - ORCHIDv2"),
    ("2001:db8::", 32, "RFC 3849 - documentation"),
    ("2002::", 16, "RFC 3068 - 6to4 prefix"),
    ("3ffe::", 16, "RFC 5156 - used for the 6bone but was returned"),
    ("4000::", 3, "RFC 4291 - Reserved by IETF"),
    ("5f00::", 8, "RFC 5156 - used for the 6bone but was returned"),
    ("6000::", 3, "RFC 4291 - Reserved by IETF"),
    ("8000::", 3, "RFC 4291 - Reserved by IETF"),
    ("a000::", 3, "RFC 4291 - Reserved by IETF"),
    ("c000::", 3, "RFC 4291 - Reserved by IETF"),
    ("e000::", 4, "RFC 4291 - Reserved by IETF"),
    ("f000::", 5, "RFC 4291 - Reserved by IETF"),
    ("f800::", 6, "RFC 4291 - Reserved by IETF"),
    ("fc00::", 7, "RFC 4193 - Unique Local Unicast"),
    ("fe80::", 10, "RFC 4291 - Link Local Unicast"),
    ("fec0::", 10, "RFC 4291 - Reserved by IETF"),
    ("ff00::", 8, "RFC 4291 - Multicast"),
)


@dataclass(frozen=True, eq=False)
class Bogons:
    rules: PrefixList
    version: str
    source: str = ""
    name: str = "bogons"


def rule_of(entry: PrefixListEntry) -> PrefixRule:
    """A configuration prefix-list entry as a rule (arouteserver's `{ge or len, le or max}`)."""
    lengths = entry.lengths
    return PrefixRule(
        f"{entry.prefix}/{entry.length}", lengths.start, lengths.stop - 1, entry.comment or ""
    )


def bogons_from_rules(rules: tuple[PrefixRule, ...], source: str = "") -> Bogons:
    rules = tuple(
        PrefixRule(format_net(parse_prefix(r.prefix)), r.ge, r.le, r.label) for r in rules
    )
    canonical = "\n".join(sorted(f"{r.prefix} {r.ge} {r.le}" for r in rules))
    version = hashlib.sha256(canonical.encode()).hexdigest()
    return Bogons(PrefixList(rules), version, source)


def parse_bogons(document: Any, source: str = "bogons.yml") -> Bogons:
    """Read a bogons.yml document (already loaded from YAML); ConfigError names the entry."""
    root = Node(source, "", document)
    root.mapping(allowed=("bogons",))
    entries = [prefix_list_entry(item) for item in root.child("bogons").required().items()]
    return bogons_from_rules(tuple(rule_of(entry) for entry in entries), source)


def _defaults() -> Bogons:
    defaults = (
        PrefixRule.exact("0.0.0.0/0", "Default route"),
        PrefixRule.exact("::/0", "Default route"),
        *(
            PrefixRule(f"{net}/{length}", length, 32 if "." in net else 128, what)
            for net, length, what in _DEFAULTS
        ),
    )
    return bogons_from_rules(defaults, "arouteserver default bogons")


DEFAULT_BOGONS = _defaults()
