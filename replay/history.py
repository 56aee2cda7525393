"""What the log says was in force: configuration versions and data-set versions.

Replay reads the configuration from the config topic, never from files: a moment is
judged by the configuration that was in force then, which the log holds in full. The
data sets come from the datasets topic. Both are read with the workers' own readers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ixrs import topics
from ixrs.config import RouteServerConfig
from ixrs.config.deploy import Deploy
from ixrs.errors import UsageError
from ixrs.prepare import ConfigReader
from processors.datalog import DataSetReader
from processors.datasets import DataSet
from processors.export import ExportPolicy
from processors.partition import Policies
from processors.validate import ImportPolicy
from replay.moment import Moment
from replay.source import LogSource, events


class History:
    """Configuration and data-set versions by version, read from the log once."""

    def __init__(self, source: LogSource) -> None:
        self.source = source
        deploy = Deploy(topic_prefix=source.prefix)
        self._configs = ConfigReader("", deploy, read=self._reader(topics.CONFIG))
        self._datasets = DataSetReader("", deploy.topic_prefix, source.framing,
                                       read=self._reader(topics.DATASETS))
        self._policies: dict[str, Policies] = {}

    def _reader(self, spec: topics.TopicSpec) -> Callable[[int], Iterator[tuple[int, Any]]]:
        def read(start: int) -> Iterator[tuple[int, Any]]:
            return events(self.source, spec, 0, max(start, 0))
        return read

    def policies(self, version: str) -> Policies:
        """The import and export policy of a configuration version, compiled once."""
        found = self._policies.get(version)
        if found is None:
            config = self._configs.load(version)
            found = self._policies[version] = Policies(ImportPolicy(config),
                                                       ExportPolicy.from_config(config))
        return found

    def config(self, version: str) -> RouteServerConfig:
        return self._configs.load(version)

    def dataset(self, kind: str, name: str, version: str) -> DataSet:
        return self._datasets.load(kind, name, version)

    def versions(self) -> list[tuple[int, str]]:
        """(event time, version) of every configuration published, in log order."""
        return [(e.header.event_time_us, e.version)
                for _o, e in events(self.source, topics.CONFIG, 0)]

    def version_at(self, moment: Moment) -> str:
        """The configuration version published last before the moment (the first one, for a
        moment before any: the log's earliest events were judged by it)."""
        versions = self.versions()
        if not versions:
            raise UsageError(f"no configuration in {topics.CONFIG.name(self.source.prefix)}: "
                             "nothing was ever run on this log")
        before = [v for t, v in versions if moment.at_us is None or t <= moment.at_us]
        return before[-1] if before else versions[0][1]
