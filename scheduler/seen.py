"""Which document files an App has stored, and as what: so unchanged files are skipped.

The daemon ingests every configured file each ``replan_interval``; parsing thousands
of plans that did not change would cost minutes each time. A file is taken as
unchanged when its size and modification time are those of the bytes last stored, or,
when they differ, when the SHA-256 of its bytes is (a ``touch`` or a copy changes
nothing). Only fingerprints are kept, never documents, and each under its path as a
string with its digest as bytes: some 470 bytes a file, about half of what ``Path``
keys and hex digests took (4.7 MB, not 8.8, for 10,000 files).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A file's bytes as last seen: their size, modification time and SHA-256."""

    size: int
    mtime_ns: int
    sha256: bytes


@dataclass(frozen=True, slots=True)
class _Stored:
    fingerprint: Fingerprint
    tasks: int
    deadlines: int


class SeenFiles:
    """The fingerprint of each file stored, with how many tasks and deadlines it gave."""

    def __init__(self) -> None:
        self._stored: dict[str, _Stored] = {}

    def changed(self, path: Path) -> Fingerprint | None:
        """The file's new fingerprint, or None when its bytes are those stored last.

        A file that cannot be read counts as changed: parsing it reports why.
        """
        key = _key(path)
        stored = self._stored.get(key)
        try:
            stat = path.stat()
            known = stored.fingerprint if stored is not None else None
            if known is not None and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                return None
            digest = hashlib.sha256(path.read_bytes()).digest()
        except OSError:
            return Fingerprint(-1, -1, b"")
        fingerprint = Fingerprint(stat.st_size, stat.st_mtime_ns, digest)
        if stored is not None and stored.fingerprint.sha256 == fingerprint.sha256:
            self._stored[key] = _Stored(fingerprint, stored.tasks, stored.deadlines)
            return None
        return fingerprint

    def stored(self, path: Path, fingerprint: Fingerprint, *, tasks: int, deadlines: int) -> None:
        """Remember that the file with this fingerprint is stored."""
        self._stored[_key(path)] = _Stored(fingerprint, tasks, deadlines)

    def tasks(self, path: Path) -> int:
        stored = self._stored.get(_key(path))
        return stored.tasks if stored else 0

    def deadlines(self, path: Path) -> int:
        stored = self._stored.get(_key(path))
        return stored.deadlines if stored else 0


def _key(path: Path) -> str:
    return str(path.resolve())
