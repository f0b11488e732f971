"""A deterministic corpus of synthetic implementation plans, with a config that resolves them.

Benchmarks need plans by the thousand, and the four seeds are four. So the generator
assembles plans from the genre's pieces (benchmarks/corpus.toml): a notice with a
文号 and an issue date, outline levels 一、/(一)/1., every way of naming who is
responsible (a 责任单位: line, (牵头单位:…,相关责任单位:…), (A牵头;B、C配合),
(A、B按职责分别负责), 〔…以下任务均需X落实,不再列出〕, and a 任务分解表 flattened
one cell a line), and every deadline form (year ends, goal years, months, quarters,
halves, days, recurrences, relative phrases, plan periods, two dates, no date).

The same seed and size always give the same bytes, so figures of two runs compare.
Each document has its own 文号, so task keys never collide; and config.toml lists
every agency and group of every city, so every name a plan writes resolves.

    python -m benchmarks.generate DIR --documents 100 [--seed 7] [--database URL]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

VOCABULARY = Path(__file__).resolve().parent / "corpus.toml"
RULES = Path(__file__).resolve().parent.parent / "rules"
GROUP = "各县(市、区)人民政府"
SUPERVISOR = "督查室"  # the escalation rules copy it; the directory must know it
FIRST_YEAR, LAST_YEAR = 2019, 2025


@dataclass(frozen=True)
class Corpus:
    """What :func:`write_corpus` wrote: the documents, with their size in bytes."""

    directory: Path
    documents: tuple[Path, ...]
    bytes: int


def vocabulary() -> dict:
    return tomllib.loads(VOCABULARY.read_text(encoding="utf-8"))


def document(index: int, seed: int, words: dict) -> str:
    """The text of document ``index``.

    Each document draws from its own generator, seeded by (seed, index), so document
    17 is the same whether 20 or 10,000 are written.
    """
    rng = random.Random(f"{seed}:{index}")
    city = rng.choice(words["cities"])
    year = rng.randint(FIRST_YEAR, LAST_YEAR)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    topic = rng.choice(words["topics"])
    place = f"{city['name']}市"
    title = f"{place}{topic}实施方案"
    short = [f"市{a['aliases'][0]}" for a in words["agencies"]]

    def sentence_body() -> str:
        return "。".join(rng.sample(words["sentences"], rng.randint(2, 4)))

    def deadline() -> str:
        phrase = rng.choice(words["deadlines"])
        return _years(phrase, year)

    def names(count: int) -> list[str]:
        """Agencies as plans list them: the 市 prefix written once, distributed over the rest."""
        chosen = rng.sample(short, count)
        return [chosen[0]] + [name.removeprefix("市") if rng.random() < 0.5 else name for name in chosen[1:]]

    def responsibility(form: int) -> tuple[str, str]:
        """(text appended to the item's body, a line after the item) in one of five forms."""
        if form == 0:
            return "", f"责任单位:{'、'.join(names(rng.randint(1, 3)))},{GROUP}"
        if form == 1:
            lead, *others = names(rng.randint(2, 4))
            return f"(牵头单位:{lead},相关责任单位:{'、'.join(others)})", ""
        if form == 2:
            lead, *others = names(rng.randint(2, 4))
            return f"({lead}牵头;{'、'.join(others)}配合)", ""
        return f"({'、'.join(names(rng.randint(2, 3)))}按职责分别负责)", ""

    tasks = rng.randint(6, 14)
    in_table = rng.randint(2, 4)
    in_outline = tasks - in_table
    second = in_outline // 2
    lines = [
        f"{place}人民政府办公室关于印发{title}的通知",
        f"{city['abbr']}政办〔{year}〕{index + 1}号",
        f"{GROUP},市直各单位:",
        f"《{title}》已经市人民政府同意,现印发给你们,请认真贯彻落实。",
        f"{place}人民政府办公室",
        f"{year}年{month}月{day}日",
        "(此件公开发布)",
        title,
        f"为{rng.choice(words['sentences'])},制定本实施方案。",
        "一、总体要求",
        f"{sentence_body()}。到{year + 5}年,各项指标达到全省先进水平。",
        "二、重点任务",
    ]
    headings = rng.sample(words["headings"], in_outline + in_table)
    for n in range(second):
        text, after = responsibility(rng.randint(0, 3))
        if n == 0 and rng.random() < 0.3:
            who = "、".join(names(2))
            text = f"〔责任单位:{who},以下任务均需{GROUP}落实,不再列出〕"
        lines.append(f"({_chinese(n + 1)}){headings[n]}。{sentence_body()}。{deadline()}。{text}")
        if after:
            lines.append(after)
    lines += ["三、保障措施", f"(一){rng.choice(words['headings'])}"]
    for n in range(second, in_outline):
        text, after = responsibility(rng.randint(0, 3))
        lines.append(f"{n - second + 1}.{headings[n]}。{sentence_body()}。{deadline()}。{text}")
        if after:
            lines.append(after)
    lines += ["附件", f"{title}重点任务分解表", "序号", "工作任务", "牵头部门", "相关责任部门", "完成时间"]
    for n in range(in_table):
        lead, *others = names(rng.randint(1, 3))
        lines += [str(n + 1), f"{headings[in_outline + n]}工作", _full(lead, short)]
        lines += [_full(name, short) for name in others] or ["—"]
        lines.append(_years(rng.choice(words["table_deadlines"]), year))
    return "\n".join(lines) + "\n"


def _years(phrase: str, year: int) -> str:
    for offset in range(5, 0, -1):
        phrase = phrase.replace(f"{{Y+{offset}}}", str(year + offset))
    return phrase.replace("{Y}", str(year))


def _full(name: str, short: list[str]) -> str:
    """A table cell names one agency in full (市发改委), never with the prefix left out."""
    return name if name in short else f"市{name}"


def _chinese(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    return ("" if n < 20 else digits[n // 10]) + "十" + (digits[n % 10] if n % 10 else "")


def config_text(
    words: dict, *, database: str, documents: str, smtp: dict[str, object] | None = None
) -> str:
    """config.toml for the corpus: every city's agencies and its districts as a group.

    Mail goes to a file outbox, or to the server ``smtp`` describes ([mail.smtp] keys).
    """
    mail = {"backend": "smtp" if smtp else "file", "outbox": "outbox", "from": "督查室 <duban@bench.example>"}
    out = [
        "# Written by benchmarks/generate.py for a synthetic corpus; not for production.",
        "[database]",
        f"url = {json.dumps(database)}",
        "[mail]",
        *(f'"{key}" = {json.dumps(value, ensure_ascii=False)}' for key, value in mail.items()),
        *(["[mail.smtp]", *(f"{key} = {json.dumps(value)}" for key, value in smtp.items())] if smtp else []),
        "[documents]",
        f"paths = [{json.dumps(documents)}]",
        "[schedule]",
        'timezone = "Asia/Shanghai"',
        'rules = ["rules/*.toml"]',
        "",
        "[[agencies]]",
        f'jurisdiction = "{words["cities"][0]["name"]}市"',
        f'name = "{SUPERVISOR}"',
        'email = ["dcs@bench.example"]',
    ]
    for c, city in enumerate(words["cities"]):
        place = f"{city['name']}市"
        for a, agency in enumerate(words["agencies"]):
            out += [
                "",
                "[[agencies]]",
                f'jurisdiction = "{place}"',
                f'name = "{place}{agency["name"]}"',
                f"aliases = {json.dumps(['市' + alias for alias in agency['aliases']], ensure_ascii=False)}",
                f'email = ["a{a}@c{c}.bench.example"]',
            ]
        members = [f"{place}{district}人民政府" for district in words["districts"]]
        for d, member in enumerate(members):
            out += ["", "[[agencies]]", f'jurisdiction = "{place}"', f'name = "{member}"', f'email = ["d{d}@c{c}.bench.example"]']
        out += [
            "",
            "[[groups]]",
            f'jurisdiction = "{place}"',
            f'name = "{place}{GROUP}"',
            f'aliases = ["{GROUP}"]',
            f"members = {json.dumps(members, ensure_ascii=False)}",
        ]
    return "\n".join(out) + "\n"


def write_corpus(directory: Path, documents: int, *, seed: int = 7) -> Corpus:
    """Write ``documents`` plans under ``directory``/docs and the rules under ``directory``/rules."""
    words = vocabulary()
    docs = directory / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    paths, size = [], 0
    for index in range(documents):
        path = docs / f"{index:05d}.txt"
        size += path.write_bytes(document(index, seed, words).encode("utf-8"))
        paths.append(path)
    rules = directory / "rules"
    rules.mkdir(exist_ok=True)
    for rule in RULES.glob("reminders*.toml"):  # copied: config.toml takes relative patterns only
        shutil.copy(rule, rules / rule.name)
    return Corpus(directory, tuple(paths), size)


def write_config(
    directory: Path, database: str, *, name: str = "config.toml", smtp: dict[str, object] | None = None
) -> Path:
    """A config.toml in ``directory`` for its corpus on ``database``, mailing through ``smtp`` if given."""
    path = directory / name
    path.write_text(config_text(vocabulary(), database=database, documents="docs/*.txt", smtp=smtp), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", help="database URL of the config (default: SQLite beside it)")
    args = parser.parse_args()
    corpus = write_corpus(args.directory, args.documents, seed=args.seed)
    config = write_config(args.directory, args.database or f"sqlite:///{args.directory.resolve() / 'duban.db'}")
    print(f"{len(corpus.documents)} documents, {corpus.bytes / 1e6:.1f} MB; config {config}")


if __name__ == "__main__":
    main()
