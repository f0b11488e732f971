"""The wording file: loaded once, checked, and read in simplified or traditional characters."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler import wording
from scheduler.errors import RuleError
from scheduler.responsibility import parse_responsibility


def test_the_shipped_wording_loads():
    words = wording.load()
    assert ("牵头单位", "lead") in words.labels and ("配合", "support") in words.verbs
    assert "牵头部门" in words.columns["lead"] and "保障措施" in words.means_sections


@pytest.mark.parametrize(
    ("text", "matches"),
    [("牵头单位", True), ("牽頭單位", True), ("牵頭单位", True), ("牵头部门", False)],
)
def test_variants_match_either_form(text, matches):
    assert bool(re.fullmatch(wording.variants("牵头单位"), text)) == matches


def test_initials_hold_both_forms_of_every_first_character():
    lead = re.compile(f"[{wording.initials(['牵头单位', '配合', '[备注]'])}]")
    assert all(lead.fullmatch(c) for c in "牵牽配[") and not lead.search("头单位合备注]")


def test_fold_simplifies_character_for_character():
    assert wording.fold("溫州市牽頭單位") == "溫州市牵头单位"  # 溫 is a name's, not a fixed word's


def edited(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the shipped wording file with ``old`` replaced by ``new``."""
    path = tmp_path / "wording.toml"
    path.write_text(wording.PATH.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "culprit"),
    [
        ("[labels]", "[labels", "cannot be read"),
        ('"牵头单位" = "lead"', '"牵头单位" = "boss"', "牵头单位"),
        ('"配合" = "support"', '"配合" = "helper"', "配合"),
        ('"牵头" = "牽頭"', '"牵头" = "牽"', "character for character"),
        ("number = [", "serial = [", "serial"),
        ('"map$",', '"map(",', "'map(' is no regular expression"),
        ("[sections]", "[sectionz]", "sections"),
    ],
)
def test_a_broken_wording_file_is_a_rule_error_naming_it(tmp_path, old, new, culprit):
    path = edited(tmp_path, old, new)
    with pytest.raises(RuleError, match=re.escape(culprit)) as error:
        wording.load(path)
    assert str(path) in str(error.value)


def installation(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the package whose rules/wording.toml has ``old`` replaced by ``new``: the
    patterns are built from the file the package sits beside, so a copy is run."""
    root = Path(wording.__file__).resolve().parent.parent
    shutil.copytree(root / "scheduler", tmp_path / "scheduler", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(root / "rules", tmp_path / "rules")
    edited(tmp_path, old, new).replace(tmp_path / "rules" / "wording.toml")
    return tmp_path


def test_a_label_added_to_the_file_is_understood(tmp_path):
    """An office adds 督办单位 as a lead label, without touching Python."""
    clause = "督办单位:市督查室;配合单位:市财政局"
    root = installation(tmp_path, "[labels]\n", '[labels]\n"督办单位" = "lead"   # the supervising agency\n')
    script = f"from scheduler.responsibility import parse_responsibility as p; print([(r.name, r.role) for r in p({clause!r}).agencies])"
    run = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[('市督查室', 'lead'), ('市财政局', 'support')]"
    shipped = parse_responsibility(clause).agencies
    assert ("市督查室", "lead") not in [(r.name, r.role) for r in shipped]  # the shipped file lacks the label


def test_a_broken_wording_file_is_one_sentence_from_the_command_line(tmp_path):
    root = installation(tmp_path, '"配合" = "support"', '"配合" = "helper"')
    (root / "plan.txt").write_text("某市方案\n一、任务\n(一)甲。(市卫健委牵头)\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "scheduler", "parse", "plan.txt"], cwd=root, capture_output=True, text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1 and "wording.toml" in run.stderr and "'配合' = 'helper'" in run.stderr
