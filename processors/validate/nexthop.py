"""The NEXT_HOP check (reject cause 5): RFC 7948 §4.8, next-hop hijacking.

`strict`: the route's NEXT_HOP must be the client's own address; `same-as`: any address of a
client with the same ASN (RFC 7948 §4.8 allows "next-hop rewriting for the same AS");
`authorized_addresses`: one of the client's `authorized_addresses_list`. Only addresses of
the session's address family count (client.py compiles the set). Clients on an IPv6
link-local address are not checked, as in arouteserver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from processors.validate.reasons import Step
from schemas.events import Reason

if TYPE_CHECKING:
    from processors.validate.context import Batch


def check_next_hop(batch: Batch) -> Reason | None:
    allowed = batch.policy.next_hops
    if allowed is None or batch.next_hop in allowed:
        return None
    policy = batch.policy.client.settings.filtering.next_hop.policy
    shown = ", ".join(sorted(allowed)) or "none"
    return Step.NEXT_HOP.reason(
        f"NEXT_HOP {batch.next_hop or 'missing'} is not allowed ({policy}: {shown})"
    )
