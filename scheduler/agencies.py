"""The agency directory: which office a name in a plan means, and how to reach it.

Plans name agencies the way their authors speak, not the way a mail server needs:
Zhangzhou's 2018 plan writes 市卫计委 for what the 2019 reform made 漳州市卫生健康委员会,
and Baoshan's 市卫生计生委 is another office altogether. So a name is resolved within
the jurisdiction of the document's issuer (``Document.jurisdiction``), in this order:

1. the canonical names and aliases of that jurisdiction's agencies, then its groups
   (aliases carry the 简称 and the old names that reorganizations left in older plans);
2. a name that carries a jurisdiction of the directory in front (漳州市卫计委) is looked
   up in that jurisdiction as its short form (市卫计委), wherever it is written;
3. canonical names, which are unique across the whole directory, anywhere.

Names compare after NFKC (full-width and half-width alike) with spaces, round brackets,
、 and commas dropped, so 各县(市、区)人民政府, 各县（市、区）人民政府 and 各县市区人民政府 are
one name. Nothing else is guessed: a near miss resolves to nothing, and
:func:`unresolved` reports it with the closest known name, for a person to add an alias.

The directory is built from config.toml's ``[[agencies]]`` and ``[[groups]]`` tables
by :meth:`Directory.from_config`, which checks every entry and raises a
:class:`~scheduler.errors.ConfigError` naming the first bad one.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from scheduler.errors import ConfigError
from scheduler.model import AgencyRef, Document, Task

# Characters that vary between copies of one name without changing it (after NFKC).
_NOISE = re.compile(r"[\s()、,]")

# The keys of each table, each with the kind of value it holds, and which are required.
_TEXT, _NAMES, _SOME = "a non-empty string", "a list of non-empty strings", "a non-empty list of non-empty strings"
_SCHEMA: dict[str, dict[str, str]] = {
    "agencies": {"jurisdiction": _TEXT, "name": _TEXT, "aliases": _NAMES, "email": _SOME, "contact": _TEXT},
    "groups": {"jurisdiction": _TEXT, "name": _TEXT, "aliases": _NAMES, "members": _SOME},
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "agencies": ("jurisdiction", "name", "email"),
    "groups": ("jurisdiction", "name", "members"),
}

# Shorter jurisdiction names than this are matched exactly, never as a suffix.
_MIN_SUFFIX = 3
# How alike (difflib ratio) a known name must be to be offered as the closest one.
_CLOSE = 0.6


@lru_cache(maxsize=8192)
def _spelling(name: str) -> str:
    """The form in which two copies of one name compare equal.

    Remembered: plans name the same agencies again and again, and every name is spelt
    this way each time it is resolved, at ingest and whenever tasks are read back.
    """
    return _NOISE.sub("", unicodedata.normalize("NFKC", name))


@dataclass(frozen=True, slots=True)
class Agency:
    """An office that receives reminders, with every name the plans use for it."""

    jurisdiction: str
    name: str
    aliases: tuple[str, ...] = ()
    email: tuple[str, ...] = ()
    contact: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """A collective name (各县(市、区)人民政府) that stands for several agencies at once.

    ``members`` are canonical agency names of the same jurisdiction.
    """

    jurisdiction: str
    name: str
    aliases: tuple[str, ...] = ()
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A name found in documents that the directory does not know.

    ``where`` lists the places as ``path#number``; ``closest`` is the most alike known
    name of the same jurisdiction, the likely alias to add.
    """

    name: str
    jurisdiction: str | None
    count: int
    where: tuple[str, ...]
    closest: str | None


