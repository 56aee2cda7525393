"""BGP communities of general.yml: typed patterns, arouteserver's built-in set, and its checks.

A community is written as `std: "x:x"`, `lrg: "x:x:x"` or `ext: "rt|ro:x:x"`. `rs_as` is
replaced by the route server's ASN when the file is read; `peer_as` (the ASN of the client the
route is announced to) and `dyn_val` (a value the function gives meaning to, e.g. a reject
code or an RTT) stay as typed placeholders, allowed only in the last part and only in the
communities that take them.
"""

from collections.abc import Iterator
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from ixrs.config.node import Node, describe
from ixrs.config.reject_causes import REJECT_CAUSES
from ixrs.config.sections import external, yaml_section
from ixrs.config.values import MAX_U32, is_decimal

KINDS = ("std", "lrg", "ext")
_KIND_NAMES = {"std": "standard", "lrg": "large", "ext": "extended"}
_FORMATS = {"std": "x:x", "lrg": "x:x:x", "ext": "rt|ro:x:x"}
_PART_COUNT = {"std": 2, "lrg": 3, "ext": 3}
_PART_MAX = {"std": 65535, "lrg": MAX_U32, "ext": MAX_U32}
_EXT_TYPES = ("rt", "ro")


class Macro(StrEnum):
    PEER_AS = "peer_as"
    DYN_VAL = "dyn_val"


Part = int | Macro
_MACROS = frozenset(macro.value for macro in Macro)


@dataclass(frozen=True)
class CommunityPattern:
    """One community value, possibly with a placeholder in its last part."""

    kind: str  # "std", "lrg" or "ext"
    parts: tuple[Part, ...]  # for "ext", the two values after the type
    ext_type: str | None = None  # "rt" or "ro", for "ext" only

    def __str__(self) -> str:
        head = [self.ext_type] if self.ext_type else []
        return ":".join(head + [str(part) for part in self.parts])

    @property
    def macro(self) -> Macro | None:
        last = self.parts[-1]
        return last if isinstance(last, Macro) else None

    def matches(self, values: tuple[int, ...]) -> bool:
        """Whether a community's integers (without the ext type) fit this pattern."""
        if len(values) != len(self.parts):
            return False
        return all(isinstance(p, Macro) or p == v for p, v in zip(self.parts, values, strict=True))

    def render(self, value: int | None = None) -> tuple[int, ...]:
        """The integers of this community, with `value` in place of the placeholder."""
        if self.macro is not None and value is None:
            raise ValueError(f"{self} needs a value for {self.macro}")
        return tuple(value if isinstance(p, Macro) else p for p in self.parts)  # type: ignore[misc]

    @classmethod
    def from_text(cls, text: str) -> "CommunityPattern":
        """Read back the canonical form that str() gives (no rs_as, any placeholder)."""
        head, *rest = text.split(":")
        if head in _EXT_TYPES:
            return cls("ext", tuple(_canonical_part(p) for p in rest), head)
        parts = tuple(_canonical_part(p) for p in text.split(":"))
        return cls("std" if len(parts) == 2 else "lrg", parts)


def _canonical_part(text: str) -> Part:
    return Macro(text) if text in _MACROS else int(text)


def parse_pattern(
    text: str,
    kind: str,
    rs_as: int | None,
    *,
    peer_as: bool = False,
    dyn_val: bool = False,
    reserved_ok: bool = False,
) -> CommunityPattern:
    """Validate one community value as arouteserver does; ValueError gives the reason."""
    try:
        return _parse_pattern(text, kind, rs_as, peer_as, dyn_val, reserved_ok)
    except ValueError as exc:
        raise ValueError(
            f"invalid {_KIND_NAMES[kind]} community {text!r}: {exc} "
            f"(format {_FORMATS[kind]}, each x in 0..{_PART_MAX[kind]})"
        ) from None


