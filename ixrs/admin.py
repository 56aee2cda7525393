"""Creating the topics of :mod:`ixrs.topics` and checking the ones that exist."""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from ixrs import topics
from ixrs.errors import UsageError
from ixrs.topics import TopicSpec


class TopicMismatch(UsageError):
    """A topic exists with another partition count than the deployment asks for."""


def expected(prefix: str, partitions: int) -> dict[str, tuple[TopicSpec, int]]:
    return {spec.name(prefix): (spec, spec.partitions(partitions)) for spec in topics.ALL}


def ensure_topics(bootstrap: str, prefix: str, partitions: int, timeout: float = 30.0) -> None:
    """Create the missing topics; refuse existing ones with a different partition count."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    wanted = expected(prefix, partitions)
    existing = admin.list_topics(timeout=timeout).topics
    _check_counts(wanted, {name: len(md.partitions) for name, md in existing.items()})
    missing = [
        NewTopic(name, num_partitions=count, replication_factor=1, config=spec.config())
        for name, (spec, count) in wanted.items()
        if name not in existing
    ]
    if not missing:
        return
    for name, future in admin.create_topics(missing, operation_timeout=timeout).items():
        try:
            future.result(timeout)
        except KafkaException as exc:
            # Another role may have created it first; the recount below decides.
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise RuntimeError(f"cannot create topic {name}: {exc}") from exc
    existing = admin.list_topics(timeout=timeout).topics
    _check_counts(wanted, {name: len(md.partitions) for name, md in existing.items()})


def _check_counts(wanted: dict[str, tuple[TopicSpec, int]], found: dict[str, int]) -> None:
    for name, (_spec, count) in wanted.items():
        have = found.get(name)
        if have is not None and have != count:
            raise TopicMismatch(
                f"topic {name} has {have} partitions but the deployment asks for {count}; "
                "partition counts cannot change (use a new topic prefix, or the old count)"
            )
