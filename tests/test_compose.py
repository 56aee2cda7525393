"""docker-compose.yml cannot run here; check what can be checked without Docker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ixrs.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _ixrs_commands(compose: dict[str, Any]) -> dict[str, list[str]]:
    out = {}
    for name, service in compose["services"].items():
        command = service.get("command")
        if command and command[0] == "ixrs":
            out[name] = command
    return out


def test_every_ixrs_command_is_accepted_by_the_cli(compose: dict[str, Any]) -> None:
    commands = _ixrs_commands(compose)
    assert set(commands) == {"speaker", "worker"}
    parser = build_parser()
    for name, command in commands.items():
        args = parser.parse_args(command[1:])  # SystemExit(2) on anything the CLI refuses
        assert args.command == name


def test_the_cli_check_itself_can_fail() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["speaker", "--no-such-flag"])


def test_kafka_is_single_node_kraft(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "kafka-data" in compose["volumes"]


def test_roles_use_the_registry_and_kafka(compose: dict[str, Any]) -> None:
    registry = compose["services"]["schema-registry"]
    assert "schema-registry" in registry["image"]
    for name in ("speaker", "worker"):
        env = compose["services"][name]["environment"]
        assert env["IXRS_BOOTSTRAP"] == "kafka:9092"
        assert env["IXRS_SCHEMA_REGISTRY"].startswith("http://schema-registry:")


def test_workers_scale_and_keep_state_per_replica(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert "/var/lib/ixrs" in worker["volumes"]  # anonymous: one per replica
