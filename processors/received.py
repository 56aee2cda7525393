"""What a received-routes event changes, once its parts are applied in order. Pure.

The speaker writes the UPDATEs of one socket read that fall into a routes partition as one
``ReceivedUpdates`` event of several parts (older logs: one ``ReceivedRoutes`` per UPDATE,
a single part). Within an event, the last part that names a prefix settles it, as it would
have if each UPDATE had been applied by itself: an UPDATE's withdrawals come before its
announcements (RFC 4271 §4.3). The Adj-RIB-In and the verdict both read this net change,
so a route announced and replaced within one read is recorded in the log (the event keeps
every part) but judged only in its final form.
"""

from __future__ import annotations

from typing import NamedTuple

from schemas.attributes import KEPT, Attributes, interned
from schemas.events import ReceivedRoutes, ReceivedUpdates, Session, UpdatePart

_new = tuple.__new__  # a NamedTuple built without its Python-level __new__


class Announced(NamedTuple):
    update_seq: int
    attributes: Attributes
    prefixes: tuple[str, ...]


# The attribute sets are interned (schemas.attributes): the Adj-RIB-In, the validation
# memo and the offers all key on them, and equal sets then compare by identity.
class RoutesChange(NamedTuple):
    session: Session
    withdrawn: tuple[str, ...]  # no prefix here is also announced
    announced: tuple[Announced, ...]  # in receive order; no prefix in two of them


def parts_of(event: ReceivedRoutes | ReceivedUpdates) -> tuple[UpdatePart, ...]:
    if isinstance(event, ReceivedUpdates):
        return event.parts
    return (UpdatePart(event.update_seq, event.attributes, event.announced, event.withdrawn,
                       event.notes),)


def routes_change(event: ReceivedRoutes | ReceivedUpdates) -> RoutesChange:
    parts = parts_of(event)
    if len(parts) == 1:  # one UPDATE's part: announced and withdrawn never overlap there
        part = parts[0]
        announced = ((_new(Announced, (part.update_seq, interned(part.attributes),
                                        part.announced)),)
                     if part.attributes is not None and part.announced else ())
        withdrawn = part.withdrawn
        if announced and withdrawn:
            taken = set(part.announced)
            withdrawn = tuple(p for p in withdrawn if p not in taken)
        return _new(RoutesChange, (event.session, withdrawn, announced))
    # Several UPDATEs. Usually no prefix is named twice in one read: then every part's
    # prefixes stand as they are, which one C-level set of them all tells without the
    # per-prefix loop below (the result is the same: nothing is overridden). The change is
    # built in the same pass, once per part (a table's read: a few hundred parts of about
    # two prefixes each): a loop rather than generators, Announced built without
    # NamedTuple's Python __new__, and interned() only for a set not already kept (the
    # decoder interns; interning again below, should a prefix be named twice, is harmless).
    named = 0
    seen: set[str] = set()
    lost: list[str] = []
    groups: list[Announced] = []
    kept = KEPT
    for part in parts:
        withdrawn = part.withdrawn
        if withdrawn:
            seen.update(withdrawn)
            named += len(withdrawn)
            lost += withdrawn
        attributes = part.attributes
        if attributes is not None and part.announced:
            seen.update(part.announced)
            named += len(part.announced)
            if kept.get(id(attributes)) is not attributes:
                attributes = interned(attributes)
            groups.append(_new(Announced, (part.update_seq, attributes, part.announced)))
    if len(seen) == named:
        return _new(RoutesChange, (event.session, tuple(lost), tuple(groups)))
    # The last part naming a prefix wins. -1 marks a withdrawal.
    last: dict[str, int] = {}
    for index, part in enumerate(parts):
        for prefix in part.withdrawn:
            last[prefix] = -1
        if part.attributes is not None:
            for prefix in part.announced:
                last[prefix] = index
    gone = tuple(p for p, i in last.items() if i < 0)
    groups = []  # again: each part with the prefixes it settles only
    for index, part in enumerate(parts):
        if part.attributes is None or not part.announced:
            continue
        settled = tuple(p for p in part.announced if last[p] == index)
        if settled:
            groups.append(Announced(part.update_seq, interned(part.attributes), settled))
    return RoutesChange(event.session, gone, tuple(groups))
