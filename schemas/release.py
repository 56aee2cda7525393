"""Freeze the current schemas as the next released version, after checking them.

    .venv/bin/python -m schemas.release

Run it whenever a schema changes; the tests insist that the newest release equals the
current schemas, so that any reader holding ``schemas/history/`` can decode every event.
"""

from __future__ import annotations

import sys

from schemas import catalog, codec, compat


def main() -> int:
    current = {et.info.name: et.info for et in codec.EVENT_TYPES.values()}
    versions = catalog.history_versions()
    if versions:
        latest = catalog.released(versions[-1])
        if {n: i.fingerprint for n, i in latest.items()} == {
            n: i.fingerprint for n, i in current.items()
        }:
            print(f"unchanged since {versions[-1]}")
            return 0
    found = compat.problems(current, compat.released_history())
    if found:
        print("not FULL_TRANSITIVE compatible:", *found, sep="\n  ", file=sys.stderr)
        return 1
    version = f"v{int(versions[-1][1:]) + 1 if versions else 1}"
    print(f"released {version}: {catalog.write_release(version, current)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
