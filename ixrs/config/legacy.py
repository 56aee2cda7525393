"""arouteserver's older spellings of a few options, rewritten into the current ones.

arouteserver still reads them (config/base.py, convert_deprecated), and files written for older
releases, including its own distributed clients.yml (`filtering.rpki`), use them.
"""

import copy
from typing import Any

from ixrs.config.node import Node

# (old key under `filtering`, new key under `filtering`, how the old value becomes the new one)
_FILTERING_RENAMES = (
    ("next_hop_policy", "next_hop", lambda value: {"policy": value}),
    ("rpki", "rpki_bgp_origin_validation", lambda value: value),
)


def upgrade_general(document: Any, path: str) -> Any:
    """A copy of a general.yml document with the old spellings replaced."""
    document = copy.deepcopy(document)
    cfg = document.get("cfg") if isinstance(document, dict) else None
    if not isinstance(cfg, dict):
        return document
    _upgrade_cfg(cfg, Node(path, "cfg", cfg))
    roas = cfg.get("rpki_roas")
    if isinstance(roas, dict) and roas.get("source") == "rtrlib":
        roas["source"] = "rtr"
    return document


def upgrade_clients(document: Any, path: str) -> Any:
    """A copy of a clients.yml document with the old spellings replaced."""
    document = copy.deepcopy(document)
    clients = document.get("clients") if isinstance(document, dict) else None
    if not isinstance(clients, list):
        return document
    for index, client in enumerate(clients):
        cfg = client.get("cfg") if isinstance(client, dict) else None
        if isinstance(cfg, dict):
            _upgrade_cfg(cfg, Node(path, f"clients[{index}].cfg", cfg))
    return document


def _upgrade_cfg(cfg: dict[str, Any], node: Node) -> None:
    filtering = cfg.get("filtering")
    if not isinstance(filtering, dict):
        return
    here = node.child("filtering")
    for old, new, convert in _FILTERING_RENAMES:
        if old not in filtering:
            continue
        if new in filtering:
            raise here.child(old).error(f"deprecated; cannot be used together with '{new}'")
        filtering[new] = convert(filtering.pop(old))
    max_prefix = filtering.get("max_prefix")
    if not isinstance(max_prefix, dict):
        return
    peering_db = max_prefix.get("peering_db")
    if peering_db is not None and not isinstance(peering_db, dict):
        max_prefix["peering_db"] = {"enabled": peering_db}
