"""Reading a document file into text: plain text in any encoding, HTML pages, DOCX.

Supervision offices receive plans as scraped web pages, saved text in whatever encoding
the site used (UTF-8, GBK/GB18030, UTF-16) and Word files. Every format comes out as
lines of text; a table comes out one row per line with its cells separated by a tab, so
the extractor reads tables from every format the same way. Cleaning the text itself
(full-width punctuation, web chrome, pinyin) is the extractor's business.

A file that cannot be read is a :class:`scheduler.errors.ReadError` naming the file: it
is missing, empty, over 50 MB, binary, or in an encoding that cannot be told for sure.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from pathlib import Path

from typing import TYPE_CHECKING

import charset_normalizer

from scheduler.errors import ReadError

if TYPE_CHECKING:
    from lxml import etree

MAX_BYTES = 50 * 1024 * 1024

CELL = "\t"

# Byte-order marks, longest first: UTF-32 LE starts with the UTF-16 LE mark.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Encodings a Chinese plan is written in; charset-normalizer's other guesses for Chinese
# bytes (cp1252, latin-1 …) decode anything and would silently produce mojibake.
_CHINESE_ENCODINGS = ("utf_8", "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "utf_16", "utf_16_le", "utf_16_be")

# Control characters other than tab, newline and carriage return: a sign of binary data.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# HTML elements that never hold the plan's text.
_CHROME_TAGS = ("script", "style", "noscript", "iframe", "nav", "header", "footer", "form", "button", "select", "head")

# HTML elements after which a line ends.
_BLOCK_TAGS = {
    "p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "table", "section",
    "article", "ul", "ol", "dd", "dt", "blockquote", "pre", "center", "title",
}

# The encoding a page or an XML declaration names: <meta charset="gbk">, encoding="gb2312".
_DECLARED = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?([A-Za-z0-9_-]{3,20})""", re.IGNORECASE)

# lxml refuses a decoded string that still declares its encoding (XHTML pages).
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")

# Tags that betray a page saved as text (X9: HTML dumped from a database into a .txt).
_HTML_HINT = re.compile(r"<(?:p|div|br|table|span|font)\b[^>]*>", re.IGNORECASE)