class Directory:
    """Agencies and groups by jurisdiction, with name resolution and expansion.

    Build it with :meth:`from_config`; the constructor checks consistency (names and
    aliases unique per jurisdiction, canonical names unique everywhere, group members
    known) but trusts the shape of its arguments.
    """

    def __init__(self, agencies: Iterable[Agency], groups: Iterable[Group]) -> None:
        self._agencies: dict[str, Agency] = {}
        self._groups: dict[str, Group] = {}
        self._local: dict[str, dict[str, str]] = {}
        self._canonical: dict[str, str] = {}
        self._written: dict[str, dict[str, str]] = {}
        self._jurisdiction_of: dict[str, str] = {}
        self._homes: dict[str, str | None] = {}  # each document jurisdiction's key, found once
        # Each name as written, resolved once per jurisdiction: a replan of 100,000 tasks
        # asks about a thousand distinct names some 300,000 times.
        self._resolved: dict[tuple[str, str | None], str | None] = {}
        self._refs: dict[tuple[str, str, str | None], AgencyRef] = {}  # resolved references, see resolve_ref
        for agency in agencies:
            self._register("agencies", agency)
            self._agencies[agency.name] = agency
        for group in groups:
            self._register("groups", group)
            self._groups[group.name] = replace(group, members=self._members(group))

    @classmethod
    def from_config(
        cls,
        agencies: Sequence[Mapping[str, Any]],
        groups: Sequence[Mapping[str, Any]],
        *,
        validate_email: Callable[[str], str],
    ) -> Directory:
        """Check config.toml's tables and build the directory.

        ``validate_email`` returns an address in its normal form or raises
        ``ValueError``; it is passed in so the directory stays free of mail code.
        """
        return cls(
            [_agency(_fields("agencies", i, e), validate_email) for i, e in enumerate(_tables("agencies", agencies), 1)],
            [Group(**_fields("groups", i, e)) for i, e in enumerate(_tables("groups", groups), 1)],
        )

    @property
    def agencies(self) -> tuple[Agency, ...]:
        return tuple(self._agencies.values())

    @property
    def groups(self) -> tuple[Group, ...]:
        return tuple(self._groups.values())

    def resolve(self, name: str, jurisdiction: str | None) -> str | None:
        """The canonical agency or group that ``name`` means in ``jurisdiction``, if any."""
        asked = (name, jurisdiction)
        if asked not in self._resolved:
            self._resolved[asked] = self._lookup(name, jurisdiction)
        return self._resolved[asked]

    def resolve_ref(self, ref: AgencyRef, jurisdiction: str | None) -> AgencyRef:
        """``ref`` with the canonical name it resolves to in ``jurisdiction``.

        One reference per name, role and jurisdiction, remembered: building one costs
        more than finding it, and the tasks of a plan name the same few agencies.
        """
        asked = (ref.name, ref.role, jurisdiction)
        found = self._refs.get(asked)
        if found is None:
            found = self._refs[asked] = AgencyRef(ref.name, ref.role, self.resolve(ref.name, jurisdiction))
        return found

    def _lookup(self, name: str, jurisdiction: str | None) -> str | None:
        key = _spelling(name)
        home = self._home(jurisdiction)
        if home is not None and key in self._local[home]:
            return self._local[home][key]
        for end in range(1, len(key)):
            place, short = key[:end], key[end - 1 :]  # 漳州市卫计委 → 漳州市, 市卫计委
            if short in self._local.get(place, {}):
                return self._local[place][short]
        return self._canonical.get(key)

    def expand(self, canonical: str) -> tuple[str, ...]:
        """The agencies a canonical name reaches: a group's members, or the agency itself."""
        if canonical in self._groups:
            return self._groups[canonical].members
        return (self.agency(canonical).name,)

    def agency(self, canonical: str) -> Agency:
        """The agency of a canonical name; ``KeyError`` for a group or an unknown name."""
        return self._agencies[canonical]

    def contact(self, name: str) -> Agency:
        """The agency a rule names as a contact (cc such as 督查室), by canonical name."""
        canonical = self._canonical.get(_spelling(name))
        if canonical not in self._agencies:
            raise ConfigError(f'[[agencies]] has no entry named "{name}", which a rule names as a contact.')
        return self._agencies[canonical]

    def closest(self, name: str, jurisdiction: str | None) -> str | None:
        """The known name most like ``name``: of its jurisdiction, or canonical ones."""
        home = self._home(jurisdiction)
        known = self._written[home] if home is not None else self._canonical
        found = difflib.get_close_matches(_spelling(name), list(known), n=1, cutoff=_CLOSE)
        return known[found[0]] if found else None

    def _home(self, jurisdiction: str | None) -> str | None:
        """The directory's key for a document's jurisdiction: equal, or one a suffix of the other.

        Parsers write 温州市鹿城区 or 鹿城区 for one district; both find it. The answer is
        remembered: every name of a document is resolved in its jurisdiction.
        """
        if jurisdiction is None:
            return None
        if jurisdiction not in self._homes:
            key = _spelling(jurisdiction)
            matches = [
                place
                for place in self._local
                if min(len(place), len(key)) >= _MIN_SUFFIX and (place.endswith(key) or key.endswith(place))
            ]
            self._homes[jurisdiction] = key if key in self._local else (matches[0] if len(matches) == 1 else None)
        return self._homes[jurisdiction]

    def _register(self, table: str, entry: Agency | Group) -> None:
        """Index the entry's names, refusing any that another entry already uses."""
        where = _label(table, entry.name, entry.jurisdiction)
        place = _spelling(entry.jurisdiction)
        local = self._local.setdefault(place, {})
        written = self._written.setdefault(place, {})
        key = _spelling(entry.name)
        if key in self._canonical:
            other = self._canonical[key]
            elsewhere = self._jurisdiction_of[other]
            hint = (
                f"; canonical names are unique across jurisdictions, so write {entry.jurisdiction} in front"
                " and keep the short name as an alias"
                if _spelling(elsewhere) != place
                else ""
            )
            raise ConfigError(f'{where}: the name is already used by "{other}" ({elsewhere}){hint}.')
        self._canonical[key] = entry.name
        self._jurisdiction_of[entry.name] = entry.jurisdiction
        for index, alias in enumerate((entry.name, *entry.aliases)):
            key = _spelling(alias)
            if key in local:
                what = f'alias "{alias}"' if index else "the name"
                raise ConfigError(f'{where}: {what} is already used by "{local[key]}".')
            local[key] = entry.name
            written[key] = alias

    def _members(self, group: Group) -> tuple[str, ...]:
        local = self._local[_spelling(group.jurisdiction)]
        members: dict[str, None] = {}
        for member in group.members:
            canonical = local.get(_spelling(member))
            if canonical not in self._agencies:
                where = _label("groups", group.name, group.jurisdiction)
                raise ConfigError(f'{where}: member "{member}" names no agency of {group.jurisdiction}.')
            members[canonical] = None
        return tuple(members)


