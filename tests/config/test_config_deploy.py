"""The deployment file, and flag > deployment file > IXRS_* variable > default."""

from pathlib import Path
from typing import Any

import pytest
from config_helpers import write

from ixrs.config import ConfigError, Deploy, Endpoint, resolve_deploy
from ixrs.config.deploy import SETTINGS, parse_endpoint

# setting: (flag value, file value, environment value, what each becomes, default)
VALUES: dict[str, tuple[Any, Any, str, tuple[Any, Any, Any], Any]] = {
    "bootstrap": (
        "10.0.0.1:9092",
        "broker:9092,[::1]:9093",
        "k:1",
        ("10.0.0.1:9092", "broker:9092,[::1]:9093", "k:1"),
        None,
    ),
    "topic_prefix": ("a.", "b.", "c.", ("a.", "b.", "c."), "ixrs."),
    "partitions": (16, 4, "2", (16, 4, 2), 8),
    "schema_registry": (
        "http://sr:8081",
        "https://sr2",
        "http://sr3:1",
        ("http://sr:8081", "https://sr2", "http://sr3:1"),
        None,
    ),
    "listen": (
        "127.0.0.1:1179",
        "[::]:179",
        "::1",
        (Endpoint("127.0.0.1", 1179), Endpoint("::", 179), Endpoint("::1", 179)),
        Endpoint("0.0.0.0", 179),
    ),
    "hold_time": ("0", 30, "9", (0, 30, 9), 90),
    "state_dir": (
        "/var/lib/ixrs",
        "/srv/ixrs",
        "/tmp/ixrs",
        ("/var/lib/ixrs", "/srv/ixrs", "/tmp/ixrs"),
        "./.ixrs",
    ),
}


def deploy_file(tmp_path: Path, name: str, value: Any) -> str:
    setting = next(s for s in SETTINGS if s.name == name)
    document: dict[str, Any] = {}
    node = document
    for key in setting.path[:-1]:
        node = node.setdefault(key, {})
    node[setting.path[-1]] = value
    return write(tmp_path / "ixrs.yml", document)


def env_name(name: str) -> str:
    return next(s.env for s in SETTINGS if s.name == name)


@pytest.mark.parametrize("name", list(VALUES))
def test_precedence(tmp_path: Path, name: str) -> None:
    flag, in_file, in_env, (from_flag, from_file, from_env), default = VALUES[name]
    path = deploy_file(tmp_path, name, in_file)
    env = {env_name(name): in_env}
    assert getattr(resolve_deploy({name: flag}, path, env), name) == from_flag
    assert getattr(resolve_deploy({name: None}, path, env), name) == from_file
    assert getattr(resolve_deploy({}, None, env), name) == from_env
    assert getattr(resolve_deploy({}, write(tmp_path / "empty.yml", ""), {}), name) == default
    assert getattr(Deploy(), name) == default


def test_every_setting_is_covered() -> None:
    assert set(VALUES) == {s.name for s in SETTINGS}
    assert {s.env for s in SETTINGS} == {
        "IXRS_BOOTSTRAP",
        "IXRS_TOPIC_PREFIX",
        "IXRS_PARTITIONS",
        "IXRS_SCHEMA_REGISTRY",
        "IXRS_LISTEN",
        "IXRS_HOLD_TIME",
        "IXRS_STATE_DIR",
    }


def test_null_in_file_and_empty_variable_count_as_unset(tmp_path: Path) -> None:
    path = write(tmp_path / "ixrs.yml", "kafka:\n  bootstrap: null\n")
    assert resolve_deploy({}, path, {"IXRS_BOOTSTRAP": "k:9092"}).bootstrap == "k:9092"
    assert resolve_deploy({}, None, {"IXRS_BOOTSTRAP": " "}).bootstrap is None