def read_text(path: Path) -> str:
    """Return the text of a .txt, .html/.htm or .docx file, tables one row per line."""
    path = Path(path)
    data = _read_bytes(path)
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return _docx_text(data, path)
    text = _decode(data, path)
    if suffix in (".html", ".htm") or len(_HTML_HINT.findall(text)) >= 3:
        text = html_text(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text or text.isspace():
        raise ReadError(f"{path} holds no text.")
    return text


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise ReadError(f"{path} does not exist or is not a file.")
    size = path.stat().st_size
    if size == 0:
        raise ReadError(f"{path} is empty.")
    if size > MAX_BYTES:
        raise ReadError(f"{path} is {size // (1024 * 1024)} MB, over the 50 MB limit for a document.")
    return path.read_bytes()


def _decode(data: bytes, path: Path) -> str:
    """Decode by byte-order mark, strict UTF-8, the charset a page declares, UTF-16
    without a mark, and last a charset-normalizer guess among Chinese encodings; every
    result is checked, so a wrong guess is an error rather than mojibake."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _checked(_strict(data, encoding), path)
    text = _strict(data, "utf-8")
    if text is not None:
        return _checked(text, path)
    declared = _DECLARED.search(data[:4096])
    if declared:
        text = _strict(data, declared.group(1).decode("ascii"))
        if _plausible(text):
            return _checked(text, path)
    if b"\x00" in data[:4096]:
        return _checked(next(filter(_plausible, (_strict(data, e) for e in ("utf-16-le", "utf-16-be"))), None), path)
    guesses = charset_normalizer.from_bytes(data, cp_isolation=list(_CHINESE_ENCODINGS))
    best = guesses.best()
    text = str(best) if best is not None else None
    return _checked(text if _plausible(text) else None, path)


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding, errors="strict")
    except (UnicodeDecodeError, LookupError):
        return None


def _plausible(text: str | None) -> bool:
    """Text of a Chinese plan: printable, and its non-ASCII characters mostly CJK."""
    if not text:
        return False
    sample = text[:4096]
    readable = sum(1 for c in sample if c.isprintable() or c in "\t\n\r")
    foreign = sum(1 for c in sample if ord(c) > 127)
    cjk = sum(1 for c in sample if "\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef")
    return readable > 0.98 * len(sample) and cjk > 0.5 * foreign and cjk > 0


def _checked(text: str | None, path: Path) -> str:
    """Refuse a decoding that left control characters: the file was binary or misread."""
    if text is None or len(_CONTROL.findall(text)) > max(2, len(text) // 1000):
        raise ReadError(f"{path} is a binary file or in an encoding that cannot be determined.")
    return text.lstrip("\ufeff")


def html_text(markup: str) -> str:
    """The visible text of an HTML page, one block per line, table cells tab-separated."""
    # lxml and python-docx are imported where used: a daemon whose plans are all plain
    # text keeps their 12 MB out of its memory.
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.fromstring(_XML_DECLARATION.sub("", markup, count=1))
    except (etree.ParserError, ValueError):
        return markup
    for element in list(root.iter(*_CHROME_TAGS)):
        if element.getparent() is not None:
            element.drop_tree()
    lines: list[str] = []
    _walk(root, lines)
    return "\n".join(line for line in (line.strip() for line in "".join(lines).split("\n")) if line)


def _walk(element: etree._Element, out: list[str]) -> None:
    if not isinstance(element.tag, str):
        out.append(element.tail or "")
        return
    tag = element.tag.lower()
    if tag == "table":
        out.append("\n" + _table_text(element) + "\n")
        out.append(element.tail or "")
        return
    out.append(element.text or "")
    for child in element:
        _walk(child, out)
    if tag in _BLOCK_TAGS:
        out.append("\n")
    out.append(element.tail or "")


def _table_text(table: etree._Element) -> str:
    """One line per row; a cell merged over rows or columns repeats its text in each, as in
    DOCX, so every row has every column."""
    rows: list[list[str]] = []
    pending: dict[int, tuple[str, int]] = {}  # column → (text, rows still to fill)
    for tr in table.iter("tr"):
        row: list[str] = []
        cells = [cell for cell in tr if isinstance(cell.tag, str) and cell.tag.lower() in ("td", "th")]
        for cell in cells:
            while len(row) in pending:
                row.append(_take(pending, len(row)))
            text = " ".join(cell.text_content().split())
            for _ in range(_span(cell, "colspan")):
                if _span(cell, "rowspan") > 1:
                    pending[len(row)] = (text, _span(cell, "rowspan") - 1)
                row.append(text)
        while len(row) in pending:
            row.append(_take(pending, len(row)))
        if any(row):
            rows.append(row)
    return "\n".join(CELL.join(row) for row in rows)


def _span(cell: etree._Element, attribute: str) -> int:
    value = cell.get(attribute, "1").strip()
    return max(1, min(int(value), 100)) if value.isdigit() else 1


def _take(pending: dict[int, tuple[str, int]], column: int) -> str:
    text, left = pending[column]
    if left > 1:
        pending[column] = (text, left - 1)
    else:
        del pending[column]
    return text


def _docx_text(data: bytes, path: Path) -> str:
    """Paragraphs and tables of a DOCX in document order; merged cells repeat their text."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml import etree

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise ReadError(f"{path} is not a readable DOCX file ({exc.__class__.__name__}).") from None
    lines = []
    for block in document.iter_inner_content():
        if isinstance(block, docx.table.Table):
            for row in block.rows:
                lines.append(CELL.join(" ".join(cell.text.split()) for cell in row.cells))
        else:
            lines.append(block.text)
    text = "\n".join(lines)
    if not text.strip():
        raise ReadError(f"{path} holds no text.")
    return text
