"""The example configuration in examples/ is valid, for ixrs and for arouteserver."""

import pytest
from config_helpers import EXAMPLES

from ixrs.config import Endpoint, load_config, resolve_deploy


def test_examples_load_without_errors_or_warnings() -> None:
    config = load_config(str(EXAMPLES / "general.yml"), str(EXAMPLES / "clients.yml"))
    assert config.warnings == ()
    assert config.general.rs_as == 59900
    assert sorted({c.asn for c in config.clients}) == [20002, 20003, 196615]
    assert len(config.clients) == 6
    filtering = config.general.filtering
    assert not filtering.irrdb.tag_as_set
    assert not filtering.irrdb.enforce_origin_in_as_set
    assert not filtering.irrdb.enforce_prefix_in_as_set
    assert not filtering.max_prefix.peering_db.enabled
    assert not filtering.never_via_route_servers.peering_db


def test_example_deployment_file() -> None:
    deploy = resolve_deploy({}, str(EXAMPLES / "ixrs.yml"), {})
    assert deploy.listen == Endpoint("0.0.0.0", 179)
    assert deploy.bootstrap is None
    assert (deploy.topic_prefix, deploy.partitions, deploy.hold_time) == ("ixrs.", 8, 90)


def test_arouteserver_accepts_the_examples() -> None:
    general_module = pytest.importorskip("pierky.arouteserver.config.general")
    clients_module = pytest.importorskip("pierky.arouteserver.config.clients")
    general = general_module.ConfigParserGeneral()
    general.load(str(EXAMPLES / "general.yml"))
    clients = clients_module.ConfigParserClients(general_cfg=general)
    clients.load(str(EXAMPLES / "clients.yml"))
    assert len(clients.cfg["clients"]) == 6