def _parse_pattern(
    text: str, kind: str, rs_as: int | None, peer_as: bool, dyn_val: bool, reserved_ok: bool
) -> CommunityPattern:
    if "rs_as" in text:
        if rs_as is None:
            raise ValueError("the 'rs_as' macro cannot be used here")
        text = text.replace("rs_as", str(rs_as))
    raw = [part.strip() for part in text.split(":")]
    if len(raw) != _PART_COUNT[kind]:
        raise ValueError(f"{len(raw)} parts instead of {_PART_COUNT[kind]}")
    ext_type = None
    if kind == "ext":
        ext_type, raw = raw[0].lower(), raw[1:]
        if ext_type not in _EXT_TYPES:
            raise ValueError(f"type {ext_type!r} is neither 'rt' nor 'ro'")
    _check_macro(raw, Macro.PEER_AS, peer_as)
    _check_macro(raw, Macro.DYN_VAL, dyn_val)
    parts = tuple(_part(part, _PART_MAX[kind]) for part in raw)
    if kind == "std" and parts[0] == 65535 and not reserved_ok:
        raise ValueError("the range 65535:x is reserved")
    if kind == "ext" and all(isinstance(p, int) and p > 65535 for p in parts):
        raise ValueError("only one of the two values can be > 65535")
    return CommunityPattern(kind, parts, ext_type)


def _check_macro(parts: list[str], macro: Macro, wanted: bool) -> None:
    where = [i for i, part in enumerate(parts) if part == macro]
    if where and not wanted:
        raise ValueError(f"the '{macro}' macro is not allowed in this community")
    if wanted and not where:
        raise ValueError(f"the '{macro}' macro is mandatory in this community")
    if any(i != len(parts) - 1 for i in where):
        raise ValueError(f"the '{macro}' macro can only be the last part")


def _part(text: str, top: int) -> Part:
    if text in _MACROS:
        return Macro(text)
    if not is_decimal(text) or int(text) > top:
        raise ValueError(f"{text!r} is not an integer in 0..{top}")
    return int(text)


@dataclass(frozen=True)
class CommunitySet:
    """One community in its standard, large and extended forms; each may be unset."""

    std: CommunityPattern | None = None
    lrg: CommunityPattern | None = None
    ext: CommunityPattern | None = None

    @property
    def configured(self) -> bool:
        return bool(self.patterns())

    def patterns(self) -> tuple[CommunityPattern, ...]:
        return tuple(p for p in (self.std, self.lrg, self.ext) if p is not None)


def parse_set(
    node: Node,
    rs_as: int | None,
    *,
    peer_as: bool = False,
    dyn_val: bool = False,
    kinds: tuple[str, ...] = KINDS,
    reserved_ok: bool = False,
) -> CommunitySet:
    node.mapping(allowed=kinds)
    found: dict[str, CommunityPattern] = {}
    for kind in kinds:
        child = node.child(kind)
        if child.absent:
            continue
        if not isinstance(child.value, str):
            raise child.error(
                f"must be a quoted string, not {describe(child.value)} "
                "(YAML reads an unquoted 65501:1 as a number)"
            )
        try:
            found[kind] = parse_pattern(
                child.value,
                kind,
                rs_as,
                peer_as=peer_as,
                dyn_val=dyn_val,
                reserved_ok=reserved_ok,
            )
        except ValueError as exc:
            raise child.error(str(exc)) from None
    return CommunitySet(**found)


# Roles, as arouteserver defines them: inbound communities are requests from clients (scrubbed
# on the way out), outbound ones are the route server's signals to clients, internal ones never
# leave the route server. The roles decide which overlaps are refused.
INBOUND = "inbound"
OUTBOUND = "outbound"
INTERNAL = "internal"
CUSTOM = "custom"


def _builtin(role: str, *, peer_as: bool = False, dyn_val: bool = False, rtt: bool = False) -> Any:
    """A built-in community; parse_communities reads it, following the spec kept here."""
    return external(CommunitySet(), role=role, peer_as=peer_as, dyn_val=dyn_val, rtt=rtt)


