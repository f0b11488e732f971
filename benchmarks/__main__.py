"""Run duban's benchmarks and print their figures, ratios and targets.

    python -m benchmarks [--quick] [--only normalize,ingest,plan] [--databases sqlite,postgresql]

Without ``--quick`` the corpus goes up to 10,000 documents (about 100,000 tasks) and
the run takes a long while on a small machine; ``--quick`` stops at 1,000 documents.
PostgreSQL figures need a server at ``$DUBAN_BENCH_POSTGRES`` (default
postgresql+psycopg://postgres@127.0.0.1:5432/test); the run creates and drops a
database ``duban_bench`` on it, and skips PostgreSQL with a note when none answers.
docs/BENCHMARKS.md has the figures of the last full run and what they mean.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import bench_store
from benchmarks.generate import write_config, write_corpus
from benchmarks.measure import database, isolated, postgres_available, table

FULL_SIZES = (10, 100, 1_000, 10_000)
QUICK_SIZES = (10, 100, 1_000)
FIGURES = ("normalize", "ingest", "plan")
# The targets (issue 7).
INGEST_MB_S, PLAN_SECONDS, PLAN_MB, REPLAN_SECONDS = 1.0, 30.0, 1024.0, 1.0
NORMALIZE_SCRIPT = Path(__file__).resolve().parent / "bench_normalize.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 1,000 documents")
    parser.add_argument("--only", default=",".join(FIGURES), help=f"comma-separated figures among {', '.join(FIGURES)}")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated corpus")
    args = parser.parse_args()
    figures = args.only.split(",")
    kinds = args.databases.split(",")
    if "postgresql" in kinds and not postgres_available():
        print("PostgreSQL does not answer: its figures are skipped.\n")
        kinds.remove("postgresql")
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    print(f"duban benchmarks on {platform.python_implementation()} {platform.python_version()}, {platform.machine()}\n")

    if "normalize" in figures:
        section("normalize: phrases per second on benchmarks/phrases.toml")
        subprocess.run([sys.executable, str(NORMALIZE_SCRIPT), "--seconds", "0.5" if args.quick else "2"], check=True)
    if "ingest" in figures or "plan" in figures:
        with tempfile.TemporaryDirectory(prefix="duban-bench-") as scratch:
            corpus = write_corpus(Path(scratch), max(sizes), seed=args.seed)
            store_figures(corpus, sizes, kinds, figures)


def section(title: str) -> None:
    print(f"\n## {title}\n", flush=True)


def store_figures(corpus, sizes, kinds, figures) -> None:
    """Ingest at each size on each database; plan and replan on the largest."""
    directory = corpus.directory
    sqlite_config = write_config(directory, f"sqlite:///{directory / 'parse.db'}", name="parse.toml")
    ingest_rows, plan_rows, targets = [], [], []
    for size in sizes:
        paths = list(corpus.documents[:size])
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        parsed = isolated(bench_store.parse_only, sqlite_config, paths)
        ingest_rows.append(_ingest_row("parse only", size, megabytes, parsed, parsed["seconds"]))
        for kind in kinds:
            with database(kind, directory) as url:
                config = write_config(directory, url)
                if "ingest" in figures or size == max(sizes):
                    result = isolated(bench_store.ingest, config, paths)
                    ingest_rows.append(_ingest_row(kind, size, megabytes, result, parsed["seconds"]))
                    if size == max(sizes):
                        targets.append((f"ingest {size:,} docs, {kind}", f"{megabytes / result['seconds']:.2f} MB/s", f"≥ {INGEST_MB_S} MB/s", megabytes / result["seconds"] >= INGEST_MB_S))
                if "plan" in figures and size == max(sizes):
                    result = isolated(bench_store.plan, config, paths[len(paths) // 2])
                    plan_rows.append((kind, result))
                    targets += _plan_targets(kind, result)
    if "ingest" in figures:
        section("ingest: files to stored tasks (App.ingest), parse only for comparison")
        _print_growth(ingest_rows)
    if plan_rows:
        section("plan: stored tasks × default rules → notification log (App.replan)")
        print(table(
            ["database", "tasks", "notifications", "load s", "plan s", "reconcile s", "first s", "again s", "peak MB"],
            [(k, r["tasks"], r["notifications"], r["load_seconds"], r["plan_seconds"], r["reconcile_seconds"], r["first_seconds"], r["steady_seconds"], r["peak_mb"]) for k, r in plan_rows],
        ))
        print()
        print(table(
            ["database", "replan after one document changes: s", "tasks changed", "keys changed", "of other documents", "log rows touched", "rows unchanged"],
            [(k, r["change_seconds"], r["change_tasks"], r["change_keys"], r["change_foreign"], _touched(r["change"]), r["change"]["unchanged"]) for k, r in plan_rows],
        ))
    if targets:
        section("targets")
        print(table(["figure", "measured", "target", "met"], [(f, m, t, "yes" if ok else "NO") for f, m, t, ok in targets]))


def _ingest_row(kind, size, megabytes, result, parse_seconds):
    seconds = result["seconds"]
    return [kind, size, megabytes, result["tasks"], seconds, size / seconds, megabytes / seconds, 1000 * seconds / size, seconds / parse_seconds, result["peak_mb"]]


def _print_growth(rows) -> None:
    """Add each row's cost per document relative to the smallest size of its kind."""
    smallest: dict[str, float] = {}
    out = []
    for row in rows:
        per_doc = row[7]
        smallest.setdefault(row[0], per_doc)
        out.append(row + [per_doc / smallest[row[0]]])
    print(table(["database", "documents", "MB", "tasks", "s", "docs/s", "MB/s", "ms/doc", "× parse", "peak MB", "ms/doc × smallest"], out))


def _plan_targets(kind: str, r: dict) -> list[tuple[str, str, str, bool]]:
    tasks = f"{r['tasks']:,} tasks"
    return [
        (f"plan {tasks}, {kind}", f"{r['first_seconds']:.1f} s", f"< {PLAN_SECONDS:.0f} s", r["first_seconds"] < PLAN_SECONDS),
        (f"plan {tasks}, {kind}: peak memory", f"{r['peak_mb']:.0f} MB", f"< {PLAN_MB:.0f} MB", r["peak_mb"] < PLAN_MB),
        (f"replan one document, {kind}", f"{r['change_seconds']:.2f} s", f"< {REPLAN_SECONDS:.0f} s", r["change_seconds"] < REPLAN_SECONDS),
        (f"replan one document, {kind}: rows of other documents touched", f"{r['change_foreign']}", "0", r["change_foreign"] == 0),
    ]


def _touched(change: dict) -> int:
    return change["added"] + change["updated"] + change["restored"] + change["cancelled"]


if __name__ == "__main__":
    main()
