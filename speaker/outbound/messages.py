"""The messages the outbound core hands the transport. Pure data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """`SentUpdate.kind` (schemas/ixrs.SentUpdate.avsc)."""

    UPDATE = "update"
    END_OF_RIB = "end-of-rib"  # RFC 4724 §2
    BORR = "borr"  # RFC 7313 §4
    EORR = "eorr"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for one client: its bytes, and the ids of the decisions that caused it,
    which is what a `SentUpdate` records. Clients of one group share the same objects."""

    raw: bytes
    caused_by: tuple[str, ...] = ()
    kind: Kind = Kind.UPDATE
