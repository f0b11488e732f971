"""Reading files: encodings, HTML pages, DOCX, and the one-sentence errors of bad input."""

import random
from pathlib import Path

import docx
import pytest

from scheduler.errors import ReadError
from scheduler.reader import CELL, MAX_BYTES, read_text

DATA = Path(__file__).resolve().parent / "data"
TEXT = "一、主要任务\n(一)加强领导。責任單位:市卫健委、发改委\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "big5"])
def test_encodings(tmp_path, encoding):
    text = (TEXT if encoding != "big5" else "一、主要任務\n(一)加強領導。責任單位:市衛健委、發改委\n") * 5
    path = tmp_path / f"plan-{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    assert read_text(path) == text


def test_crlf_becomes_lf(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(TEXT.replace("\n", "\r\n").encode("gbk"))
    assert read_text(path) == TEXT


@pytest.mark.parametrize("name", ["plan_gbk.txt", "plan_utf16.txt"])
def test_fixtures_decode(name):
    text = read_text(DATA / name)
    assert "人民政府" in text or "人民政府" in text.replace("辦", "办")
    assert "\ufeff" not in text and "\x00" not in text


def test_html_drops_chrome_and_keeps_tables():
    text = read_text(DATA / "plan.html")
    lines = text.splitlines()
    assert "南平市大气污染防治攻坚行动方案" in lines
    assert "var _hmt" not in text and "政务公开" not in lines  # script and nav dropped
    assert f"1{CELL}建筑工地扬尘{CELL}建筑工地落实“六个百分之百”扬尘防控措施{CELL}市住建局" in text
    assert "(一)强化工业污染治理" in lines


def test_html_in_text_file_is_read_as_html(tmp_path):
    path = tmp_path / "sql-dump.txt"
    path.write_text('<p align="left">一、任务</p><p>(一)做事。</p><div>责任单位:市卫健委</div>', encoding="utf-8")
    assert read_text(path).splitlines() == ["一、任务", "(一)做事。", "责任单位:市卫健委"]


def test_docx_paragraphs_and_tables(tmp_path):
    document = docx.Document()
    document.add_paragraph("一、重点任务")
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ["序号", "工作任务", "牵头单位"]):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ["1", "建设 平台", "市大数据局"]):
        cell.text = text
    document.add_paragraph("二、保障措施")
    path = tmp_path / "plan.docx"
    document.save(path)
    assert read_text(path).splitlines() == ["一、重点任务", f"序号{CELL}工作任务{CELL}牵头单位", f"1{CELL}建设 平台{CELL}市大数据局", "二、保障措施"]


def make_big(path: Path) -> Path:
    with path.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)
    return path


def write(name: str, data: bytes):
    def make(directory: Path) -> Path:
        (directory / name).write_bytes(data)
        return directory / name

    return make


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.txt", "does not exist"),
        (lambda d: d, "does not exist or is not a file"),
        (write("empty.txt", b""), "is empty"),
        (write("blank.txt", b" \n\n "), "holds no text"),
        (write("random.txt", random.Random(7).randbytes(4096)), "binary"),
        (write("nul.txt", b"\x00\x01\x02\x03" * 500), "binary"),
        (write("fake.docx", b"PK not really a zip"), "not a readable DOCX"),
        (lambda d: make_big(d / "huge.txt"), "over the 50 MB limit"),
    ],
    ids=["missing", "directory", "empty", "blank", "random-bytes", "nul-bytes", "bad-docx", "over-50MB"],
)
def test_bad_input_is_one_sentence_naming_the_file(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(ReadError) as error:
        read_text(path)
    text = str(error.value)
    assert message in text and str(path) in text and "\n" not in text


def test_html_merged_cells_repeat(tmp_path):
    path = tmp_path / "merged.html"
    path.write_text(
        "<table><tr><th>序号</th><th>类别</th><th>任务</th><th>牵头单位</th></tr>"
        "<tr><td>1</td><td rowspan='2'>医疗</td><td>甲</td><td rowspan='2'>市卫健委</td></tr>"
        "<tr><td>2</td><td>乙</td></tr>"
        "<tr><td colspan='4'>二、保障</td></tr></table>",
        encoding="utf-8",
    )
    assert read_text(path).splitlines() == [
        CELL.join(["序号", "类别", "任务", "牵头单位"]),
        CELL.join(["1", "医疗", "甲", "市卫健委"]),
        CELL.join(["2", "医疗", "乙", "市卫健委"]),
        CELL.join(["二、保障"] * 4),
    ]


def test_xhtml_with_encoding_declaration(tmp_path):
    path = tmp_path / "page.htm"
    path.write_bytes('<?xml version="1.0" encoding="gbk"?><html><body><p>一、任务</p><p>(一)做事</p></body></html>'.encode("gbk"))
    assert read_text(path).splitlines() == ["一、任务", "(一)做事"]
