"""The application: wires the pure core to the store and the mail backend.

One :class:`App` per configuration. Its three operations are the whole life of a
notification — ``ingest`` (documents → stored tasks), ``replan`` (tasks × rules ×
calendar → desired notifications, reconciled with the log) and ``dispatch`` (due rows
→ rendered mail → backend) — and ``cycle`` runs them in order. The command line and
the daemon call nothing else, so both follow the same path and share the log.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import tempfile
import threading
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import IO

from scheduler import dispatch as dispatching
from scheduler.agencies import resolve_document, resolve_task
from scheduler.backends import MailBackend, make_backend
from scheduler.config import Config
from scheduler.errors import ConfigError, InputError
from scheduler.digest import build_digest, by_agency
from scheduler.extract import parse_file
from scheduler.model import Document, Notification, TaskState
from scheduler.planner import Planner, current_fire, digest_notification, plan
from scheduler.render import Digest, Renderer
from scheduler.rules import DigestRule, RuleSet, load_rules
from scheduler.seen import SeenFiles
from scheduler.store import DOCUMENTS_PER_SAVE, ReconcileResult, SaveResult, Store
from scheduler.workdays import Workdays

log = logging.getLogger(__name__)

# Agencies whose tasks `duban digest` reads at a time: a few cities' departments (names
# sort by city), so few tasks are read twice and memory holds a slice of the store.
AGENCIES_PER_READ = 50
# An agency name as a document writes it, with the document's jurisdiction: what it resolves by.
WrittenName = tuple[str, str | None]


@dataclass(frozen=True)
class IngestReport:
    """What an ingest stored; ``changed`` names the documents stored anew (their paths)."""

    documents: int
    tasks: int
    deadlines: int
    added: int
    updated: int
    removed: int
    unchanged_documents: int
    changed: tuple[str, ...] = ()


class App:
    """Everything one configuration needs, built and validated up front."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.directory = config.directory
        self.rules: RuleSet = self._load_rules()
        self.workdays = Workdays(config.extra_workdays, config.extra_holidays)
        self.renderer = Renderer(config.templates)
        self.renderer.check(
            {rule.template: rule.kind for rule in self.rules.reminders}
            | {rule.template: "digest" for rule in self.rules.digests}
        )
        self._check_cc()
        self.store = Store(config.database_url)
        self._seen = SeenFiles()

    def _load_rules(self) -> RuleSet:
        paths = self.config.rule_paths()
        if not paths:
            raise ConfigError(f"{self.config.path}: [schedule] rules matches no file ({', '.join(self.config.rules)}).")
        return load_rules(paths)

    def _check_cc(self) -> None:
        for rule in self.rules.reminders:
            for name in rule.cc:
                self.directory.contact(name)

    def backend(self) -> MailBackend:
        """A fresh backend per batch: SMTP connections are not kept between cycles."""
        config = self.config
        if config.mail_backend == "smtp":
            assert config.smtp is not None
            smtp = config.smtp
            return make_backend(
                "smtp",
                host=smtp.host,
                port=smtp.port,
                security=smtp.security,
                username=smtp.username,
                password=smtp.password(),
                timeout=smtp.timeout,
            )
        if config.mail_backend == "file":
            return make_backend("file", outbox=config.outbox)
        return make_backend("console")

    def parse(self, paths: Sequence[Path]) -> list[Document]:
        """Parse and resolve documents without storing anything."""
        return [self._parse_one(path) for path in paths]

    def _parse_one(self, path: Path) -> Document:
        return resolve_document(replace(parse_file(path), path=self._name(path)), self.directory)

    def _checked(self, path: Path) -> Document:
        """The parsed document, refused here if storing it would refuse it."""
        document = self._parse_one(path)
        self.store.check(document)
        return document

    def _name(self, path: Path) -> str:
        """A document's name in the store: relative to the config file when beneath it.

        The same file then keeps its identity whether it was found through the config's
        globs or named on the command line, and wherever the installation moves.
        """
        absolute = path.resolve()
        return str(absolute.relative_to(self.config.root)) if absolute.is_relative_to(self.config.root) else str(absolute)

    def ingest(self, paths: Sequence[Path] | None, *, now: datetime) -> IngestReport:
        """Store the documents' tasks; every document is parsed before any is stored.

        Parsing (and checking what storing would refuse) first means a bad file among
        good ones changes nothing in the database. The parsed documents wait in a
        temporary file (:class:`_Spool`), not in memory, and are stored
        :data:`DOCUMENTS_PER_SAVE` at a time, so ingesting 10,000 plans holds one batch
        of them, not all. A file whose bytes this App has stored already is neither
        parsed nor stored again: the daemon's hourly ingest of thousands of files costs
        a stat of each. (A new App, after a restart or SIGHUP, reads them all once more.)
        """
        chosen = list(paths) if paths else self.config.document_paths()
        fresh = [(path, seen) for path in chosen if (seen := self._seen.changed(path)) is not None]
        tally = _Tally()
        with _Spool() as parsed:
            for start in range(0, len(fresh), DOCUMENTS_PER_SAVE):
                parsed.add([self._checked(path) for path, _ in fresh[start : start + DOCUMENTS_PER_SAVE]])
            files = iter(fresh)
            for documents in parsed:
                results = self.store.save_documents([(document, _digest(document)) for document in documents], now=now)
                for document, (path, seen), result in zip(documents, files, results):
                    tally.add(document, result)
                    deadlines = sum(len(task.deadlines) for task in document.tasks)
                    self._seen.stored(path, seen, tasks=len(document.tasks), deadlines=deadlines)
        return IngestReport(
            documents=len(chosen),
            tasks=sum(self._seen.tasks(path) for path in chosen),
            deadlines=sum(self._seen.deadlines(path) for path in chosen),
            added=tally.added,
            updated=tally.updated,
            removed=tally.removed,
            unchanged_documents=len(chosen) - len(fresh) + tally.unchanged,
            changed=tuple(tally.changed),
        )

    def task_states(
        self, keys: Collection[str] | None = None, *, names: Collection[WrittenName] | None = None
    ) -> list[TaskState]:
        """Stored tasks (all, those with these keys, or those naming an agency by one of
        these names as written in a document of the given jurisdiction) with their names
        resolved against the directory as it is now.

        Resolving on read (not only at ingest) means an alias added to config.toml
        takes effect at once, and a removed agency cannot linger in stored names.
        """
        return self._resolved(self.store.task_states(keys=keys, names=names))

    def agency_task_states(self, agencies: Collection[str]) -> dict[str, list[TaskState]]:
        """Each of these agencies' live tasks (naming it, or a group it is a member of),
        in the order of :meth:`task_states`.

        Only their tasks are read, so digests can be built a few agencies at a time
        instead of from every task held at once (some 1.2 kB a task: 120 MB at 100,000
        tasks). Which stored names reach an agency is worked out from the distinct
        names stored, resolved as :meth:`task_states` resolves them.
        """
        return self._tasks_of(agencies, self._reach())

    def _reach(self) -> dict[str, set[WrittenName]]:
        """The names stored on live tasks (as written, with their jurisdiction) that reach each agency."""
        reach: dict[str, set[WrittenName]] = {}
        for name, jurisdiction in self.store.agency_names():
            canonical = self.directory.resolve(name, jurisdiction)
            for member in self.directory.expand(canonical) if canonical is not None else ():
                reach.setdefault(member, set()).add((name, jurisdiction))
        return reach

    def _tasks_of(
        self, agencies: Collection[str], reach: dict[str, set[WrittenName]]
    ) -> dict[str, list[TaskState]]:
        names = set().union(*(reach.get(agency, ()) for agency in agencies))
        tasks = by_agency(self.task_states(names=names), self.directory.expand) if names else {}
        return {agency: tasks.get(agency, []) for agency in agencies}

    def _resolved(self, states: Sequence[TaskState]) -> list[TaskState]:
        return [
            replace(state, task=resolve_task(state.task, state.document.jurisdiction, self.directory))
            for state in states
        ]

    def desired(self, *, now: datetime) -> list[Notification]:
        """Every notification the rules want now, from the stored tasks."""
        return plan(
            self.task_states(),
            self.rules,
            self.workdays,
            now,
            tz=self.config.timezone,
            expand=self.directory.expand,
        )

    def digest_rule(self, name: str | None) -> DigestRule:
        """The named digest rule, or the first one when no name is given."""
        for rule in self.rules.digests:
            if name is None or rule.name == name:
                return rule
        raise ConfigError(f"No digest rule named {name!r} in {', '.join(self.config.rules)}." if name else "The rules define no digest.")

    def digest(
        self,
        agency: str,
        *,
        as_of: date,
        period: str,
        rule: str | None = None,
        states: Sequence[TaskState] | None = None,
        include_empty: bool = False,
    ) -> Digest | None:
        """What the digest rule tells ``agency`` as of a day; None when nothing to say."""
        chosen = self.digest_rule(rule)
        return build_digest(
            self.agency_task_states([agency])[agency] if states is None else states,
            agency,
            as_of=as_of,
            period=period,
            window_days=chosen.window_days,
            include_empty=chosen.include_empty or include_empty,
            expand=self.directory.expand,
        )

    def digest_notices(
        self, *, as_of: date, agency: str | None, rule: str | None, now: datetime
    ) -> list[tuple[Notification, Digest]]:
        """Each agency's digest for the period ``as_of`` falls in, with its log row.

        The row has the key the planner gives the same period, so sending it through
        the log (``duban digest --send``) keeps the daemon from sending it again.
        """
        chosen = self.digest_rule(rule)
        tz = self.config.timezone
        moment = now if as_of == now.astimezone(tz).date() else datetime.combine(as_of, time.max, tz)
        fire = current_fire(chosen, moment, tz)
        if fire is None:
            raise ConfigError(f"Digest rule {chosen.name!r} never fires.")
        period = fire.date()
        reach = self._reach()
        agencies = self._digest_agencies(agency, reach)
        out = []
        for start in range(0, len(agencies), AGENCIES_PER_READ):
            chunk = agencies[start : start + AGENCIES_PER_READ]
            tasks = self._tasks_of(chunk, reach)
            for name in chunk:
                digest = self.digest(
                    name,
                    as_of=as_of,
                    period=period.isoformat(),
                    rule=chosen.name,
                    states=tasks[name],
                    include_empty=agency is not None,
                )
                if digest is not None:
                    out.append((digest_notification(chosen, name, period, now), digest))
        return out

    def _digest_agencies(self, agency: str | None, reach: dict[str, set[WrittenName]]) -> list[str]:
        if agency is None:
            return sorted(reach)
        canonical = self.directory.resolve(agency, None)
        if canonical is None:
            closest = self.directory.closest(agency, None)
            hint = f" (closest: {closest})" if closest else ""
            raise InputError(f"{agency} is no agency or group in the directory{hint}.")
        return list(self.directory.expand(canonical))

    def send_now(self, notes: Sequence[Notification], *, now: datetime, owner: str) -> dispatching.DispatchResult:
        """Send these notifications through the log, exactly as the daemon would.

        Rows already in the log (sent by the daemon or an earlier call) are not sent
        again.
        """
        self.store.add(notes, now=now)
        return self._dispatch(now=now, owner=owner, keys=[n.key for n in notes])

    def _dispatch(self, **options) -> dispatching.DispatchResult:
        """Dispatch through a fresh backend, closed afterwards.

        The backend is not opened up front: it connects on the first message, so an
        unreachable server shows as failed rows awaiting retry, not as a run that
        touched nothing.
        """
        backend = self.backend()
        try:
            return dispatching.dispatch(self, backend, **options)
        finally:
            backend.close()

    def replan(self, *, now: datetime) -> ReconcileResult:
        """Reconcile the whole log with the rules, from every stored task.

        What the daemon does every ``replan_interval`` and on each cycle: it picks up
        new rules, lifecycle changes and the passing days, and is complete for the
        digests too (a digest no agency needs any more is cancelled).
        """
        planner = self._planner(now)
        result = self._replan_reminders(planner, now=now, paths=None)
        return result + self.store.reconcile_digests(planner.digests(), now=now)

    def replan_documents(self, paths: Sequence[str], *, now: datetime) -> ReconcileResult:
        """Reconcile the rows of these documents' tasks only, as after ``duban ingest FILE``.

        It costs what those documents cost, however large the store. The digests their
        agencies now need are added; none is cancelled here, since whether an agency
        still needs one depends on every task: a digest left with nothing to say is
        skipped when it is rendered, and the next full :meth:`replan` cancels it.
        """
        planner = self._planner(now)
        result = self._replan_reminders(planner, now=now, paths=paths)
        return result + self.store.add(planner.digests(), now=now)

    def _planner(self, now: datetime) -> Planner:
        return Planner(self.rules, self.workdays, now, tz=self.config.timezone, expand=self.directory.expand)

    def _replan_reminders(self, planner: Planner, *, now: datetime, paths: Sequence[str] | None) -> ReconcileResult:
        """Reconcile the stored tasks' reminders; the planner gathers their digests' audience."""
        return self.store.replan(lambda states: planner.reminders(self._resolved(states)), now=now, paths=paths)

    def dispatch(
        self, *, now: datetime, owner: str, stop: threading.Event | None = None
    ) -> dispatching.DispatchResult:
        return self._dispatch(now=now, owner=owner, stop=stop)

    def cycle(
        self, *, now: datetime, owner: str, stop: threading.Event | None = None
    ) -> tuple[IngestReport, ReconcileResult, dispatching.DispatchResult]:
        """One full pass: ingest the configured documents, replan, send what is due."""
        ingest = self.ingest(None, now=now)
        reconcile = self.replan(now=now)
        sent = self.dispatch(now=now, owner=owner, stop=stop)
        return ingest, reconcile, sent


