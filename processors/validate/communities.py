"""Communities on an attribute set: render the configured ones, add them, scrub them.

The `communities` block of general.yml gives each community in up to three forms (standard,
large, extended; ixrs.config.communities). Adding follows BIRD's `.add()`: a value already
present is not added twice, and order is kept. Extended communities are RFC 4360 route
targets (`rt`) or route origins (`ro`): two-octet-AS specific (type 0x00) unless the first
value needs four octets (type 0x02), as BIRD encodes `(rt, a, b)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from operator import attrgetter
from typing import TypeVar

from ixrs.config.communities import CommunityPattern, CommunitySet
from schemas.attributes import Attributes
from schemas.decoder import constructor

# RFC 1997 / RFC 7999 / RFC 8326 well-known communities.
NO_EXPORT = (65535, 65281)
BLACKHOLE = (65535, 666)
GRACEFUL_SHUTDOWN = (65535, 0)

_SUBTYPES = {"rt": 0x02, "ro": 0x03}
_EXT_TYPE_AS2, _EXT_TYPE_AS4 = 0x00, 0x02


def rfc8097(state: int) -> bytes:
    """The BGP Prefix Origin Validation State extended community (RFC 8097 §2)."""
    return bytes((0x43, 0x00, 0, 0, 0, 0, 0, state))


def is_rfc8097(raw: bytes) -> bool:
    return raw[:2] == b"\x43\x00"


def ext_bytes(ext_type: str, admin: int, value: int) -> bytes:
    subtype = _SUBTYPES[ext_type]
    if admin > 0xFFFF:
        return bytes((_EXT_TYPE_AS4, subtype)) + admin.to_bytes(4, "big") + value.to_bytes(2, "big")
    return bytes((_EXT_TYPE_AS2, subtype)) + admin.to_bytes(2, "big") + value.to_bytes(4, "big")


def ext_values(raw: bytes) -> tuple[str, int, int] | None:
    """(rt|ro, admin, value) of an AS-specific route target/origin; None for anything else."""
    if len(raw) != 8 or raw[1] not in (0x02, 0x03):
        return None
    ext_type = "rt" if raw[1] == 0x02 else "ro"
    if raw[0] == _EXT_TYPE_AS2:
        return ext_type, int.from_bytes(raw[2:4], "big"), int.from_bytes(raw[4:], "big")
    if raw[0] == _EXT_TYPE_AS4:
        return ext_type, int.from_bytes(raw[2:6], "big"), int.from_bytes(raw[6:], "big")
    return None


@dataclass(frozen=True, slots=True)
class Tags:
    """Community values to add to a route, in the three forms."""

    std: tuple[tuple[int, int], ...] = ()
    lrg: tuple[tuple[int, int, int], ...] = ()
    ext: tuple[bytes, ...] = ()

    def __add__(self, other: Tags) -> Tags:
        return Tags(self.std + other.std, self.lrg + other.lrg, self.ext + other.ext)

    def __bool__(self) -> bool:
        return bool(self.std or self.lrg or self.ext)

    def apply(self, attrs: Attributes) -> Attributes:
        if not self:
            return attrs
        return self.apply_with(attrs, attrs.local_pref)

    def apply_with(self, attrs: Attributes, local_pref: int | None) -> Attributes:
        """apply(), and LOCAL_PREF set, in one new Attributes (a new one even without
        tags): the import policy's last two changes, at the cost of one."""
        # Field by field (once per attribute set and outcome: dataclasses.replace() costs
        # more than the unions), by slot setters (_new_attributes); _ATTRIBUTE_FIELDS
        # checks the order at import.
        (origin, as_path, next_hop, next_hop_link_local, med, _, atomic_aggregate,
         aggregator, communities, ext_communities, large_communities, otc,
         unknown) = _attribute_values(attrs)
        std, ext, lrg = self.std, self.ext, self.lrg
        return _new_attributes(
            origin, as_path, next_hop, next_hop_link_local, med, local_pref, atomic_aggregate,
            aggregator,
            # _union() gives `have` back for no tags: a call less per kind without
            _union(communities, std) if std else communities,
            _union(ext_communities, ext) if ext else ext_communities,
            _union(large_communities, lrg) if lrg else large_communities,
            otc, unknown,
        )


NO_TAGS = Tags()

# The fields of Attributes in their order, for copies made field by field (Tags.apply,
# policy.with_local_pref). This fails at import if Attributes gains or reorders a field.
_ATTRIBUTE_FIELDS = (
    "origin", "as_path", "next_hop", "next_hop_link_local", "med", "local_pref",
    "atomic_aggregate", "aggregator", "communities", "ext_communities", "large_communities",
    "otc", "unknown",
)
assert tuple(f.name for f in fields(Attributes)) == _ATTRIBUTE_FIELDS, (
    "Tags.apply_with and with_local_pref copy Attributes field by field")
