"""One responsibility clause read into agencies with their roles (PATTERNS.md R2–R16).

A clause is what a plan writes about who does a task, once it has been found in the
item (:mod:`scheduler.clauses`): labelled lists (牵头单位:A;相关责任单位:B、C), lists
closed by a role verb (A牵头;B、C配合, A、B按职责分别负责), or both. The labels and verbs
are data (rules/wording.toml) and match in simplified or traditional characters.

Roles follow the plan's own logic rather than the word alone: 责任单位 beside a lead is
support; 按职责分工负责 after a lead is support, alone it is responsible; a plain 负责
beside 配合 is the lead. How a bare 责任单位 list reads is set once per document by the
notice (R16): :func:`role_mode`. Clauses may also carry time limits (完成时限:…) and a
carry-forward of their units to later tasks (R12); both are split off here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from scheduler.model import AgencyRef, Role
from scheduler.names import looks_like_agency, split_names, split_top
from scheduler.wording import initials, load, variants

# "A会同B负责": A leads, B supports.
_TOGETHER = re.compile(r"会同|會同|联合|聯合")

# The carry-forward clause (R12): 以下任务均需X落实,不再列出 / 具体任务均涉及X,不再做分工,下同.
_CARRY = re.compile(
    r"[,;]?\s*(?:以下|下列|各项|上述)*(?:各项)?(?:任务|工作)?(?:均|都)(?:需|须|由|要)(?:要)?(?P<a>[^。]+?)(?:负责)?(?:落实|实施)"
    r"[,;]?\s*(?:不再(?:一一)?列出|下同)|[,;]?\s*具体任务均涉及(?P<b>[^。]+?)[,;]\s*不再做分工[,;]?\s*下同"
)

# What every carry-forward clause has, found quickly: each alternative starts with a
# character, not a class, so the search skips to a 均 or 都 instead of trying both at
# every position.
_CARRY_MARK = re.compile(r"均(?:需|须|由|要|涉及)|都(?:需|须|由|要)")

# A part of a responsibility clause that is a time limit, not an agency: 2018年底前完成.
_TIMEISH = re.compile(r"\d|年|月|季度|底前|以前|之前|长期|持续")

# A clause whose units hold for the later tasks too (R12): (责任单位:X,下同).
_SAME_BELOW = re.compile(r"[,;]\s*下同\s*$")


@dataclass(frozen=True, slots=True)
class _Grammar:
    """The patterns built from rules/wording.toml, on first use so that a broken file is
    reported as a RuleError by the command that reads a plan, not as a traceback on import."""

    labels: tuple[tuple[str, str], ...]
    verbs: tuple[tuple[str, str], ...]
    label: re.Pattern[str]
    verb: re.Pattern[str]
    longest_verb: int
    marked_lead: re.Pattern[str]
    verb_then_list: re.Pattern[str]
    bare_is_lead: re.Pattern[str]
    first_is_lead: re.Pattern[str]


@cache
def _grammar() -> _Grammar:
    labels, verbs = load().labels, load().verbs
    return _Grammar(
        labels=labels,
        verbs=verbs,
        # A label ends with a colon, or sits in 【】: 牵头单位:A, 【牵头单位】A.
        label=re.compile(
            f"(?=[【\\[{initials(label for label, _ in labels)}])[【\\[]?(?:"
            + "|".join(f"(?P<l{i}>{variants(label)})" for i, (label, _) in enumerate(labels))
            + ")(?:\\s*[:]|[】\\]]\\s*:?)"
        ),
        # A role verb closing a list of names.
        verb=re.compile(
            f"(?=[{initials(verb for verb, _ in verbs)}])(?:"
            + "|".join(f"(?P<v{i}>{variants(verb)})" for i, (verb, _) in enumerate(verbs))
            + r")\s*$"
        ),
        longest_verb=max((len(verb) for verb, _ in verbs), default=0),
        # A lead marked after its name inside a list: 市发改委(牵头)、市财政局.
        marked_lead=re.compile("[(](" + variants("牵头") + ")(?:" + variants("单位") + "|" + variants("部门") + r")?[)]\s*[、,]?"),
        # A role verb followed by 、 instead of a comma: (A牵头、B配合).
        verb_then_list=re.compile("(" + "|".join(variants(verb) for verb in ("牵头", "配合", "负责", "协办")) + ")、"),
        # Explicit role rules of the notice (R16).
        bare_is_lead=re.compile(variants("无牵头单位的") + r".{0,4}" + variants("责任单位即为牵头单位")),
        first_is_lead=re.compile(r"列第一位的" + variants("责任单位") + r"为" + variants("牵头单位")),
    )


def label_pattern() -> re.Pattern[str]:
    """The pattern of every responsibility label (牵头单位:, 【配合单位】 …), for finding clauses."""
    return _grammar().label


def may_hold_label(text: str) -> bool:
    """Whether ``text`` has what closes every label: a colon, 】 or ].

    The label pattern, dozens of words after an optional bracket, is tried at every
    character of a text; most texts have none of these and are passed over at once.
    """
    return ":" in text or "】" in text or "]" in text


@dataclass(frozen=True, slots=True)
class Responsibility:
    """The agencies of a clause with their roles, and the open tails (等部门) dropped from it."""

    agencies: tuple[AgencyRef, ...]
    dropped: tuple[str, ...] = ()


def role_mode(text: str) -> str:
    """How a bare 责任单位 list is to be read in this document (R16): ``lead``, ``first``
    or ``responsible``; the notice says it once for every task."""
    if _grammar().bare_is_lead.search(text):
        return "lead"
    if _grammar().first_is_lead.search(text):
        return "first"
    return "responsible"


def parse_responsibility(clause: str, mode: str = "responsible") -> Responsibility:
    """The agencies and roles of one responsibility clause, labelled or verb form.

    ``mode`` says what a bare 责任单位 list means in this document (R16): ``responsible``,
    ``lead`` (无牵头单位的,责任单位即为牵头单位) or ``first`` (列第一位的为牵头单位).
    A lead marked inside a list, 市发改委(牵头)、市财政局, is read as 市发改委牵头,市财政局.
    """
    grammar = _grammar()
    clause = grammar.marked_lead.sub(_then_comma, clause)
    labelled = list(grammar.label.finditer(clause)) if may_hold_label(clause) else []
    if labelled:
        lists = []
        kinds = [_label_kind(m) for m in labelled]
        for index, match in enumerate(labelled):
            end = labelled[index + 1].start() if index + 1 < len(labelled) else len(clause)
            lists.append((kinds[index], clause[match.end() : end].strip(" ,;。")))
        has_lead = "lead" in kinds
    else:
        lists = _verb_lists(clause)
        has_lead = any(kind == "lead" for kind, _ in lists)
    refs: list[AgencyRef] = []
    dropped: list[str] = []
    prefix = None
    for kind, text in lists:
        if kind in ("person", "time") or not text:
            continue
        if labelled and any(map(_closing_verb, split_top(text, ",;"))):
            inner = parse_responsibility(text, mode)
            refs.extend(inner.agencies)
            dropped.extend(inner.dropped)
            continue
        listed = split_names(text, prefix)
        prefix = listed.prefix
        refs.extend(with_role(listed.names, role_of(kind, has_lead, mode)))
        dropped.extend(listed.dropped)
    return Responsibility(merge(refs, ()), tuple(dropped))


# Replacements are functions rather than templates (r"\1,"): re expands a template
# in Python at every call, which costs twice the substitution itself.
def _then_comma(match: re.Match[str]) -> str:
    """The role word a match found, then a comma: (牵头) → 牵头, and 牵头、 → 牵头,."""
    return match.group(1) + ","


def _after_semicolon(label: re.Match[str]) -> str:
    """A semicolon, then the label: every label starts a part of its clause."""
    return ";" + label.group()


def _closing_verb(text: str) -> re.Match[str] | None:
    """The role verb that closes ``text`` (…牵头, …按职责分别负责), if one does.

    The verb pattern matches only at the end of a text (spaces aside), so it is tried
    only where a verb ending there can start, not at every character.
    """
    grammar = _grammar()
    return grammar.verb.search(text, max(0, len(text.rstrip()) - grammar.longest_verb))


def _label_kind(match: re.Match[str]) -> str:
    """The kind of the label a :func:`label_pattern` match found (lead, support, time …)."""
    return _grammar().labels[int(match.lastgroup[1:])][1]  # type: ignore[index]


def is_responsibility(content: str) -> bool:
    """Whether a bracket's content is a responsibility clause: a label or a role verb."""
    content = _CARRY.sub("", content) if _may_carry(content) else content
    grammar = _grammar()
    labelled = may_hold_label(content) and grammar.label.search(content)
    return bool(labelled or any(map(_closing_verb, split_top(content, ",;"))))