@dataclass(frozen=True)
class RejectCauseCommunity:
    """An extra community for one reject cause code (`communities.reject_cause_map`)."""

    code: int
    community: CommunitySet


@yaml_section
class Communities:
    """arouteserver's built-in communities; an unset one has no patterns."""

    origin_present_in_as_set: CommunitySet = _builtin(OUTBOUND)
    origin_not_present_in_as_set: CommunitySet = _builtin(OUTBOUND)
    prefix_present_in_as_set: CommunitySet = _builtin(OUTBOUND)
    prefix_not_present_in_as_set: CommunitySet = _builtin(OUTBOUND)
    prefix_validated_via_rpki_roas: CommunitySet = _builtin(OUTBOUND)
    prefix_validated_via_arin_whois_db_dump: CommunitySet = _builtin(OUTBOUND)
    prefix_validated_via_registrobr_whois_db_dump: CommunitySet = _builtin(OUTBOUND)
    route_validated_via_white_list: CommunitySet = _builtin(OUTBOUND)
    rpki_bgp_origin_validation_valid: CommunitySet = _builtin(INTERNAL)
    rpki_bgp_origin_validation_unknown: CommunitySet = _builtin(INTERNAL)
    rpki_bgp_origin_validation_invalid: CommunitySet = _builtin(INTERNAL)
    rpki_bgp_origin_validation_not_performed: CommunitySet = _builtin(OUTBOUND)
    rpki_aspa_verification_valid: CommunitySet = _builtin(INTERNAL)
    rpki_aspa_verification_unknown: CommunitySet = _builtin(INTERNAL)
    rpki_aspa_verification_invalid: CommunitySet = _builtin(INTERNAL)
    rpki_aspa_verification_not_performed: CommunitySet = _builtin(OUTBOUND)
    blackholing: CommunitySet = _builtin(INBOUND)
    do_not_announce_to_any: CommunitySet = _builtin(INBOUND)
    do_not_announce_to_peer: CommunitySet = _builtin(INBOUND, peer_as=True)
    announce_to_peer: CommunitySet = _builtin(INBOUND, peer_as=True)
    do_not_announce_to_peers_with_rtt_lower_than: CommunitySet = _builtin(
        INBOUND, dyn_val=True, rtt=True
    )
    do_not_announce_to_peers_with_rtt_higher_than: CommunitySet = _builtin(
        INBOUND, dyn_val=True, rtt=True
    )
    announce_to_peers_with_rtt_lower_than: CommunitySet = _builtin(INBOUND, dyn_val=True, rtt=True)
    announce_to_peers_with_rtt_higher_than: CommunitySet = _builtin(INBOUND, dyn_val=True, rtt=True)
    prepend_once_to_any: CommunitySet = _builtin(INBOUND)
    prepend_twice_to_any: CommunitySet = _builtin(INBOUND)
    prepend_thrice_to_any: CommunitySet = _builtin(INBOUND)
    prepend_once_to_peer: CommunitySet = _builtin(INBOUND, peer_as=True)
    prepend_twice_to_peer: CommunitySet = _builtin(INBOUND, peer_as=True)
    prepend_thrice_to_peer: CommunitySet = _builtin(INBOUND, peer_as=True)
    prepend_once_to_peers_with_rtt_lower_than: CommunitySet = _builtin(
        INBOUND, dyn_val=True, rtt=True
    )
    prepend_twice_to_peers_with_rtt_lower_than: CommunitySet = _builtin(
        INBOUND, dyn_val=True, rtt=True
    )
    prepend_thrice_to_peers_with_rtt_lower_than: CommunitySet = _builtin(
        INBOUND, dyn_val=True, rtt=True
    )
    prepend_once_to_peers_with_rtt_higher_than: CommunitySet = _builtin(
        INBOUND, dyn_val=True, rtt=True
    )
    prepend_twice_to_peers_with_rtt_higher_than: CommunitySet = _builtin(
        INBOUND, dyn_val=True, rtt=True
    )
    prepend_thrice_to_peers_with_rtt_higher_than: CommunitySet = _builtin(
        INBOUND, dyn_val=True, rtt=True
    )
    add_noexport_to_any: CommunitySet = _builtin(INBOUND)
    add_noadvertise_to_any: CommunitySet = _builtin(INBOUND)
    add_noexport_to_peer: CommunitySet = _builtin(INBOUND, peer_as=True)
    add_noadvertise_to_peer: CommunitySet = _builtin(INBOUND, peer_as=True)
    reject_cause: CommunitySet = _builtin(INTERNAL, dyn_val=True)
    rejected_route_announced_by: CommunitySet = _builtin(INTERNAL, dyn_val=True)
    reject_cause_map: tuple[RejectCauseCommunity, ...] = ()

    def for_reject_cause(self, code: int) -> CommunitySet | None:
        return next((e.community for e in self.reject_cause_map if e.code == code), None)


