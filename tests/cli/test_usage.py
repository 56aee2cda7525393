"""Exit codes and one-line errors of the command-line contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CONFIG = ["--general", str(EXAMPLES / "general.yml"), "--clients", str(EXAMPLES / "clients.yml")]


def ixrs(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ixrs", *args], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env=env)


def test_check_config_accepts_the_examples() -> None:
    result = ixrs("check-config", *CONFIG)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")


def test_check_config_names_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yml"
    result = ixrs("check-config", "--general", str(missing), "--clients",
                  str(EXAMPLES / "clients.yml"))
    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_config_value_exits_2_with_file_field_reason(tmp_path: Path) -> None:
    general = tmp_path / "general.yml"
    general.write_text("cfg:\n  rs_as: 59900\n  router_id: 'not-an-ip'\n")
    result = ixrs("check-config", "--general", str(general), "--clients",
                  str(EXAMPLES / "clients.yml"))
    assert result.returncode == 2
    line = result.stderr.strip()
    assert str(general) in line and "router_id" in line


@pytest.mark.parametrize("command", [
    ["replay", "--at", "now"],
    ["explain", "--at", "-15m", "--client", "AS20002", "--prefix", "185.50.0.0/24"],
    ["load-rpki", "vrps.json"],
    ["archive", "--out", "x"],
])
def test_commands_that_need_kafka_say_so(command: list[str]) -> None:
    result = ixrs(*command, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "no Kafka bootstrap servers" in result.stderr


def test_a_bad_time_is_bad_usage() -> None:
    result = ixrs("replay", "--at", "yesterday-ish", "--bootstrap", "127.0.0.1:1")
    assert result.returncode == 2
    assert "is not a time" in result.stderr


def test_deploy_file_errors_name_the_key(tmp_path: Path) -> None:
    deploy = tmp_path / "ixrs.yml"
    deploy.write_text("kafka:\n  partitons: 8\n")
    result = ixrs("check-config", *CONFIG, "--deploy", str(deploy))
    # check-config validates the deployment file too
    assert result.returncode == 2, result.stdout
    assert str(deploy) in result.stderr and "partitons" in result.stderr


def test_topics_with_another_partition_count_are_refused(broker, topic_prefix: str) -> None:
    from ixrs import admin

    admin.ensure_topics(broker.bootstrap, topic_prefix, 3)
    result = ixrs("run", *CONFIG, "--bootstrap", broker.bootstrap, "--topic-prefix",
                  topic_prefix, "--state-dir", "/tmp/ixrs-test-mismatch")
    assert result.returncode == 2, result.stderr
    assert f"topic {topic_prefix}routes has 3 partitions" in result.stderr
