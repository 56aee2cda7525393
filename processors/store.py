"""The saved state of one routes partition, in RocksDB (rocksdict): a cache of the log.

One store per assigned partition, under ``<state_dir>/derived/partitions/<routes topic>/<n>``
(``derived/`` is discarded when the broker's incarnation changes, :mod:`ixrs.incarnation`).
It holds what a :class:`~processors.partition.PartitionProcessor` knows, so that a restart
or a rebalance does not have to read the partition from its start:

- one record per prefix: its routes in the Adj-RIB-In and the outcome of each (the verdict);
- one meta record: the next input offset to process, the live session epochs, the speaker
  incarnations, the configuration version and the data-set versions in force.

**Offsets.** :meth:`PartitionStore.save` writes the changed prefixes and the meta record
with the processed offset in one ``WriteBatch``: RocksDB applies a batch entirely or not at
all, so the stored offset always names exactly the state beside it. The worker calls it
only after the outputs of those events are flushed to Kafka, so state is never ahead of
what the log shows. On assignment, the stored offset is where processing resumes, whatever
the consumer group's committed offset says.

**Never trusted blindly.** A store of another format, or one that fails to read, is
discarded and the partition rebuilt from the log: the log is the source of truth.

Offers (the candidates as the export policy reads them) and decisions are not saved:
they are derived from the verdicts and the configuration, and computed again on load (the
decision in force for a prefix is always the decision of its current candidates).

Values are pickled: this cache never leaves the machine, is written and read by the same
code (``FORMAT`` changes whenever the saved types change), and pickle is the fastest
encoding of these objects in Python by a wide margin. Its default way with slotted
dataclasses (``__getstate__`` building a dict per object) is slow, so they are reduced to
their constructor's arguments instead: twice as fast.
"""

from __future__ import annotations

import copyreg
import dataclasses
import io
import logging
import operator
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from rocksdict import Options, Rdict, WriteBatch

import schemas.attributes
import schemas.events
from processors import ribin, views
from processors.partition import PartitionProcessor

log = logging.getLogger("ixrs.store")

FORMAT = "ixrs-partition-state-4"
_META = b"m"
_PREFIX = b"p"  # prefix records: b"p" + prefix text


def _reducers(*modules: ModuleType) -> dict[type, Callable[[Any], Any]]:
    table: dict[type, Callable[[Any], Any]] = dict(copyreg.dispatch_table)
    for module in modules:
        for cls in vars(module).values():
            if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
                continue
            fields = dataclasses.fields(cls)
            if not all(f.init for f in fields):
                continue
            get = operator.attrgetter(*(f.name for f in fields))
            if len(fields) == 1:
                table[cls] = lambda obj, cls=cls, get=get: (cls, (get(obj),))
            else:
                table[cls] = lambda obj, cls=cls, get=get: (cls, get(obj))
    return table


class _PlainPickler(pickle.Pickler):
    dispatch_table = _reducers(schemas.attributes, schemas.events, ribin, views)


def _plain_dumps(value: object) -> bytes:
    buf = io.BytesIO()
    _PlainPickler(buf, pickle.HIGHEST_PROTOCOL).dump(value)
    return buf.getvalue()


# Attribute sets and sessions are shared by the many prefixes of an UPDATE (and of a
# session): each object is pickled once, and its bytes embedded in every record that holds
# it. On load, equal bytes give one shared object again, so a restored partition holds no
# more copies than the live one did.
_BLOBS: dict[int, tuple[object, bytes]] = {}
_BLOB_LIMIT = 262_144
_SHARED: dict[bytes, object] = {}


def _by_blob(obj: object) -> tuple[Callable[[bytes], object], tuple[bytes]]:
    hit = _BLOBS.get(id(obj))
    if hit is None or hit[0] is not obj:
        if len(_BLOBS) >= _BLOB_LIMIT:
            _BLOBS.clear()
        hit = _BLOBS[id(obj)] = (obj, _plain_dumps(obj))  # obj kept: its id stays its own
    return _shared, (hit[1],)


def _shared(data: bytes) -> object:
    obj = _SHARED.get(data)
    if obj is None:
        obj = _SHARED[data] = pickle.loads(data)
    return obj


