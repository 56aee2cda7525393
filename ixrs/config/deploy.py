"""The ixrs deployment file (`--deploy`, YAML), and where each deployment setting comes from.

    kafka:
      bootstrap: "127.0.0.1:9092"      # absent: the embedded broker (run only)
      topic_prefix: "ixrs."
      partitions: 8
      schema_registry: null            # URL: Confluent wire format; null: single-object encoding
    bgp:
      listen: "0.0.0.0:179"
      hold_time: 90
    state_dir: "./.ixrs"

A command-line flag beats the deployment file, which beats the IXRS_* environment variables,
which beat the defaults (CLI.md). A null in the file counts as not set.
"""

import ipaddress
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ixrs.config.errors import ConfigError
from ixrs.config.node import Node, describe
from ixrs.config.values import is_decimal
from ixrs.config.yamlfile import load_yaml

DEFAULT_BGP_PORT = 179
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$"
)
_TOPIC_CHARS = re.compile(r"^[A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class Deploy:
    bootstrap: str | None = None  # "HOST:PORT[,HOST:PORT...]"; None: the embedded broker
    topic_prefix: str = "ixrs."
    partitions: int = 8
    schema_registry: str | None = None
    listen: Endpoint = Endpoint("0.0.0.0", DEFAULT_BGP_PORT)
    hold_time: int = 90
    state_dir: str = "./.ixrs"

    @property
    def bootstrap_servers(self) -> tuple[Endpoint, ...]:
        if self.bootstrap is None:
            return ()
        return tuple(parse_endpoint(part, None) for part in self.bootstrap.split(","))


# Each value parser raises ValueError with the reason.


def parse_endpoint(text: str, default_port: int | None, lowest_port: int = 1) -> Endpoint:
    """HOST:PORT, [IPv6]:PORT, or (with a default port) HOST, [IPv6] or a bare IPv6 address."""
    text = text.strip()
    host, port = _split_host_port(text)
    if port is None and default_port is None:
        raise ValueError(f"{text!r} needs a port (HOST:PORT)")
    if not host:
        raise ValueError(f"{text!r} has no address")
    return Endpoint(_host(host), _port(port, lowest_port) if port is not None else default_port)


def _split_host_port(text: str) -> tuple[str, str | None]:
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r} is not [IPv6]:PORT")
        _ipv6(host, text)
        return host, rest[1:] if rest else None
    if text.count(":") > 1:
        _ipv6(text, text)
        return text, None
    host, colon, port = text.partition(":")
    return host, port if colon else None


def _ipv6(host: str, text: str) -> None:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        raise ValueError(f"{text!r}: {host!r} is not an IPv6 address") from None


def _host(host: str) -> str:
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        pass
    if not _HOSTNAME.match(host):
        raise ValueError(f"{host!r} is neither an IP address nor a host name")
    return host


def _port(text: str, lowest: int) -> int:
    if not is_decimal(text) or not lowest <= int(text) <= 65535:
        raise ValueError(f"port {text!r} is not in {lowest}..65535")
    return int(text)


def _listen(value: Any) -> Endpoint:
    # Port 0 asks the kernel for a free port, which tests use.
    return parse_endpoint(_string(value), DEFAULT_BGP_PORT, lowest_port=0)


def _bootstrap(value: Any) -> str:
    parts = [part.strip() for part in _string(value).split(",")]
    return ",".join(str(parse_endpoint(part, None)) for part in parts)


def _integer(low: int, high: int, zero_ok: bool = False) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, str) and is_decimal(value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be an integer, not {describe(value)}")
        if not (low <= value <= high or (zero_ok and value == 0)):
            allowed = f"0 or {low}..{high}" if zero_ok else f"{low}..{high}"
            raise ValueError(f"{value} is out of range {allowed}")
        return value

    return parse


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty string, not {describe(value)}")
    return value.strip()


def _topic_prefix(value: Any) -> str:
    if not isinstance(value, str) or not _TOPIC_CHARS.match(value) or len(value) > 200:
        raise ValueError(f"{value!r}: a topic prefix is up to 200 of A-Z a-z 0-9 . _ -")
    return value


def _urls(value: Any) -> str:
    urls = [url.strip() for url in _string(value).split(",")]
    for url in urls:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"{url!r} is not an http:// or https:// URL")
    return ",".join(urls)


@dataclass(frozen=True)
class _Setting:
    name: str  # Deploy's field, and the key in the flags mapping
    path: tuple[str, ...]  # where it is in the deployment file
    env: str
    parse: Callable[[Any], Any]

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS = (
    _Setting("bootstrap", ("kafka", "bootstrap"), "IXRS_BOOTSTRAP", _bootstrap),
    _Setting("topic_prefix", ("kafka", "topic_prefix"), "IXRS_TOPIC_PREFIX", _topic_prefix),
    _Setting("partitions", ("kafka", "partitions"), "IXRS_PARTITIONS", _integer(1, 100000)),
    _Setting("schema_registry", ("kafka", "schema_registry"), "IXRS_SCHEMA_REGISTRY", _urls),
    _Setting("listen", ("bgp", "listen"), "IXRS_LISTEN", _listen),
    _Setting("hold_time", ("bgp", "hold_time"), "IXRS_HOLD_TIME", _integer(3, 65535, True)),
    _Setting("state_dir", ("state_dir",), "IXRS_STATE_DIR", _string),
)


def resolve_deploy(
    flags: Mapping[str, object | None], deploy_path: str | None, env: Mapping[str, str]
) -> Deploy:
    """The deployment settings: flag, else deployment file, else IXRS_* variable, else default.

    `flags` maps the setting names (bootstrap, topic_prefix, partitions, schema_registry,
    listen, hold_time, state_dir) to the flag values, None when a flag was not given; other
    keys are ignored, so vars() of an argparse namespace will do.
    """
    in_file = read_deploy_file(deploy_path) if deploy_path else {}
    values = {}
    for setting in SETTINGS:
        found = _first_set(setting, flags, in_file, env, deploy_path or "")
        if found is not None:
            source, field, raw = found
            values[setting.name] = _parse(setting, raw, source, field)
    return Deploy(**values)


def _first_set(
    setting: _Setting,
    flags: Mapping[str, object | None],
    in_file: Mapping[str, Any],
    env: Mapping[str, str],
    deploy_path: str,
) -> tuple[str, str, Any] | None:
    if flags.get(setting.name) is not None:
        return "command line", setting.flag, flags[setting.name]
    if in_file.get(setting.name) is not None:
        return deploy_path, ".".join(setting.path), in_file[setting.name]
    if env.get(setting.env, "").strip():
        return "environment", setting.env, env[setting.env]
    return None


def _parse(setting: _Setting, raw: Any, source: str, field: str) -> Any:
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise ConfigError(source, field, str(exc)) from None


def read_deploy_file(path: str) -> dict[str, Any]:
    """The settings a deployment file sets, by setting name; unknown keys are errors."""
    root = Node(path, "", load_yaml(path))
    sections = {setting.path[0] for setting in SETTINGS}
    root.mapping(allowed=sections)
    found = {}
    for setting in SETTINGS:
        node = root
        for key in setting.path[:-1]:
            node = node.child(key)
            node.mapping(allowed=[s.path[-1] for s in SETTINGS if s.path[0] == key])
        found[setting.name] = node.child(setting.path[-1]).value
    return found
