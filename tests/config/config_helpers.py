"""Small documents and writers shared by the configuration tests."""

from pathlib import Path
from typing import Any

import yaml

from ixrs.config import NOT_IMPLEMENTED

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def minimal_general() -> dict[str, Any]:
    return {"cfg": {"rs_as": 59900, "router_id": "192.0.2.1"}}


def minimal_clients() -> dict[str, Any]:
    return {"clients": [{"asn": 20002, "ip": "192.0.2.2"}, {"asn": 20003, "ip": "192.0.2.3"}]}


def general_with(path: str, value: Any, document: dict[str, Any] | None = None) -> dict[str, Any]:
    """A general.yml document (the minimal one by default) with a dotted path set."""
    document = document or minimal_general()
    node = document
    *parents, last = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return document


def write(path: Path, content: Any) -> str:
    """Write a document (YAML from a dict, or text as it is) and return its path."""
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return str(path)


# Values that enable the rows whose option is not a plain boolean.
ENABLING = {
    "cfg.multihop": 2,
    "cfg.rpki_roas": {"source": "rtr"},
    "cfg.rpki_aspas": {"source": "rtr"},
    "password": "secret",
    "cfg.custom_options": {"bird": {"ipv4": {"protocol": {"config_lines": ["debug all;"]}}}},
    # an option whose unimplemented value is the off one
    "cfg.filtering.max_prefix.count_rejected_routes": False,
    "cfg.path_hiding": False,
}


def enable(document: dict[str, Any], path: str, index: int) -> dict[str, Any]:
    if path.startswith("cfg.communities."):
        return general_with(path, {"lrg": f"rs_as:{800 + index}:dyn_val"}, document)
    return general_with(path, ENABLING.get(path, True), document)


def everything_enabled() -> tuple[dict[str, Any], dict[str, Any]]:
    general = minimal_general()
    general["cfg"]["rtt_thresholds"] = "5, 10, 20"
    general = general_with(
        "cfg.filtering.irrdb.use_arin_bulk_whois_data.source", "arin.json", general
    )
    client: dict[str, Any] = {"asn": 196615, "ip": "192.0.2.4"}
    for index, row in enumerate(NOT_IMPLEMENTED):
        if row.scope == "general":
            general = enable(general, row.path, index)
        else:
            client = enable(client, row.path, index)
    return general, {"clients": [{"asn": 20002, "ip": "192.0.2.2"}, client]}
