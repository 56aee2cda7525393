"""The configuration of ixrs: arouteserver's general.yml and clients.yml, and the deployment file.

ixrs reads the two arouteserver files (the format IXP Manager exports) and validates them as
arouteserver does: wrong types, out-of-range values, unknown enum values and unknown keys are
ConfigErrors naming the file, the field and the reason. Absent options take arouteserver's
defaults, with one exception: options whose default is an external lookup (PeeringDB) are off
unless the file sets them, since ixrs has no such access (see general.py).

Options that ixrs does not implement yet are never dropped silently: `warnings` names each one
a file enables (the list is unimplemented.NOT_IMPLEMENTED).

The normalized configuration is published as an event and rebuilt on replay: `to_json()` and
`RouteServerConfig.from_json()` round-trip exactly, and `version` is the hex sha256 of the
canonical JSON of the policy content (format, general, asns, clients; not the warnings, which
name file paths), so that equal configurations have equal versions wherever they were loaded.
"""

import functools
import hashlib
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from ixrs.config.clients import AsnAsSets, Client, parse_clients
from ixrs.config.codec import DecodeError, from_plain, to_plain
from ixrs.config.deploy import Deploy, Endpoint, resolve_deploy
from ixrs.config.errors import ConfigError, ConfigWarning
from ixrs.config.general import GeneralConfig, parse_general
from ixrs.config.legacy import upgrade_clients, upgrade_general
from ixrs.config.unimplemented import NOT_IMPLEMENTED, collect_warnings
from ixrs.config.values import is_decimal
from ixrs.config.yamlfile import load_yaml

__all__ = [
    "NOT_IMPLEMENTED",
    "AsnAsSets",
    "Client",
    "ConfigError",
    "ConfigWarning",
    "Deploy",
    "Endpoint",
    "GeneralConfig",
    "RouteServerConfig",
    "load_config",
    "resolve_deploy",
]

FORMAT = 1
JSON_SOURCE = "<json>"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class RouteServerConfig:
    general: GeneralConfig
    asns: tuple[AsnAsSets, ...]
    clients: tuple[Client, ...]
    warnings: tuple[ConfigWarning, ...]
    version: str

    @classmethod
    def build(
        cls,
        general: GeneralConfig,
        asns: tuple[AsnAsSets, ...],
        clients: tuple[Client, ...],
        warnings: tuple[ConfigWarning, ...] = (),
    ) -> "RouteServerConfig":
        content = _content(general, asns, clients)
        version = hashlib.sha256(_canonical(content).encode()).hexdigest()
        return cls(general, asns, clients, warnings, version)

    def to_json(self) -> str:
        document = _content(self.general, self.asns, self.clients)
        document["version"] = self.version
        document["warnings"] = to_plain(self.warnings)
        return _canonical(document)

    @classmethod
    def from_json(cls, text: str) -> "RouteServerConfig":
        """Rebuild a configuration from to_json(); the version is kept as it was published."""
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(JSON_SOURCE, "(file)", f"invalid JSON: {exc}") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ConfigError(JSON_SOURCE, "format", f"not an ixrs configuration, format {FORMAT}")
        try:
            return from_plain(cls, {k: v for k, v in document.items() if k != "format"})
        except DecodeError as exc:
            raise ConfigError(JSON_SOURCE, exc.path, exc.reason) from None

    def client_by_ip(self, ip: str) -> Client | None:
        try:
            return self._by_ip.get(ipaddress.ip_address(ip.strip()).compressed)
        except ValueError:
            return None

    def clients_by_asn(self, asn: int | str) -> tuple[Client, ...]:
        """Every session of an ASN, given as 65001, "65001" or "AS65001"."""
        text = str(asn).strip().upper().removeprefix("AS")
        if not is_decimal(text):
            return ()
        return tuple(c for c in self.clients if c.asn == int(text))

    @functools.cached_property
    def _by_ip(self) -> dict[str, Client]:
        return {client.ip: client for client in self.clients}


def _content(
    general: GeneralConfig, asns: tuple[AsnAsSets, ...], clients: tuple[Client, ...]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "general": to_plain(general),
        "asns": to_plain(asns),
        "clients": to_plain(clients),
    }


def load_config(general_path: str, clients_path: str) -> RouteServerConfig:
    """Read, validate and normalize general.yml and clients.yml; ConfigError on the first fault."""
    general_doc = upgrade_general(load_yaml(general_path), general_path)
    general = parse_general(general_doc, general_path)
    clients_doc = upgrade_clients(load_yaml(clients_path), clients_path)
    asns, clients = parse_clients(clients_doc, clients_path, general)
    warnings = collect_warnings(general_doc, general_path, clients_doc, clients_path)
    return RouteServerConfig.build(general, asns, clients, warnings)
