"""Properties of deadline finding that hold for any text, scraped or typed.

Documents arrive damaged (missing characters, full-width digits, mojibake), so the
finder must never raise, must be deterministic, and every span must point at the
text it came from, whatever the input.
"""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.deadlines import find_deadlines, normalize
from scheduler.workdays import Workdays

# Fragments of the genre, so that generated texts reach the interesting branches
# rather than only random characters.
FRAGMENTS = [
    "到", "年", "月", "日", "底", "前", "起", "内", "至", "-", "—", "、", ",", "。", " ", "\n",
    "2017", "2018", "20", "19999", "12", "31", "6", "0", "〇", "二", "十", "三", "五", "两",
    "２０２５", "上半年", "季度", "第三季度", "一季度末", "每年", "每季度末", "每月", "十三五",
    "期间", "收官之年", "力争", "左右", "基本", "印发之日起", "个工作日", "个月", "以来", "比",
    "《", "》", "〔", "〕", "号", "逐步", "及时", "明年", "年内", "上旬", "春节", "(", ")",
    "半", "天", "周", "个", "每周", "按", "起", "以来", "用", "时间", "今后", "-",
    "內", "個", "２０", "（", "）", "～", "　", "O", "一次", "次", "首月", "18", ".", "/",
]
texts = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join),
)
bases = st.one_of(st.none(), st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))


@settings(max_examples=300, deadline=None)
@given(texts, bases)
def test_any_text_gives_results_with_true_spans(text: str, base: date | None) -> None:
    found = find_deadlines(text, base)
    for d in found:
        assert text[d.start : d.end] == d.text
        assert d.text
    assert [d.start for d in found] == sorted(d.start for d in found)
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))


@settings(max_examples=200, deadline=None)
@given(texts, bases)
def test_results_are_deterministic(text: str, base: date | None) -> None:
    assert find_deadlines(text, base) == find_deadlines(text, base)
    assert normalize(text, base) == normalize(text, base)


@settings(max_examples=300, deadline=None)
@given(texts, bases)
def test_normalize_always_answers_with_a_consistent_kind(text: str, base: date | None) -> None:
    d = normalize(text, base)
    assert text[d.start : d.end] == d.text
    if d.kind in ("deadline", "start"):
        assert d.date is not None and d.precision is not None
    if d.kind == "multi":
        assert d.date is None and len(set(d.dates)) > 1
    if d.kind == "recurring":
        assert d.date is None and d.rrule
    if d.kind == "none":
        assert d.date is None and d.reason


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31)))
def test_any_written_day_reads_back(day: date) -> None:
    d = normalize(f"{day.year}年{day.month}月{day.day}日前", date(2000, 1, 1))
    assert (d.kind, d.date, d.precision) == ("deadline", day, "day")


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31)), st.integers(1, 400))
def test_days_after_issue_count_from_the_base(base: date, n: int) -> None:
    d = normalize(f"印发之日起{n}日内", base)
    assert (d.kind, (d.date - base).days) == ("deadline", n)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2090, 12, 31)), st.integers(1, 60))
def test_months_after_issue_clamp_to_the_month_end(base: date, n: int) -> None:
    """三个月内 from 11-30 is 02-28 (or 29): month arithmetic as python-dateutil does it."""
    d = normalize(f"印发之日起{n}个月内", base)
    assert d.date == base + relativedelta(months=n)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 400))
def test_default_workdays_follow_the_official_calendar(base: date, n: int) -> None:
    """N个工作日内 ends on the N-th working day of China's calendar after the issue day."""
    d = normalize(f"印发之日起{n}个工作日内", base)
    calendar = Workdays()
    days = [base + timedelta(days=i) for i in range(1, (d.date - base).days + 1)]
    assert n == 0 or calendar.is_workday(d.date)
    assert sum(map(calendar.is_workday, days)) == n
