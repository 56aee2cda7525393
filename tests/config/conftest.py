"""Fixtures for the configuration tests."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from config_helpers import minimal_clients, minimal_general, write

from ixrs.config import ConfigError, RouteServerConfig, load_config


@pytest.fixture
def load(tmp_path: Path) -> Callable[..., RouteServerConfig]:
    """load(general=..., clients=...) -> RouteServerConfig, from dicts or YAML text."""

    def run(general: Any = None, clients: Any = None) -> RouteServerConfig:
        general_path = write(tmp_path / "general.yml", general or minimal_general())
        clients_path = write(tmp_path / "clients.yml", clients or minimal_clients())
        return load_config(general_path, clients_path)

    return run


@pytest.fixture
def load_error(load: Callable[..., RouteServerConfig]) -> Callable[..., ConfigError]:
    def run(**documents: Any) -> ConfigError:
        with pytest.raises(ConfigError) as caught:
            load(**documents)
        return caught.value

    return run