class _Pickler(pickle.Pickler):
    dispatch_table = {**_PlainPickler.dispatch_table,
                      schemas.attributes.Attributes: _by_blob, schemas.events.Session: _by_blob}


def _dumps(value: object) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, pickle.HIGHEST_PROTOCOL).dump(value)
    return buf.getvalue()


@dataclass(frozen=True, slots=True)
class Loaded:
    offset: int  # the next offset of the partition to process
    prefixes: int


def store_path(state_dir: Path, routes_topic: str, partition: int) -> Path:
    return state_dir / "derived" / "partitions" / routes_topic / str(partition)


class PartitionStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db: Rdict | None = Rdict(str(path), Options(raw_mode=True))

    @property
    def db(self) -> Rdict:
        if self._db is None:
            raise RuntimeError(f"{self.path}: store closed")
        return self._db

    def load(self, proc: PartitionProcessor) -> Loaded | None:
        """Bring ``proc`` (fresh) to the saved state; None if there is none to trust.

        On None, the store is emptied and ``proc`` is left untouched."""
        raw = self.db.get(_META)
        if raw is None:
            return None
        try:
            meta = pickle.loads(raw)
            if meta.get("format") != FORMAT:
                raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT!r}")
            prefixes = _restore(proc, meta, self.db)
        except Exception as err:  # any doubt about a cache: rebuild it
            log.warning("%s: saved state not usable (%s); rebuilding from the log",
                        self.path, err)
            self.wipe()
            return None
        return Loaded(meta["offset"], prefixes)

    def save(self, proc: PartitionProcessor, offset: int) -> None:
        """The changed prefixes and ``offset`` (next to process), in one atomic batch."""
        batch = WriteBatch(raw_mode=True)
        routes, verdicts = proc.rib.routes, proc.verdicts
        for prefix in proc.dirty:
            key = _PREFIX + prefix.encode()
            record = (routes.get(prefix), verdicts.get(prefix))
            if record == (None, None):
                batch.delete(key)
            else:
                batch.put(key, _dumps(record))
        batch.put(_META, _dumps(_meta(proc, offset)))
        self.db.write(batch)
        proc.dirty.clear()

    def wipe(self) -> None:
        self.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self._db = Rdict(str(self.path), Options(raw_mode=True))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _meta(proc: PartitionProcessor, offset: int) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "offset": offset,
        "config": proc.policy.version,
        "in_force": list(proc.in_force.items()),
        "epochs": proc.rib.epochs,
        "incarnations": proc.rib.incarnations,
    }


def _restore(proc: PartitionProcessor, meta: dict[str, Any], db: Rdict) -> int:
    if meta["config"] != proc.policy.version:
        if proc.load_policies is None:
            raise ValueError(f"saved under configuration {meta['config'][:12]}, not loadable")
        policies = proc.load_policies(meta["config"])
        proc.policy, proc.export = policies.imports, policies.exports
    for (kind, name), version in meta["in_force"]:
        proc.data = proc.bring_into_force(kind, name, version)
    rib = proc.rib
    rib.epochs.update(meta["epochs"])
    rib.incarnations.update(meta["incarnations"])
    count = 0
    it = db.iter()
    it.seek(_PREFIX)
    try:
        while it.valid():
            key = it.key()
            if not key.startswith(_PREFIX):
                break
            prefix = key[len(_PREFIX):].decode()
            routes, verdicts = pickle.loads(it.value())
            if routes:
                rib.routes[prefix] = routes
                for peer in routes:
                    rib.by_peer.setdefault(peer, set()).add(prefix)
            if verdicts:
                proc.verdicts[prefix] = verdicts
            count += 1
            it.next()
    finally:
        del it  # an open iterator keeps the database from closing
        _SHARED.clear()
    # memoised by candidate set as the live path is (the prefixes of one origin share their
    # offers): the same decisions, in a third less time to restore a table
    for prefix in proc.reoffer():
        proc.decisions[prefix] = proc._decision(prefix, proc.offers[prefix])
    proc.dirty.clear()
    return count