def test_unrelated_flags_are_ignored() -> None:
    flags = {"general": "g.yml", "workers": 3, "listen": None, "partitions": 2}
    assert resolve_deploy(flags, None, {}).partitions == 2


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("0.0.0.0:179", 179, Endpoint("0.0.0.0", 179)),
        ("0.0.0.0", 179, Endpoint("0.0.0.0", 179)),
        ("[::]:179", 179, Endpoint("::", 179)),
        ("[::]", 179, Endpoint("::", 179)),
        ("::", 179, Endpoint("::", 179)),
        ("2001:DB8::1", 179, Endpoint("2001:db8::1", 179)),
        ("[2001:db8::1]:1179", 179, Endpoint("2001:db8::1", 1179)),
        ("localhost:9092", None, Endpoint("localhost", 9092)),
    ],
)
def test_endpoints(text: str, default: int | None, expected: Endpoint) -> None:
    assert parse_endpoint(text, default) == expected


def test_endpoint_text() -> None:
    assert str(Endpoint("::", 179)) == "[::]:179"
    assert str(Endpoint("0.0.0.0", 179)) == "0.0.0.0:179"
    assert Deploy(bootstrap="a:1,[::1]:2").bootstrap_servers == (
        Endpoint("a", 1),
        Endpoint("::1", 2),
    )


@pytest.mark.parametrize(
    ("content", "field", "reason"),
    [
        ("kafka:\n  bootstrp: x:1\n", "kafka.bootstrp", "unknown key"),
        ("bgp:\n  listen: x\nstate: y\n", "state", "unknown key"),
        ("kafka: [1]\n", "kafka", "must be a mapping"),
        ("bgp:\n  listen: '0.0.0.0:70000'\n", "bgp.listen", "port '70000' is not in 0..65535"),
        ("bgp:\n  listen: '[::1:179'\n", "bgp.listen", "is not [IPv6]:PORT"),
        (
            "bgp:\n  listen: 'bad host!:179'\n",
            "bgp.listen",
            "neither an IP address nor a host name",
        ),
        ("bgp:\n  listen: ':179'\n", "bgp.listen", "has no address"),
        ("bgp:\n  hold_time: 2\n", "bgp.hold_time", "out of range 0 or 3..65535"),
        ("bgp:\n  hold_time: 65536\n", "bgp.hold_time", "out of range"),
        ("kafka:\n  partitions: 0\n", "kafka.partitions", "out of range 1..100000"),
        ("kafka:\n  partitions: eight\n", "kafka.partitions", "must be an integer"),
        ("kafka:\n  partitions: true\n", "kafka.partitions", "must be an integer"),
        ("kafka:\n  bootstrap: 'broker'\n", "kafka.bootstrap", "needs a port"),
        ("kafka:\n  bootstrap: 'a:1,b'\n", "kafka.bootstrap", "'b' needs a port"),
        ("kafka:\n  bootstrap: 'a:0'\n", "kafka.bootstrap", "not in 1..65535"),
        ("kafka:\n  topic_prefix: 'ixrs/'\n", "kafka.topic_prefix", "a topic prefix is"),
        ("kafka:\n  schema_registry: 'sr:8081'\n", "kafka.schema_registry", "not an http"),
        ("state_dir: ''\n", "state_dir", "non-empty string"),
        ("kafka:\n  partitions: [\n", "line 3", "invalid YAML"),
    ],
)
def test_bad_deployment_file(tmp_path: Path, content: str, field: str, reason: str) -> None:
    path = write(tmp_path / "ixrs.yml", content)
    with pytest.raises(ConfigError) as caught:
        resolve_deploy({}, path, {})
    assert (caught.value.file, caught.value.field) == (path, field), str(caught.value)
    assert reason in caught.value.reason


def test_missing_deployment_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_deploy({}, str(tmp_path / "nope.yml"), {})
    assert (caught.value.field, caught.value.reason) == ("(file)", "file not found")


def test_bad_flag_and_bad_variable_are_named() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_deploy({"listen": "1.2.3.4:x"}, None, {})
    assert (caught.value.file, caught.value.field) == ("command line", "--listen")
    with pytest.raises(ConfigError) as caught:
        resolve_deploy({}, None, {"IXRS_PARTITIONS": "-1"})
    assert (caught.value.file, caught.value.field) == ("environment", "IXRS_PARTITIONS")
    assert "must be an integer" in caught.value.reason