def split_time(clause: str) -> tuple[str, list[str]]:
    """Separate the time limits written in a responsibility clause (完成时限:2018年底前, or a
    bare 2018年底前完成) from its agencies: (the clause without them, the time limits)."""
    kept, times = [], []
    label_at = _grammar().label
    labelled = may_hold_label(clause)
    for part in split_top(label_at.sub(_after_semicolon, clause) if labelled else clause, ",;"):
        label = label_at.match(part) if labelled else None
        if label and _label_kind(label) == "time":
            times.append(part[label.end() :])
        elif label is None and _TIMEISH.search(part) and not any(map(looks_like_agency, split_top(part))):
            times.append(part)
        else:
            kept.append(part)
    return ",".join(kept), times


def carry_forward(clause: str) -> tuple[str, str | None]:
    """Split the carry-forward clause (R12) off a text: (rest, carried names)."""
    match = _CARRY.search(clause) if _may_carry(clause) else None
    if not match:
        return clause, None
    return (clause[: match.start()] + clause[match.end() :]).strip(" ,;"), match.group("a") or match.group("b")


def _may_carry(text: str) -> bool:
    """Whether ``text`` has the words every carry-forward clause has (均需, 都由 … or 均涉及).

    The clause's pattern starts with optional words, so searching for it tries every
    position of a text; most texts lack these words and are passed over at once.
    """
    return _CARRY_MARK.search(text) is not None