@dataclass
class _Tally:
    """What the batches of one ingest changed, summed."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    changed: list[str] = field(default_factory=list)

    def add(self, document: Document, result: SaveResult) -> None:
        self.added += result.added
        self.updated += result.updated
        self.removed += result.removed
        self.unchanged += result.unchanged_document
        if not result.unchanged_document:
            self.changed.append(document.path)


class _Spool:
    """Batches of parsed documents pickled to a temporary file, read back in turn.

    An ingest must parse every file before it stores any (a bad file stores nothing);
    holding 10,000 parsed plans for that took some 200 MB that the process then kept
    (CPython rarely returns freed memory to the system). A batch pickled and read back
    costs about a tenth of its parse (0.15 ms a plan): some 6% of an ingest.
    """

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="duban-ingest-")
        self._batches = 0

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()

    def add(self, documents: list[Document]) -> None:
        pickle.dump(documents, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._batches += 1

    def __iter__(self) -> Iterator[list[Document]]:
        """The batches in the order added."""
        self._file.seek(0)
        for _ in range(self._batches):
            yield pickle.load(self._file)


def _digest(document: Document) -> str:
    """A fingerprint of what was extracted, so a better parser or a new alias re-stores."""
    return hashlib.sha256(repr(document).encode("utf-8")).hexdigest()
