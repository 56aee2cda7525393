"""The reject-cause communities of `reject_policy: tag` and `tag_and_reject`.

arouteserver's `tag_and_reject(cause, asn)` adds `reject_cause` twice, with 0 ("the route
must be treated as discarded": the export filters drop it) and with the cause; the
`reject_cause_map` community of the cause, if any; `rejected_route_announced_by` with the
announcing client's ASN; and sets LOCAL_PREF 1 (policy.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from ixrs.config import Client
from ixrs.config.communities import CommunitySet
from ixrs.config.general import GeneralConfig
from processors.validate.communities import NO_TAGS, Tags, render


@dataclass(frozen=True, eq=False)
class Tagging:
    """A client's reject-cause communities, all but the cause rendered already."""

    reject_cause: CommunitySet
    by_code: MappingProxyType[int, CommunitySet]
    announced_by: Tags

    def tags(self, code: int) -> Tags:
        mapped = self.by_code.get(code)
        by_code = render(mapped) if mapped else NO_TAGS
        causes = render(self.reject_cause, 0) + render(self.reject_cause, code)
        return causes + by_code + self.announced_by


def tagging(general: GeneralConfig, client: Client) -> Tagging | None:
    communities = general.communities
    if not communities.reject_cause.configured:
        return None
    announced_by = communities.rejected_route_announced_by
    # A standard community has 16 bits for the ASN: a 32-bit ASN goes there only through its
    # `16bit_mapped_asn`, else the standard form is left out (as arouteserver does).
    std_asn = client.asn if client.asn <= 0xFFFF else client.mapped_16bit_asn
    std = (announced_by.std.render(std_asn),) if announced_by.std and std_asn else ()
    announced = render(announced_by, client.asn, std=False) + Tags(std=std)  # type: ignore[arg-type]
    return Tagging(
        reject_cause=communities.reject_cause,
        by_code=MappingProxyType({e.code: e.community for e in communities.reject_cause_map}),
        announced_by=announced,
    )
