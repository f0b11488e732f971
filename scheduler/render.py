"""Turn a notice or a digest into the subject, text and HTML of one e-mail.

Each message is one jinja2 template in ``templates/``, named for its kind
(``reminder.j2``, ``due.j2``, ``overdue.j2``, ``escalation.j2``, ``digest.j2``), that
extends ``_message.j2`` and fills three blocks:

    subject   one line; whitespace is collapsed, so the template may wrap freely
    text      the plain-text body
    html      the HTML body, always autoescaped

The four task kinds extend ``_notice.j2``, which holds their shared body, and only say
what differs (subject and headline). A user replaces a template, or adds one that a
rule names with ``template = "…"``, by giving its name and a path in config.toml::

    [templates]
    reminder = "my/reminder.j2"

Templates are checked up front (:meth:`Renderer.check` compiles each one, makes sure
it fills the three blocks and renders it with a sample), so a daemon refuses to start
on a broken template instead of failing at the first send. Every failure is a
:class:`TemplateError` naming the template (and the file, for an override) and the
line.

The context is plain frozen data that the dispatcher fills; templates see its fields
as top-level names (``task_title``, ``days_left``, ``sections`` …).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from types import TracebackType

import jinja2
from jinja2 import nodes

from scheduler.errors import TemplateError

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "templates"
KINDS = ("reminder", "due", "overdue", "escalation", "digest")
PARTS = ("subject", "text", "html")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")

# What each role (model.Role) is called in a work plan: 牵头单位, 配合单位, 责任单位.
ROLE_NAMES = {"lead": "牵头", "support": "配合", "responsible": "责任"}
# The verb a headline uses for it: 您单位牵头/配合/负责的以下任务; 承担 when unknown.
ROLE_VERBS = {"lead": "牵头", "support": "配合", "responsible": "负责"}


@dataclass(frozen=True)
class TaskNotice:
    """What a reminder, due, overdue or escalation message says about one task.

    ``days_left`` is negative once the deadline has passed; ``others`` lists the other
    agencies on the task with their roles, so each knows whom to coordinate with.
    """

    kind: str
    agency: str
    role: str | None
    task_key: str
    task_number: str
    task_title: str
    task_text: str
    document_title: str
    document_number: str | None
    deadline_text: str
    due: date
    precision: str | None
    days_left: int
    others: tuple[tuple[str, str], ...]
    done_command: str


@dataclass(frozen=True)
class DigestLine:
    """One task in a digest section; ``due`` and ``days_left`` are None when undated."""

    task_key: str
    task_number: str
    task_title: str
    deadline_text: str
    due: date | None
    days_left: int | None
    role: str | None
    status: str
    done_at: date | None


@dataclass(frozen=True)
class DigestSection:
    """One document's tasks in a digest; ``undated`` holds starts and no-date tasks."""

    document_title: str
    document_number: str | None
    overdue: tuple[DigestLine, ...]
    due_soon: tuple[DigestLine, ...]
    undated: tuple[DigestLine, ...]
    completed: tuple[DigestLine, ...]


@dataclass(frozen=True)
class Digest:
    """An agency's digest for one period, grouped by document."""

    agency: str
    as_of: date
    period: str
    window_days: int
    sections: tuple[DigestSection, ...]


@dataclass(frozen=True)
class Rendered:
    """A message's parts, ready for :func:`scheduler.mail.build_message`."""

    subject: str
    text: str
    html: str


def cn_date(value: date | None) -> str:
    """A date the way Chinese documents write it, 2019年11月1日."""
    if value is None:
        return "无明确时限"
    return f"{value.year}年{value.month}月{value.day}日"


def role_name(role: str | None) -> str:
    """The Chinese name of a role; an unknown role shows as written."""
    return ROLE_NAMES.get(role, role) if role else "责任"


def role_verb(role: str | None) -> str:
    """How a headline says what the agency does on the task: 牵头, 配合, 负责 or 承担."""
    return ROLE_VERBS.get(role or "", "承担")


def with_roles(agencies: Sequence[tuple[str, str]]) -> str:
    """Agencies with their roles, as a notice lists the others on a task: 甲（牵头）、乙（配合）, or 无.

    A filter rather than a loop in the templates: a loop costs jinja2 a loop context
    per message, twice (text and HTML).
    """
    return "、".join(f"{name}（{role_name(role)}）" for name, role in agencies) or "无"