BUILTIN_SPECS: dict[str, dict[str, Any]] = {
    f.name: dict(f.metadata) for f in fields(Communities) if "role" in f.metadata
}
RTT_COMMUNITIES = tuple(name for name, spec in BUILTIN_SPECS.items() if spec["rtt"])


@dataclass(frozen=True)
class CustomCommunity:
    """An operator-defined community that clients get attached (attach_custom_communities)."""

    name: str
    community: CommunitySet


def parse_communities(node: Node, rs_as: int) -> Communities:
    node.mapping(allowed=set(BUILTIN_SPECS) | {"reject_cause_map"})
    found: dict[str, Any] = {
        name: parse_set(node.child(name), rs_as, peer_as=spec["peer_as"], dyn_val=spec["dyn_val"])
        for name, spec in BUILTIN_SPECS.items()
    }
    found["reject_cause_map"] = _parse_reject_cause_map(node.child("reject_cause_map"), rs_as)
    return Communities(**found)


def _parse_reject_cause_map(node: Node, rs_as: int) -> tuple[RejectCauseCommunity, ...]:
    entries = []
    for key in node.mapping():
        child = node.child(key)
        code = int(key) if isinstance(key, int) or is_decimal(str(key)) else None
        if code not in REJECT_CAUSES or isinstance(key, bool):
            raise child.error(
                f"unknown reject cause code {key!r}; codes are 1..{max(REJECT_CAUSES)}"
            )
        if any(entry.code == code for entry in entries):
            raise child.error(f"reject cause code {code} is given twice")
        entries.append(RejectCauseCommunity(code, parse_set(child, rs_as)))
    return tuple(sorted(entries, key=lambda entry: entry.code))


def parse_custom_communities(node: Node, rs_as: int) -> tuple[CustomCommunity, ...]:
    reserved = set(BUILTIN_SPECS) | {f"reject_cause_map_{code}" for code in REJECT_CAUSES}
    customs = []
    for name in node.mapping():
        child = node.child(str(name))
        if name in reserved:
            raise child.error("the name of a built-in community cannot be used")
        customs.append(CustomCommunity(str(name), parse_set(child, rs_as)))
    return tuple(customs)


# Cross-checks. arouteserver refuses a configuration whose communities would be ambiguous;
# these follow its rules so that a file it rejects is rejected here too.


@dataclass(frozen=True)
class _Entry:
    tag: str  # arouteserver's name for it, which fixes the order of the checks
    path: str
    role: str
    community: CommunitySet