def same_below(clause: str) -> tuple[str, bool]:
    """Split a closing 下同 off a clause (R12: its units hold for later tasks too):
    (the clause without it, whether it was there)."""
    match = _SAME_BELOW.search(clause)
    return (clause[: match.start()], True) if match else (clause, False)


def role_of(kind: str, has_lead: bool, mode: str) -> Role | str:
    """The role of names a label or verb of ``kind`` introduces; ``first`` for a bare list
    under the notice's rule that the first one listed leads (see :func:`with_role`)."""
    if kind in ("lead", "support"):
        return kind
    if kind in ("implementer", "charge"):
        return "responsible"
    if kind == "each":
        return "support" if has_lead else "responsible"
    if has_lead:
        return "support"
    return {"lead": "lead", "first": "first"}.get(mode, "responsible")


def with_role(names: tuple[str, ...], role: str) -> list[AgencyRef]:
    """References to ``names`` in ``role``; with ``first``, the first leads and the others support."""
    if role == "first":
        return [AgencyRef(name, "lead" if index == 0 else "support") for index, name in enumerate(names)]
    return [AgencyRef(name, role) for name in names]  # type: ignore[arg-type]


def merge(refs: list[AgencyRef] | tuple[AgencyRef, ...], extra: tuple[AgencyRef, ...]) -> tuple[AgencyRef, ...]:
    """Refs in order, each name once (its first role), then the extra ones not named yet."""
    seen: dict[str, AgencyRef] = {}
    for ref in (*refs, *extra):
        seen.setdefault(ref.name, ref)
    return tuple(seen.values())


def _verb_lists(clause: str) -> list[tuple[str, str]]:
    """(A牵头;B、C配合) → [(lead, A), (support, B、C)]; segments without a verb join the next.

    A plain 负责 beside 配合 with no 牵头 is the lead: (A负责,B配合).
    """
    grammar = _grammar()
    lists, pending = [], []
    for part in split_top(grammar.verb_then_list.sub(_then_comma, clause), ",;"):
        part = part.removeprefix("由")
        together = _TOGETHER.search(part)
        if together:
            rest = part[together.end() :]
            verb = _closing_verb(rest)
            lists += [("lead", part[: together.start()]), ("support", rest[: verb.start()] if verb else rest)]
            continue
        match = _closing_verb(part)
        if match is None:
            pending.append(part)
            continue
        kind = grammar.verbs[int(match.lastgroup[1:])][1]  # type: ignore[index]
        names = ",".join([*pending, part[: match.start()]])
        pending = []
        lists.append((kind, names))
    if pending:
        lists.append(("bare", ",".join(pending)))
    kinds = {kind for kind, _ in lists}
    if "support" in kinds and "lead" not in kinds:
        lists = [("lead" if kind == "charge" else kind, names) for kind, names in lists]
    return lists
