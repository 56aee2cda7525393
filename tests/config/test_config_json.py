"""The normalized configuration as JSON: exact round trips and stable versions."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from config_helpers import EXAMPLES, everything_enabled, minimal_clients, minimal_general, write

from ixrs.config import ConfigError, RouteServerConfig, load_config

Load = Callable[..., RouteServerConfig]


def examples() -> RouteServerConfig:
    return load_config(str(EXAMPLES / "general.yml"), str(EXAMPLES / "clients.yml"))


def test_round_trip_of_the_examples() -> None:
    config = examples()
    text = config.to_json()
    again = RouteServerConfig.from_json(text)
    assert again == config
    assert again.to_json() == text
    assert again.client_by_ip("192.0.2.3") == config.client_by_ip("192.0.2.3")


def test_round_trip_with_every_kind_of_value(load: Load, tmp_path: Path) -> None:
    (tmp_path / "nvrs.txt").write_text("AS8075\n")
    general, clients = everything_enabled()
    general["cfg"]["filtering"]["never_via_route_servers"]["asns_file"] = "nvrs.txt"
    general["cfg"]["filtering"]["global_black_list_pref"] = [
        {"prefix": "10.0.0.0", "length": 8, "le": 24, "comment": "rfc1918"}
    ]
    general["cfg"]["custom_communities"] = {"member": {"std": "65000:1", "ext": "ro:1:2"}}
    clients["clients"][0]["cfg"] = {
        "attach_custom_communities": ["member"],
        "filtering": {
            "irrdb": {
                "white_list_route": [
                    {"prefix": "2001:db8::", "length": 32, "asn": 20002, "exact": True}
                ]
            }
        },
        "blackhole_filtering": {"client_community": {"std": "65535:666"}},
    }
    config = load(general, clients)
    again = RouteServerConfig.from_json(config.to_json())
    assert again == config
    assert again.warnings == config.warnings


def test_version_is_stable_and_content_addressed(load: Load, tmp_path: Path) -> None:
    first = load()
    assert first.version == load().version
    assert len(first.version) == 64 and int(first.version, 16) >= 0
    # Written differently, same meaning: same version.
    general = minimal_general()
    general["cfg"].update(
        {"router_id": ["192.0.2.1"], "passive": "yes", "filtering": {"max_as_path_len": "32"}}
    )
    clients = minimal_clients()
    clients["clients"][0]["ip"] = ["192.0.2.2"]
    assert load(general, clients).version == first.version
    # Loaded from elsewhere: same version.
    other = tmp_path / "elsewhere"
    other.mkdir()
    moved = load_config(
        write(other / "g.yml", minimal_general()), write(other / "c.yml", minimal_clients())
    )
    assert moved.version == first.version
    # A different policy: a different version.
    changed = minimal_general()
    changed["cfg"]["filtering"] = {"max_as_path_len": 31}
    assert load(changed).version != first.version


def test_json_is_canonical_and_carries_the_version() -> None:
    config = examples()
    document = json.loads(config.to_json())
    assert document["format"] == 1
    assert document["version"] == config.version
    assert config.to_json() == json.dumps(document, sort_keys=True, separators=(",", ":"))


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("{", "(file)", "invalid JSON"),
        ('{"format": 2}', "format", "not an ixrs configuration"),
        ("[]", "format", "not an ixrs configuration"),
    ],
)
def test_bad_json(text: str, field: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RouteServerConfig.from_json(text)
    assert (caught.value.file, caught.value.field) == ("<json>", field)
    assert reason in caught.value.reason


def test_json_with_unknown_or_mistyped_fields() -> None:
    document = json.loads(examples().to_json())
    document["general"]["filtering"]["max_as_path_lenght"] = 3
    with pytest.raises(ConfigError) as caught:
        RouteServerConfig.from_json(json.dumps(document))
    assert caught.value.field == "general.filtering.max_as_path_lenght"
    document = json.loads(examples().to_json())
    document["clients"][0]["asn"] = True
    with pytest.raises(ConfigError) as caught:
        RouteServerConfig.from_json(json.dumps(document))
    assert (caught.value.field, caught.value.reason) == ("clients[0].asn", "expected int, got bool")


def test_a_field_missing_from_older_json_takes_its_default() -> None:
    config = examples()
    document = json.loads(config.to_json())
    del document["general"]["filtering"]["allow_as_set"]
    assert RouteServerConfig.from_json(json.dumps(document)) == config