_attribute_values = attrgetter(*_ATTRIBUTE_FIELDS)


# Attributes built by slot setters: half the time of the frozen dataclass's __init__.
_new_attributes = constructor(Attributes)


def with_local_pref(attrs: Attributes, local_pref: int | None) -> Attributes:
    """replace(attrs, local_pref=local_pref), field by field (see _ATTRIBUTE_FIELDS)."""
    values = _attribute_values(attrs)
    return _new_attributes(*values[:5], local_pref, *values[6:])


V = TypeVar("V")


def _union(have: tuple[V, ...], more: tuple[V, ...]) -> tuple[V, ...]:
    if not more:
        return have
    seen = set(have)
    added = []
    for value in more:
        if value not in seen:
            seen.add(value)
            added.append(value)
    return have + tuple(added)


def render(community: CommunitySet, value: int | None = None, *, std: bool = True) -> Tags:
    """The values of a configured community, `value` standing for its placeholder.

    `std=False` leaves the standard form out: arouteserver does so where the value (an ASN
    above 65535) cannot fit in 16 bits.
    """
    std_form = community.std.render(value) if std and community.std else None
    lrg_form = community.lrg.render(value) if community.lrg else None
    ext_form = community.ext
    return Tags(
        std=(std_form,) if std_form else (),  # type: ignore[arg-type]
        lrg=(lrg_form,) if lrg_form else (),  # type: ignore[arg-type]
        ext=(_ext_of(ext_form, value),) if ext_form else (),
    )


def _ext_of(pattern: CommunityPattern, value: int | None) -> bytes:
    admin, local = pattern.render(value)
    assert pattern.ext_type is not None
    return ext_bytes(pattern.ext_type, admin, local)


@dataclass(frozen=True, slots=True)
class Matcher:
    """Community patterns (placeholders match any value) to find or scrub on a route."""

    std: tuple[CommunityPattern, ...] = ()
    lrg: tuple[CommunityPattern, ...] = ()
    ext: tuple[CommunityPattern, ...] = ()

    @classmethod
    def of(cls, sets: Iterable[CommunitySet]) -> Matcher:
        patterns = [p for s in sets for p in s.patterns()]
        return cls(
            std=tuple(p for p in patterns if p.kind == "std"),
            lrg=tuple(p for p in patterns if p.kind == "lrg"),
            ext=tuple(p for p in patterns if p.kind == "ext"),
        )

    def _std_hit(self, value: tuple[int, int]) -> bool:
        return any(p.matches(value) for p in self.std)

    def _lrg_hit(self, value: tuple[int, int, int]) -> bool:
        return any(p.matches(value) for p in self.lrg)

    def _ext_hit(self, raw: bytes) -> bool:
        if not self.ext:
            return False
        decoded = ext_values(raw)
        if decoded is None:
            return False
        ext_type, admin, local = decoded
        return any(p.ext_type == ext_type and p.matches((admin, local)) for p in self.ext)

    def found_in(self, attrs: Attributes) -> bool:
        # Each kind asked only where it has both patterns and values: a generator and an
        # any() cost more than the test, once per attribute set (Batch).
        return (
            bool(self.std and attrs.communities
                 and any(self._std_hit(c) for c in attrs.communities))
            or bool(self.lrg and attrs.large_communities
                    and any(self._lrg_hit(c) for c in attrs.large_communities))
            or bool(self.ext and attrs.ext_communities
                    and any(self._ext_hit(c) for c in attrs.ext_communities))
        )

    def scrub(self, attrs: Attributes, *, rfc8097_too: bool = False) -> Attributes:
        # A kind without patterns or values keeps its tuple as it is (what the filter
        # would give, without a generator per kind, once per attribute set: Batch).
        have_std = attrs.communities
        have_lrg = attrs.large_communities
        have_ext = attrs.ext_communities
        std = (tuple(c for c in have_std if not self._std_hit(c))
               if self.std and have_std else have_std)
        lrg = (tuple(c for c in have_lrg if not self._lrg_hit(c))
               if self.lrg and have_lrg else have_lrg)
        ext = (
            tuple(
                c
                for c in have_ext
                if not self._ext_hit(c) and not (rfc8097_too and is_rfc8097(c))
            )
            if have_ext and (self.ext or rfc8097_too)
            else have_ext
        )
        if (std, lrg, ext) == (have_std, have_lrg, have_ext):
            return attrs
        return replace(attrs, communities=std, large_communities=lrg, ext_communities=ext)
