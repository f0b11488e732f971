"""After a job the daemon gives the C heap's free pages back to the system."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler import daemon


def resident_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(daemon._trim is None, reason="glibc's malloc_trim is not available")
def test_memory_freed_amid_live_objects_goes_back_to_the_system() -> None:
    blocks = [bytes(2000) for _ in range(60_000)]  # 120 MB from malloc, not CPython's arenas
    kept = blocks[::25]  # one in 25 stays alive, so the heap cannot shrink from its top
    del blocks
    before = resident_kib()
    daemon.release_memory()
    assert before - resident_kib() > 50_000  # most of the 115 MB freed between them
    assert len(kept) == 2_400