def days_phrase(days_left: int | None) -> str:
    """Days left or overdue as a reader says it: 还有3天 / 今日到期 / 已逾期5天."""
    if days_left is None:
        return "无明确时限"
    if days_left > 0:
        return f"还有{days_left}天"
    if days_left == 0:
        return "今日到期"
    return f"已逾期{-days_left}天"


def _environment(loader: jinja2.BaseLoader, autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=loader,
        # Templates are read once: a config reload builds a new Renderer. Checking
        # every file for changes cost a stat per part of every message.
        auto_reload=False,
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(cn_date=cn_date, role=role_name, role_verb=role_verb, days=days_phrase, with_roles=with_roles)
    return env


def _innermost(tb: TracebackType | None, files: Mapping[str, str]) -> tuple[str, int] | None:
    """The template name and line of the innermost frame jinja2 mapped back to a template."""
    found = None
    while tb is not None:
        name = files.get(tb.tb_frame.f_code.co_filename)
        if name is not None:
            found = name, tb.tb_lineno
        tb = tb.tb_next
    return found


class Renderer:
    """Renders messages from the default templates and the user's overrides."""

    def __init__(self, overrides: Mapping[str, Path] = {}) -> None:
        for name in overrides:
            if not NAME.fullmatch(name):
                raise TemplateError(
                    f"[templates] {name!r} is not a template name (letters, digits, '-', '_')."
                )
        self._overrides = {f"{name}.j2": Path(path) for name, path in overrides.items()}
        self._files = {str(path): name for name, path in self._overrides.items()}
        self._files.update({str(p): p.name for p in DEFAULT_DIR.glob("*.j2")})
        loader = jinja2.ChoiceLoader(
            [jinja2.FunctionLoader(self._load_override), jinja2.FileSystemLoader(DEFAULT_DIR)]
        )
        # Each source compiles twice: escaping is fixed when jinja2 compiles, and only
        # the html part may be escaped.
        self._plain = _environment(loader, autoescape=False)
        self._html = _environment(loader, autoescape=True)
        self._compiled: dict[str, tuple[jinja2.Template, jinja2.Template]] = {}

    def _load_override(self, name: str) -> tuple[str, str, Callable[[], bool]] | None:
        """An override's source, read once: a config reload builds a new Renderer."""
        path = self._overrides.get(name)
        if path is None:
            return None
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(
                f"Template {name.removesuffix('.j2')!r} cannot be read from {path}: {exc}."
            ) from None
        return source, str(path), lambda: True

    def _where(self, file: str) -> str:
        path = self._overrides.get(file)
        return f"{file.removesuffix('.j2')!r} ({path})" if path else repr(file)

    def _error(self, exc: Exception, file: str) -> TemplateError:
        """One sentence naming the template at fault (``file`` or one it uses) and the line."""
        if isinstance(exc, jinja2.TemplateSyntaxError):
            return TemplateError(
                f"Template {self._where(exc.name or file)} has a syntax error at line "
                f"{exc.lineno}: {exc.message}."
            )
        if isinstance(exc, jinja2.TemplateNotFound):
            if exc.name == file:
                return TemplateError(
                    f"No message template is called {file.removesuffix('.j2')!r} "
                    f"(no {file} in {DEFAULT_DIR} and no override in [templates])."
                )
            return TemplateError(
                f"Template {exc.name!r} is missing (needed by {self._where(file)})."
            )
        culprit, line = _innermost(exc.__traceback__, self._files) or (file, None)
        at = f" at line {line}" if line else ""
        return TemplateError(f"Template {self._where(culprit)} fails{at}: {exc}.")

    def _blocks(self, file: str) -> set[str]:
        """The blocks ``file`` and the templates it extends define."""
        source, _, _ = self._plain.loader.get_source(self._plain, file)
        tree = self._plain.parse(source, file)
        blocks = {block.name for block in tree.find_all(nodes.Block)}
        parent = tree.find(nodes.Extends)
        if parent is not None and isinstance(parent.template, nodes.Const):
            blocks |= self._blocks(parent.template.value)
        return blocks

    def check(self, uses: Mapping[str, str] = {}) -> None:
        """Check the template of each kind (default or override) and each of ``uses``.

        ``uses`` maps a template that rules name to the kind of message it renders
        (its sample context): ``{"urgent": "reminder"}``. Checking compiles the
        template and those it extends, makes sure the three blocks are filled, and
        renders it with :func:`sample`, so a misspelt field fails here too.
        """
        for name, kind in {**{kind: kind for kind in KINDS}, **uses}.items():
            file = f"{name}.j2"
            try:
                missing = set(PARTS) - self._blocks(file)
            except TemplateError:
                raise
            except Exception as exc:
                raise self._error(exc, file) from None
            if missing:
                raise TemplateError(
                    f"Template {self._where(file)} fills no {sorted(missing)[0]!r} block; a "
                    'message template extends "_message.j2" and fills subject, text and html.'
                )
            self.render(name, sample(kind))

    def render(self, template: str, context: TaskNotice | Digest) -> Rendered:
        """Render the three parts of message template ``template`` for ``context``."""
        file = f"{template}.j2"
        values = {f.name: getattr(context, f.name) for f in fields(context)}
        try:
            plain, html = self._templates(file)
            subject, text = _render_blocks(plain, values, ("subject", "text"))
            (html_part,) = _render_blocks(html, values, ("html",))
        except TemplateError:
            raise
        except Exception as exc:
            raise self._error(exc, file) from None
        return Rendered(subject=re.sub(r"\s+", " ", subject).strip(), text=text, html=html_part)

    def _templates(self, file: str) -> tuple[jinja2.Template, jinja2.Template]:
        """``file`` compiled for the plain parts and for the html part, looked up once."""
        found = self._compiled.get(file)
        if found is None:
            found = self._compiled[file] = (self._plain.get_template(file), self._html.get_template(file))
        return found


def _render_blocks(template: jinja2.Template, values: Mapping[str, object], names: Sequence[str]) -> list[str]:
    """Render the blocks ``names`` of ``template`` on their own.

    The top level runs first (it writes nothing: ``_message.j2`` declares the blocks
    where they are never output), for the sets and macros of a template and the blocks
    of those it extends; then each block renders from that context. Rendering a part
    through the top level instead would pass each piece of it up the chain of
    templates (``reminder.j2`` → ``_notice.j2`` → ``_message.j2``).
    """
    context = template.new_context(dict(values))
    concat = template.environment.concat
    try:
        concat(template.root_render_func(context))
        return [concat(context.blocks[name][0](context)) for name in names]
    except Exception:
        template.environment.handle_exception()  # raises it again, with the template's own lines


def sample(kind: str) -> TaskNotice | Digest:
    """A context that exercises every field, for :meth:`Renderer.check` and previews."""
    as_of = date(2019, 11, 1)
    if kind == "digest":
        line = DigestLine(
            task_key="漳政办〔2018〕98号#二.(三)",
            task_number="二.(三)",
            task_title="完善家庭医生签约服务",
            deadline_text="2019年底前",
            due=date(2019, 12, 31),
            days_left=60,
            role="lead",
            status="open",
            done_at=None,
        )
        late = DigestLine(
            "k#1", "一.(二)", "建立签约服务考核机制", "2019年9月", date(2019, 9, 30), -32,
            "support", "open", None,
        )
        undated = DigestLine(
            "k#2", "一.(一)", "持续推进分级诊疗", "持续推进", None, None, "support", "open", None
        )
        done = DigestLine(
            "k#3", "三.(二)", "建立督查机制", "2019年10月", date(2019, 10, 31), -1,
            "responsible", "done", date(2019, 10, 20),
        )
        section = DigestSection(
            document_title="漳州市推进家庭医生签约服务实施方案",
            document_number="漳政办〔2018〕98号",
            overdue=(late,),
            due_soon=(line,),
            undated=(undated,),
            completed=(done,),
        )
        return Digest("漳州市卫生健康委员会", as_of, "2019-W44", 30, (section,))
    return TaskNotice(
        kind=kind,
        agency="漳州市人民政府督查室" if kind == "escalation" else "漳州市卫生健康委员会",
        role=None if kind == "escalation" else "lead",
        task_key="漳政办〔2018〕98号#二.(三)",
        task_number="二.(三)",
        task_title="完善家庭医生签约服务",
        task_text="到2019年底,家庭医生签约服务覆盖率达到35%以上。",
        document_title="漳州市推进家庭医生签约服务实施方案",
        document_number="漳政办〔2018〕98号",
        deadline_text="2019年底前",
        due=date(2019, 12, 31),
        precision="year",
        days_left={"reminder": 7, "due": 0}.get(kind, -3),
        others=(
            *((("漳州市卫生健康委员会", "lead"),) if kind == "escalation" else ()),
            ("漳州市财政局", "support"),
            ("漳州市人力资源和社会保障局", "support"),
        ),
        done_command='duban done "漳政办〔2018〕98号#二.(三)"',
    )
