"""What every benchmark needs: fresh databases, isolated processes, memory and tables.

Each figure that has a memory side runs in a fresh process (:func:`isolated`), so its
peak resident memory is its own and not what an earlier figure left behind. Every
database figure runs on SQLite (a file in the corpus directory) and on PostgreSQL (a
database created for the run and dropped after it).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

POSTGRES_SERVER = os.environ.get("DUBAN_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BENCH_DATABASE = f"duban_bench_{os.getpid()}"  # two runs at once never share one
# The benchmarks' "now": mid-2025, when the generated plans (issued 2019-2025) have
# deadlines past, due and ahead, so every rule of the default set has work to do.
NOW = datetime(2025, 7, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def postgres_available() -> bool:
    try:
        with sa.create_engine(POSTGRES_SERVER).connect():
            return True
    except sa.exc.OperationalError:
        return False


@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    """The URL of an empty database of ``kind`` ("sqlite" or "postgresql"), removed afterwards."""
    if kind == "sqlite":
        path = directory / "bench.db"
        for stale in directory.glob("bench.db*"):
            stale.unlink()
        yield f"sqlite:///{path}"
        for used in directory.glob("bench.db*"):
            used.unlink()
        return
    server = sa.create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {BENCH_DATABASE}")
    try:
        yield server.url.set(database=BENCH_DATABASE).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        server.dispose()


def isolated(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``function(*args)`` in a fresh process; its result gains ``peak_mb``, that process's peak RSS."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=1) as pool:
        return pool.submit(_with_peak, function, *args).result()


def _with_peak(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    result = function(*args)
    return result | {"peak_mb": peak_mb()}


def peak_mb() -> float:
    """This process's peak resident memory (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def resident_mb(pid: int | str = "self") -> float:
    """Current resident memory of a process, from /proc (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int | str = "self") -> float:
    """User plus system CPU time a process has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table, numbers right-aligned."""
    cells = [list(map(str, headers))] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if n and _numeric(rows[n - 1][i]) else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _numeric(value: object) -> bool:
    return isinstance(value, (int, float))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
