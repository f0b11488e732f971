"""The four seeds against their expected JSON, written by reading each seed.

Metadata, task numbers, keys and titles must match exactly; a task's text must start with
the expected text (its first sentence). Tasks, agencies with roles, and deadlines are
scored by precision and recall (``pytest -s`` prints them), with floors the parser reaches.
Deadlines are compared by kind, date and precision; their text is checked separately
against the phrase as written, which differs only where cleaning repaired it (20176月).
"""

import json
from collections import Counter
from pathlib import Path

import pytest

from scheduler.extract import parse_file

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SEEDS = sorted(DATA.glob("*.expected.json"))

# Floors per measure: (precision, recall), over all seeds together.
FLOORS = {"tasks": (1.0, 1.0), "agencies": (0.98, 0.98), "deadlines": (0.95, 0.95)}


def expected(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def found(seed: dict) -> dict:
    doc = parse_file(ROOT / seed["path"])
    return {
        "title": doc.title,
        "doc_number": doc.doc_number,
        "issuer": doc.issuer,
        "issued_on": doc.issued_on.isoformat() if doc.issued_on else None,
        "jurisdiction": doc.jurisdiction,
        "tasks": [
            {
                "key": t.key,
                "number": t.number,
                "title": t.title,
                "text": t.text,
                "agencies": [{"name": a.name, "role": a.role} for a in t.agencies],
                "deadlines": [
                    {"text": d.text, "kind": d.kind, "date": d.date.isoformat() if d.date else None, "precision": d.precision}
                    for d in t.deadlines
                ],
            }
            for t in doc.tasks
        ],
    }


def facts(doc: dict) -> dict[str, Counter]:
    """What is scored, as multisets: tasks, (task, agency, role), (task, kind, date, precision)."""
    return {
        "tasks": Counter(t["number"] for t in doc["tasks"]),
        "agencies": Counter((t["number"], a["name"], a["role"]) for t in doc["tasks"] for a in t["agencies"]),
        "deadlines": Counter(
            (t["number"], d["kind"], d["date"], d["precision"]) for t in doc["tasks"] for d in t["deadlines"]
        ),
    }


def score(want: Counter, got: Counter) -> tuple[float, float]:
    hit = sum((want & got).values())
    return (hit / sum(got.values()) if got else 1.0, hit / sum(want.values()) if want else 1.0)


@pytest.fixture(scope="module")
def pairs():
    return [(expected(path), found(expected(path))) for path in SEEDS]


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name.split("_")[0])
def test_metadata(path):
    want = expected(path)
    got = found(want)
    for field in ("title", "doc_number", "issuer", "issued_on", "jurisdiction"):
        assert got[field] == want[field], field


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name.split("_")[0])
def test_task_fields(path):
    want = expected(path)
    got = {t["number"]: t for t in found(want)["tasks"]}
    for task in want["tasks"]:
        mine = got.get(task["number"])
        assert mine is not None, f"missing task {task['number']}"
        assert (mine["key"], mine["title"]) == (task["key"], task["title"])
        assert mine["text"].startswith(task["text"]), task["number"]


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name.split("_")[0])
def test_deadline_text_is_the_phrase(path):
    """Every deadline's text is a phrase of its task's text or of a restated table row."""
    want = expected(path)
    source = (ROOT / want["path"]).read_text(encoding="utf-8").replace("20176月", "2017年6月")
    for task in found(want)["tasks"]:
        for deadline in task["deadlines"]:
            assert deadline["text"] in source


def test_precision_and_recall(pairs):
    totals = {measure: (Counter(), Counter()) for measure in FLOORS}
    for want, got in pairs:
        wanted, have = facts(want), facts(got)
        line = [Path(want["path"]).name[:3]]
        for measure in FLOORS:
            totals[measure][0].update(wanted[measure])
            totals[measure][1].update(have[measure])
            p, r = score(wanted[measure], have[measure])
            line.append(f"{measure} P={p:.3f} R={r:.3f}")
        print("  ".join(line))
    for measure, (precision_floor, recall_floor) in FLOORS.items():
        p, r = score(*totals[measure])
        print(f"all  {measure}: precision {p:.3f} recall {r:.3f}")
        assert p >= precision_floor and r >= recall_floor, measure