def _entries(communities: Communities, customs: tuple[CustomCommunity, ...]) -> list[_Entry]:
    builtins = [
        _Entry(name, f"cfg.communities.{name}", spec["role"], getattr(communities, name))
        for name, spec in BUILTIN_SPECS.items()
    ]
    mapped = [
        _Entry(
            f"reject_cause_map_{e.code}",
            f"cfg.communities.reject_cause_map.{e.code}",
            INTERNAL,
            e.community,
        )
        for e in communities.reject_cause_map
    ]
    custom = [
        _Entry(c.name, f"cfg.custom_communities.{c.name}", CUSTOM, c.community) for c in customs
    ]
    return sorted(builtins + mapped, key=lambda e: e.tag) + sorted(custom, key=lambda e: e.tag)


def check_communities(
    root: Node, communities: Communities, customs: tuple[CustomCommunity, ...], rs_as: int
) -> None:
    """Refuse duplicate and overlapping values; `root` is the document (for errors)."""
    entries = _entries(communities, customs)
    _check_duplicates(root, entries)
    _check_overlaps(root, entries, rs_as)


def _is_mapped(entry: _Entry) -> bool:
    return entry.tag.startswith("reject_cause_map_")


def _check_duplicates(root: Node, entries: list[_Entry]) -> None:
    # Several reject codes may share one community; nothing else may.
    seen: dict[str, str] = {}
    for entry in entries:
        for kind in KINDS:
            pattern = getattr(entry.community, kind)
            if pattern is None:
                continue
            where = f"{entry.path}.{kind}"
            if str(pattern) in seen and not _is_mapped(entry):
                raise _at(root, where).error(
                    f"value {str(pattern)!r} is already used by {seen[str(pattern)]}"
                )
            seen.setdefault(str(pattern), where)


_OVERLAP_RULES = (
    ((INBOUND,), (OUTBOUND,), "inbound communities are scrubbed, and would take it along"),
    ((INBOUND,), (CUSTOM,), "inbound communities are scrubbed, and would take it along"),
    ((INBOUND,), (INBOUND,), "two requests from clients would be ambiguous"),
    ((INTERNAL,), (INBOUND, OUTBOUND, CUSTOM), "internal communities must stand apart"),
    ((INTERNAL,), (INTERNAL,), "internal communities must stand apart"),
)


def _check_overlaps(root: Node, entries: list[_Entry], rs_as: int) -> None:
    for left_roles, right_roles, why in _OVERLAP_RULES:
        lefts = [e for e in entries if e.role in left_roles]
        rights = [e for e in entries if e.role in right_roles]
        for left, right, kind in _pairs(lefts, rights):
            a, b = getattr(left.community, kind), getattr(right.community, kind)
            if _overlap(a, b, rs_as):
                raise _at(root, f"{left.path}.{kind}").error(
                    f"{a} overlaps {right.path}.{kind} ({b}): {why}"
                )


def _pairs(lefts: list[_Entry], rights: list[_Entry]) -> Iterator[tuple[_Entry, _Entry, str]]:
    for left in lefts:
        for right in rights:
            if left.tag == right.tag or (_is_mapped(left) and _is_mapped(right)):
                continue
            for kind in KINDS:
                if getattr(left.community, kind) and getattr(right.community, kind):
                    yield left, right, kind


def _overlap(a: CommunityPattern, b: CommunityPattern, rs_as: int) -> bool:
    """Whether some community value fits both patterns (placeholders are in the last part)."""
    if a.ext_type != b.ext_type:
        return False
    for x, y in zip(a.parts, b.parts, strict=True):
        if Macro.DYN_VAL in (x, y):
            return True
        if Macro.PEER_AS in (x, y):
            fixed = y if x == Macro.PEER_AS else x
            return isinstance(fixed, Macro) or not _never_a_peer(fixed, rs_as)
        if x != y:
            return False
    return False


def _never_a_peer(value: int, rs_as: int) -> bool:
    # A peer_as value can't be 0, the route server's own ASN, or (as arouteserver lets BIRD
    # scrub by range) a private ASN.
    return value in (0, rs_as) or 64512 <= value <= 65534 or 4200000000 <= value <= 4294967294


def _at(root: Node, path: str) -> Node:
    return Node(root.file, path, None)
