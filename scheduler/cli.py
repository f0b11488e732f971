"""The ``duban`` command line.

Each subcommand is a thin shell over :class:`scheduler.app.App`: it parses options,
calls one operation and prints. Errors a user can cause print one sentence on stderr
and exit with status 2 (bad input or config) — never a traceback — and are raised
before anything is written, so nothing already stored is lost.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, NoReturn

from scheduler import config as configuration
from scheduler import daemon, deadlines, output
from scheduler.agencies import unresolved
from scheduler.app import App
from scheduler.digest import missed_and_coming
from scheduler.errors import DubanError, InputError
from scheduler.extract import parse_file
from scheduler.model import Deadline, Document, TaskState
from scheduler.store import LogEntry

EXIT_INPUT = 2
EXIT_FAILURE = 1


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one sentence and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: {message} (see {self.prog} --help).\n")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.INFO if args.command == "run" else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return args.handler(args) or 0
    except InputError as exc:
        print(f"duban: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except DubanError as exc:
        print(f"duban: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (head, less) went away: not an error of ours.
        sys.stdout = open(os.devnull, "w")
        return 0


def build_parser() -> Parser:
    parser = Parser(prog="duban", description="督办: deadlines from implementation plans, reminders to the agencies.")
    parser.add_argument("--config", help="config file (default: $DUBAN_CONFIG or ./config.toml)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="COMMAND")

    def command(name: str, handler, help: str) -> Parser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    def formats(sub: Parser, choices: Sequence[str] = output.FORMATS) -> None:
        sub.add_argument("--format", choices=choices, default=choices[0])

    sub = command("normalize", cmd_normalize, "Normalize a deadline phrase into a date.")
    sub.add_argument("text")
    sub.add_argument("--base", type=iso_date, help="issue date that relative phrases count from (default: today)")
    sub.add_argument("--format", choices=("json", "text"), default="json")

    sub = command("parse", cmd_parse, "Extract tasks, agencies and deadlines from documents, without storing them.")
    sub.add_argument("files", nargs="+", type=Path, metavar="FILE")
    sub.add_argument("--format", choices=("json", "table"), default="json")

    sub = command("ingest", cmd_ingest, "Store the tasks of documents (default: the config's documents).")
    sub.add_argument("paths", nargs="*", type=Path, metavar="PATH")

    sub = command("tasks", cmd_tasks, "List stored tasks.")
    sub.add_argument("--status", choices=("open", "done", "overdue", "all"), default="all")
    formats(sub)

    sub = command("agencies", cmd_agencies, "List the agency directory; 'check' lists names that resolve to no contact.")
    sub.add_argument("action", nargs="?", choices=("check",))
    formats(sub)

    sub = command("plan", cmd_plan, "Show planned notifications.")
    sub.add_argument("--from", dest="start", type=iso_date, help="first day (default: today)")
    sub.add_argument("--to", dest="end", type=iso_date, help="last day")
    sub.add_argument("--agency")
    sub.add_argument("--status", action="append", choices=STATUSES, help="repeatable (default: planned)")
    formats(sub)

    sub = command("sent", cmd_sent, "Show the notification log.")
    sub.add_argument("--since", type=iso_date)
    sub.add_argument("--agency")
    sub.add_argument("--status", action="append", choices=STATUSES, help="repeatable (default: sent)")
    formats(sub)

    sub = command("done", cmd_done, "Mark a task done: its reminders stop.")
    sub.add_argument("task")
    sub.add_argument("--note")

    sub = command("reopen", cmd_reopen, "Reopen a task marked done.")
    sub.add_argument("task")

    sub = command("extend", cmd_extend, "Move a task's deadline; reminders follow the new date.")
    sub.add_argument("task")
    sub.add_argument("date", type=iso_date)
    sub.add_argument("--reason", required=True)
    sub.add_argument("--by", default="督查室", help="who granted the extension")

    sub = command("digest", cmd_digest, "Preview a digest (default) or send it through the log.")
    sub.add_argument("--agency", help="one agency (default: every agency with something to report)")
    sub.add_argument("--as-of", type=iso_date, help="the day the digest speaks of (default: today)")
    sub.add_argument("--rule", help="the digest rule (default: the first)")
    sub.add_argument("--send", action="store_true", help="send through the configured backend and record it in the log")
    sub.add_argument("--out", type=Path, help="write previews as files into this directory instead of stdout")

    sub = command("run", cmd_run, "Run the daemon.")
    sub.add_argument("--once", action="store_true", help="one cycle (ingest, plan, dispatch what is due), then exit")
    return parser


STATUSES = ("planned", "claimed", "sent", "failed", "dead", "cancelled", "skipped")


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def load_app(args: argparse.Namespace) -> App:
    return App(configuration.load(configuration.locate(args.config)))


def now_in(app: App) -> datetime:
    return datetime.now(app.config.timezone)


# -- commands -------------------------------------------------------------------


def cmd_normalize(args: argparse.Namespace) -> None:
    result = deadlines.normalize(args.text, args.base or date.today())
    if args.format == "json":
        print(json.dumps(deadline_json(result), ensure_ascii=False))
    else:
        when = result.date.isoformat() if result.date else ", ".join(d.isoformat() for d in result.dates) or "-"
        extra = f" {result.rrule}" if result.rrule else ""
        print(f"{result.text}\t{result.kind}\t{when}\t{result.precision or '-'}{extra}")


def deadline_json(d: Deadline) -> dict[str, Any]:
    return {
        "text": d.text,
        "kind": d.kind,
        "date": d.date.isoformat() if d.date and d.kind in ("deadline", "start") else None,
        "dates": [x.isoformat() for x in d.dates],
        "precision": d.precision,
        "rrule": d.rrule,
    }


def cmd_parse(args: argparse.Namespace) -> None:
    app = _optional_app(args)
    if app is not None:
        documents = app.parse(args.files)
    else:
        documents = [parse_file(path) for path in args.files]
    if args.format == "json":
        print(json.dumps({"documents": [document_json(d) for d in documents]}, ensure_ascii=False, indent=2))
        return
    for document in documents:
        print_document_table(document, resolved=app is not None)


def _optional_app(args: argparse.Namespace) -> App | None:
    """The app when a config exists; parse works without one (no name resolution)."""
    path = configuration.locate(args.config)
    if args.config is None and not path.exists():
        return None
    return load_app(args)


def document_json(document: Document) -> dict[str, Any]:
    return {
        "path": document.path,
        "title": document.title,
        "doc_number": document.doc_number,
        "issuer": document.issuer,
        "issued_on": document.issued_on.isoformat() if document.issued_on else None,
        "jurisdiction": document.jurisdiction,
        "warnings": list(document.warnings),
        "tasks": [
            {
                "key": task.key,
                "number": task.number,
                "title": task.title,
                "text": task.text,
                "agencies": [{"name": a.name, "canonical": a.canonical, "role": a.role} for a in task.agencies],
                "deadlines": [
                    {"text": d.text, "kind": d.kind, "date": d.date.isoformat() if d.date else None, "precision": d.precision}
                    | ({"dates": [x.isoformat() for x in d.dates]} if d.kind == "multi" else {})
                    for d in task.deadlines
                ],
            }
            for task in document.tasks
        ],
    }


ROLE_MARK = {"lead": "牵头", "support": "配合", "responsible": "责任"}


def print_document_table(document: Document, *, resolved: bool) -> None:
    tty = sys.stdout.isatty()
    print(f"{document.title}  {document.doc_number or ''}  {document.issued_on or ''}  {document.jurisdiction or ''}")
    rows = []
    for task in document.tasks:
        names = []
        for ref in task.agencies:
            label = f"{ref.name}[{ROLE_MARK[ref.role]}]"
            if resolved and ref.canonical is None:
                label = f"\033[31m{label}?\033[0m" if tty else f"{label}?"
            names.append(label)
        rows.append(
            {
                "number": task.number,
                "title": task.title[:30],
                "agencies": "、".join(names),
                "deadlines": "、".join(f"{d.text}→{d.date or d.kind}" for d in task.deadlines),
            }
        )
    output.emit(rows, "table", sys.stdout, columns=("number", "title", "agencies", "deadlines"))
    for warning in document.warnings:
        print(f"warning: {warning}")
    if resolved:
        print("(names marked ? resolve to no agency in the directory)")
    print()


def cmd_ingest(args: argparse.Namespace) -> None:
    app = load_app(args)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        raise InputError(f"Document {missing[0]} does not exist.")
    app.store.migrate()
    now = now_in(app)
    report = app.ingest(args.paths or None, now=now)
    result = app.replan_documents(report.changed, now=now)
    print(f"ingested {report.documents} documents: {report.tasks} tasks, {report.deadlines} deadlines; {result}")


def cmd_tasks(args: argparse.Namespace) -> None:
    app = load_app(args)
    app.store.migrate()
    today = now_in(app).date()
    rows = [task_row(s, today) for s in app.task_states() if _task_matches(s, args.status, today)]
    output.emit(rows, args.format, sys.stdout, columns=("key", "status", "due", "deadlines", "agencies", "title"))


def _task_matches(state: TaskState, status: str, today: date) -> bool:
    if status == "all":
        return True
    if status == "overdue":
        return state.status == "open" and bool(missed_and_coming(state, as_of=today, until=today)[0])
    return state.status == status


def task_row(state: TaskState, today: date) -> dict[str, Any]:
    missed, coming = missed_and_coming(state, as_of=today, until=today + timedelta(days=400))
    task = state.task
    return {
        "key": task.key,
        "number": task.number,
        "title": task.title,
        "document": state.document.title,
        "status": state.status,
        "due": (coming or missed[-1:] or [None])[0],
        "deadlines": [f"{d.text}({d.date or d.kind})" for d in task.deadlines],
        "agencies": list(dict.fromkeys(f"{a.canonical or a.name + '?'}[{ROLE_MARK[a.role]}]" for a in task.agencies)),
    }


def cmd_agencies(args: argparse.Namespace) -> int:
    app = load_app(args)
    if args.action != "check":
        rows = [
            {"jurisdiction": a.jurisdiction, "name": a.name, "aliases": list(a.aliases), "email": list(a.email)}
            for a in app.directory.agencies
        ]
        output.emit(rows, args.format, sys.stdout, columns=("jurisdiction", "name", "aliases", "email"))
        return 0
    app.store.migrate()
    documents = _stored_documents(app)
    missing = unresolved(documents, app.directory)
    rows = [
        {"name": u.name, "jurisdiction": u.jurisdiction, "count": u.count, "closest": u.closest, "where": list(u.where)}
        for u in missing
    ]
    output.emit(rows, args.format, sys.stdout, columns=("name", "jurisdiction", "count", "closest", "where"))
    if missing and args.format == "table":
        print(f"{len(missing)} names resolve to no agency.", file=sys.stderr)
    return 1 if missing else 0


def _stored_documents(app: App) -> list[Document]:
    """The stored documents with their tasks, as `agencies check` reads them."""
    documents: dict[str, list] = {}
    heads: dict[str, Document] = {}
    for state in app.task_states():
        heads[state.document.path] = state.document
        documents.setdefault(state.document.path, []).append(state.task)
    return [replace(heads[path], tasks=tuple(tasks)) for path, tasks in documents.items()]


def log_row(entry: LogEntry, tz: tzinfo) -> dict[str, Any]:
    """A log row for listing, its times in the configured zone."""
    return {
        "key": entry.key,
        "kind": entry.kind,
        "agency": entry.agency,
        "task": entry.task_key,
        "due": entry.due,
        "planned_at": entry.planned_at.astimezone(tz),
        "shifted_from": entry.shifted_from,
        "status": entry.status,
        "rule": entry.rule,
        "attempts": entry.attempts,
        "retry_at": entry.retry_at.astimezone(tz) if entry.retry_at else None,
        "sent_at": entry.sent_at.astimezone(tz) if entry.sent_at else None,
        "message_id": entry.message_id,
        "error": entry.error,
        "reason": entry.reason,
    }


def cmd_plan(args: argparse.Namespace) -> None:
    app = load_app(args)
    app.store.migrate()
    tz = app.config.timezone
    start = datetime.combine(args.start, time.min, tz) if args.start else now_in(app)
    end = datetime.combine(args.end, time.max, tz) if args.end else None
    entries = app.store.entries(status=args.status or ("planned",), agency=args.agency)
    rows = [log_row(e, tz) for e in entries if e.planned_at >= start and (end is None or e.planned_at <= end)]
    output.emit(rows, args.format, sys.stdout, columns=("planned_at", "shifted_from", "kind", "agency", "task", "due", "rule", "status"))


def cmd_sent(args: argparse.Namespace) -> None:
    app = load_app(args)
    app.store.migrate()
    tz = app.config.timezone
    since = datetime.combine(args.since, time.min, tz) if args.since else None
    entries = app.store.entries(status=args.status or ("sent",), since=since, agency=args.agency)
    columns = ("sent_at", "kind", "agency", "task", "status", "attempts", "retry_at", "message_id", "error")
    output.emit([log_row(e, tz) for e in entries], args.format, sys.stdout, columns=columns)


def _lifecycle(args: argparse.Namespace, change) -> None:
    app = load_app(args)
    app.store.migrate()
    state = app.store.find_task(args.task)
    now = now_in(app)
    change(app, state.task.key, now)
    result = app.replan_documents([state.document.path], now=now)
    print(f"{state.task.key}: {result}")


def cmd_done(args: argparse.Namespace) -> None:
    _lifecycle(args, lambda app, key, now: app.store.mark_done(key, at=now, note=args.note))


def cmd_reopen(args: argparse.Namespace) -> None:
    _lifecycle(args, lambda app, key, now: app.store.reopen(key, at=now))


def cmd_extend(args: argparse.Namespace) -> None:
    _lifecycle(args, lambda app, key, now: app.store.extend(key, args.date, reason=args.reason, by=args.by, at=now))


def cmd_digest(args: argparse.Namespace) -> None:
    app = load_app(args)
    now = now_in(app)
    today = now.date()
    if args.send and args.as_of not in (None, today):
        raise InputError("--send sends the current period's digest; --as-of is for previews only.")
    app.store.migrate()
    notices = app.digest_notices(as_of=args.as_of or today, agency=args.agency, rule=args.rule, now=now)
    if args.send:
        result = app.send_now([note for note, _ in notices], now=now, owner=daemon.owner_id())
        print(f"{len(notices)} digests: {result.sent} sent, {len(notices) - result.sent} already in the log or not sent")
        for error in result.errors:
            print(f"error: {error}", file=sys.stderr)
        return
    for note, digest in notices:
        rendered = app.renderer.render(note.template, digest)
        if args.out is None:
            print(f"To: {note.agency}\nSubject: {rendered.subject}\n\n{rendered.text}\n")
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        stem = args.out / f"{note.period}-{note.agency}"
        stem.with_suffix(".txt").write_text(f"Subject: {rendered.subject}\n\n{rendered.text}", encoding="utf-8")
        stem.with_suffix(".html").write_text(rendered.html, encoding="utf-8")
    if not notices:
        print("nothing to report.", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> None:
    daemon.run(load_app(args), once=args.once)
