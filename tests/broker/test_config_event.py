"""The configuration as an event, at the size a large IXP has."""

from __future__ import annotations

from pathlib import Path

from ixrs import admin, topics
from ixrs.config import RouteServerConfig, load_config
from ixrs.config.deploy import resolve_deploy
from ixrs.eventlog import SingleObjectFraming, read_partition
from ixrs.prepare import publish_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _many_clients(path: Path, sessions: int) -> None:
    lines = ["clients:"]
    for i in range(sessions):
        asn = 20000 + i
        lines += [f"  - asn: {asn}", f'    ip: "2001:db8:1::{i + 1:x}"',
                  f'    description: "member {i}"']
    path.write_text("\n".join(lines) + "\n")


def test_a_3000_session_configuration_is_published_and_read_back(
        broker, topic_prefix: str, tmp_path: Path) -> None:
    clients = tmp_path / "clients.yml"
    _many_clients(clients, 3000)
    config = load_config(str(EXAMPLES / "general.yml"), str(clients))
    assert len(config.to_json()) > 1_000_000, "the point is a record over Kafka's 1 MB default"
    deploy = resolve_deploy({"topic_prefix": topic_prefix, "partitions": 1}, None, {})
    admin.ensure_topics(broker.bootstrap, topic_prefix, 1)
    assert publish_config(broker.bootstrap, deploy, config, [str(clients)])
    assert not publish_config(broker.bootstrap, deploy, config, [str(clients)]), \
        "an unchanged configuration is not published twice"
    [(_offset, event)] = list(read_partition(broker.bootstrap, topics.CONFIG.name(topic_prefix),
                                             0, SingleObjectFraming()))
    assert event.version == config.version
    assert RouteServerConfig.from_json(event.config_json) == config