def resolve_document(doc: Document, directory: Directory) -> Document:
    """The document with every agency reference's ``canonical`` filled from the directory."""
    return replace(doc, tasks=tuple(resolve_task(task, doc.jurisdiction, directory) for task in doc.tasks))


def unresolved(docs: Iterable[Document], directory: Directory) -> list[Unresolved]:
    """Every name the documents use that the directory does not know, most frequent first.

    Copies of one name that differ only in spelling (full-width brackets, spaces) are
    counted together under the first one seen.
    """
    seen: dict[tuple[str, str | None], tuple[str, list[str]]] = {}
    for doc in docs:
        for task in doc.tasks:
            for ref in task.agencies:
                if directory.resolve(ref.name, doc.jurisdiction) is None:
                    _, places = seen.setdefault((_spelling(ref.name), doc.jurisdiction), (ref.name, []))
                    places.append(f"{doc.path}#{task.number}")
    found = [
        Unresolved(name, jurisdiction, len(places), tuple(dict.fromkeys(places)), directory.closest(name, jurisdiction))
        for (_, jurisdiction), (name, places) in seen.items()
    ]
    return sorted(found, key=lambda item: (-item.count, item.jurisdiction or "", item.name))


def resolve_task(task: Task, jurisdiction: str | None, directory: Directory) -> Task:
    """The task with its agency references resolved against the directory as it is now."""
    refs = tuple(directory.resolve_ref(ref, jurisdiction) for ref in task.agencies)
    return task if refs == task.agencies else replace(task, agencies=refs)


def _label(table: str, name: str, jurisdiction: str) -> str:
    return f'[[{table}]] "{name}" ({jurisdiction})'


def _tables(table: str, entries: Any) -> Sequence[Mapping[str, Any]]:
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise ConfigError(f"[[{table}]] must be an array of tables.")
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"[[{table}]] entry {index} must be a table.")
    return entries


def _fields(table: str, index: int, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's values, strings stripped and lists as tuples, after checking the shape."""
    name, jurisdiction = entry.get("name"), entry.get("jurisdiction")
    if isinstance(name, str) and name.strip() and isinstance(jurisdiction, str) and jurisdiction.strip():
        where = _label(table, name.strip(), jurisdiction.strip())
    else:
        where = f"[[{table}]] entry {index}"
    schema = _SCHEMA[table]
    for key in entry:
        if key not in schema:
            raise ConfigError(f'{where}: unknown key "{key}" (known: {", ".join(schema)}).')
    for key in _REQUIRED[table]:
        if key not in entry:
            raise ConfigError(f'{where}: the required key "{key}" is missing.')
    fields: dict[str, Any] = {}
    for key, value in entry.items():
        if not _fits(schema[key], value):
            raise ConfigError(f'{where}: "{key}" must be {schema[key]}.')
        fields[key] = value.strip() if schema[key] == _TEXT else tuple(item.strip() for item in value)
    return fields


def _fits(kind: str, value: Any) -> bool:
    if kind == _TEXT:
        return isinstance(value, str) and bool(value.strip())
    names = isinstance(value, list) and all(isinstance(item, str) and item.strip() for item in value)
    return names and (kind == _NAMES or bool(value))


def _agency(fields: dict[str, Any], validate_email: Callable[[str], str]) -> Agency:
    """The agency of a checked entry, its addresses in the mail layer's normal form."""
    email = []
    for value in fields["email"]:
        try:
            email.append(validate_email(value))
        except ValueError as exc:
            where = _label("agencies", fields["name"], fields["jurisdiction"])
            raise ConfigError(f'{where}: e-mail address "{value}" is malformed ({exc}).') from None
    return Agency(**{**fields, "email": tuple(email)})
