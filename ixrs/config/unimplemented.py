"""Options that are valid for arouteserver but that ixrs does not act upon yet.

They are never dropped silently: when a file enables one, load_config() returns a
ConfigWarning naming the file, the field and "not implemented by ixrs yet; ignored".
NOT_IMPLEMENTED is the one list of them; remove a row when the feature lands.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ixrs.config.communities import KINDS, RTT_COMMUNITIES
from ixrs.config.errors import ConfigWarning
from ixrs.config.node import Node
from ixrs.config.values import boolean

REASON = "not implemented by ixrs yet; ignored"


def _enabled(value: Any) -> bool:
    return boolean(Node("", "", value))


def _disabled(value: Any) -> bool:
    return not _enabled(value)


def _set(value: Any) -> bool:
    return not Node("", "", value).absent and value not in ({}, [])


def _community_set(value: Any) -> bool:
    return isinstance(value, dict) and any(_set(value.get(kind)) for kind in KINDS)


@dataclass(frozen=True)
class Unimplemented:
    scope: str  # "general": a path in general.yml; "client": a path in each clients.yml entry
    path: str
    when: Callable[[Any], bool] = _enabled
    note: str = ""


_NO_PEERINGDB = "no PeeringDB access"
_RTT = "RTT-based communities; needs RTT measurement"

NOT_IMPLEMENTED: tuple[Unimplemented, ...] = (
    Unimplemented("general", "cfg.gtsm"),
    Unimplemented("general", "cfg.add_path"),
    Unimplemented("general", "cfg.rfc8950"),
    Unimplemented("general", "cfg.multihop", _set),
    Unimplemented("general", "cfg.filtering.roles.enabled"),
    Unimplemented("general", "cfg.filtering.rpki_aspa_verification.enabled"),
    Unimplemented("general", "cfg.filtering.irrdb.peering_db", note=_NO_PEERINGDB),
    Unimplemented("general", "cfg.filtering.irrdb.use_arin_bulk_whois_data.enabled"),
    Unimplemented("general", "cfg.filtering.irrdb.use_registrobr_bulk_whois_data.enabled"),
    Unimplemented(
        "general",
        "cfg.filtering.never_via_route_servers.peering_db",
        note=f"{_NO_PEERINGDB}; list the ASNs in never_via_route_servers.asns_file",
    ),
    Unimplemented(
        "general",
        "cfg.filtering.max_prefix.peering_db.enabled",
        note=f"{_NO_PEERINGDB}; general_limit_ipv4/6 apply",
    ),
    Unimplemented(
        "general", "cfg.blackhole_filtering.client_community.peering_db", note=_NO_PEERINGDB
    ),
    Unimplemented("general", "cfg.path_hiding", _disabled,
                  "ixrs always sends a client the best route it may receive (RFC 7948 §4.1)"),
    Unimplemented("general", "cfg.filtering.max_prefix.count_rejected_routes", _disabled,
                  "the speaker counts every route received, rejected ones included"),
    Unimplemented("general", "cfg.rpki_roas", _set, "ixrs takes VRPs from `ixrs load-rpki`"),
    Unimplemented("general", "cfg.rpki_aspas", _set),
    *(
        Unimplemented("general", f"cfg.communities.{name}", _community_set, _RTT)
        for name in RTT_COMMUNITIES
    ),
    Unimplemented("client", "password", _set, "TCP MD5 signatures"),
    Unimplemented("client", "cfg.gtsm"),
    Unimplemented("client", "cfg.add_path"),
    Unimplemented("client", "cfg.rfc8950"),
    Unimplemented("client", "cfg.multihop", _set),
    Unimplemented("client", "cfg.filtering.roles.enabled"),
    Unimplemented("client", "cfg.filtering.rpki_aspa_verification.enabled"),
    Unimplemented("client", "cfg.filtering.max_prefix.peering_db.enabled", note=_NO_PEERINGDB),
    Unimplemented("client", "cfg.filtering.max_prefix.count_rejected_routes", _disabled,
                  "the speaker counts every route received, rejected ones included"),
    Unimplemented(
        "client", "cfg.blackhole_filtering.client_community.peering_db", note=_NO_PEERINGDB
    ),
    Unimplemented("client", "cfg.custom_options", _set, "BIRD/OpenBGPD configuration lines"),
)


def collect_warnings(
    general: Any, general_path: str, clients: Any, clients_path: str
) -> tuple[ConfigWarning, ...]:
    """Warnings for both (already validated) documents: general.yml's, then each client's."""
    entries = (clients.get("clients") or []) if isinstance(clients, dict) else []
    found = []
    for row in _rows("general"):
        found += _check(row, general, general_path, "")
    for index, entry in enumerate(entries):
        for row in _rows("client"):
            found += _check(row, entry, clients_path, f"clients[{index}].")
    return tuple(found)


def _rows(scope: str) -> list[Unimplemented]:
    return [row for row in NOT_IMPLEMENTED if row.scope == scope]


def _check(row: Unimplemented, document: Any, path: str, prefix: str) -> list[ConfigWarning]:
    value = _lookup(document, row.path)
    if value is None or not row.when(value):
        return []
    reason = f"{REASON} ({row.note})" if row.note else REASON
    return [ConfigWarning(path, prefix + row.path, reason)]


def _lookup(document: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document
