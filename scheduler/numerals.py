"""Chinese numerals, and the cleaned copy of a text that the deadline patterns read.

Deadline patterns are written once, against ASCII digits and half-width punctuation
with no stray spaces. :class:`Numerals` turns 二〇二五年, ２０２５年 and "2025 年" into
2025年 and remembers, for every character of the cleaned copy, which characters of the
original it came from, so that a phrase found in the copy is reported with its span in
the original text: a person checking a date must see the phrase as written.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from math import inf
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

# Full-width ASCII to half-width, and every dash or tilde of a range to "-".
_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_WIDTH.update({ord(c): "-" for c in "—–―－‐‑~～〜"})
# Removed from the copy: spaces inside phrases (scraped text) and quotation marks
# around plan periods (“十三五”期间).
_DROPPED_CHARS = r" \t\u00a0\u3000“”‘’\"'「」『』"
_DROPPED = f"[{_DROPPED_CHARS}]+"


class Cleaned(NamedTuple):
    """A cleaned copy of a text, and where each piece of it came from.

    ``pieces`` lists, in order, where each stretch of the copy starts in the copy and in
    the original, and the original's length when the stretch replaced a numeral (its
    digits all point at the whole numeral) or ``None`` when it is copied character for
    character. It is empty when the copy is the text itself (the common case). A
    stretch per change rather than a source index per character keeps cleaning a
    document linear in its changes, not in its length.
    """

    text: str
    pieces: Sequence[tuple[int, int, int | None]] = ()

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span in the original text of ``self.text[start:end]`` (``end > start``)."""
        if not self.pieces:
            return start, end
        return self.origin(start)[0], self.origin(end - 1)[1]

    def origin(self, index: int) -> tuple[int, int]:
        """The original characters that character ``index`` of the copy came from."""
        at, source, replaced = self.pieces[bisect_right(self.pieces, (index, inf)) - 1]
        if replaced is None:
            return source + index - at, source + index - at + 1
        return source, source + replaced


class Numerals:
    """Reads Chinese numerals as the lexicon defines them, and folds variant characters.

    ``variants`` maps single characters to the ones the patterns are written with
    (traditional 內 → 内, 個 → 个), so a document converted to traditional characters
    reads like its original.
    """

    def __init__(
        self,
        digits: Mapping[str, int],
        units: Mapping[str, int],
        counted: Iterable[str],
        variants: Mapping[str, str] = {},
    ) -> None:
        self._table = {**_WIDTH, **{ord(a): b for a, b in variants.items()}}
        # ASCII digits and letters may stand in a Chinese numeral too (二0一八年, 二O一八年),
        # but a run is read only when it holds a Chinese character.
        self.digits = {**{str(i): i for i in range(10)}, **digits}
        self.units = dict(units)
        chars = "".join(self.digits) + "".join(self.units)
        chinese = "".join(c for c in chars if not c.isascii())
        run = f"[{re.escape(chars)}]*[{re.escape(chinese)}][{re.escape(chars)}]*"
        # A numeral counts before the word that ends its list too: 三、四季度, 一至三月.
        listed = rf"(?:[、和及至到\-]第?[{re.escape(chars)}]{{1,3}})*"
        before = rf"{listed}[ \t\u3000]*(?:{'|'.join(re.escape(word) for word in counted)})"
        self._pattern = re.compile(rf"(?P<num>{run})(?={before})|(?P<drop>{_DROPPED})")
        # What a text needs for its copy to differ: a character to fold, a Chinese numeral
        # before a counted word, or one to drop. Most texts hold none of the characters
        # these start with, which one set of characters finds by a fast scan.
        folded = re.escape("".join(map(chr, self._table)))
        self._suspect = re.compile(rf"[{folded}{re.escape(chinese)}{_DROPPED_CHARS}]")
        self._dirty = re.compile(rf"[{folded}]|[{re.escape(chinese)}][{re.escape(chars)}]*{before}|{_DROPPED}")

    def value(self, numeral: str) -> int:
        """二〇二五 reads digit by digit and 二十五 positionally: years use the first form, counts the second."""
        if not any(c in self.units for c in numeral):
            return int("".join(str(self.digits[c]) for c in numeral))
        total, digit = 0, None
        for c in numeral:
            if c in self.units:
                total += (1 if digit is None else digit) * self.units[c]
                digit = None
            else:
                digit = self.digits[c]
        return total + (digit or 0)

    def clean(self, text: str) -> Cleaned:
        """The copy of ``text`` the patterns read, with the source span of each character."""
        if self._suspect.search(text) is None or self._dirty.search(text) is None:
            return Cleaned(text)
        text = text.translate(self._table)  # one character for one: spans are unchanged
        if self._pattern.search(text) is None:  # nothing changes length
            return Cleaned(text)
        parts: list[str] = []
        pieces: list[tuple[int, int, int | None]] = []
        done = length = 0
        for m in self._pattern.finditer(text):
            if m.start() > done:
                pieces.append((length, done, None))
                parts.append(text[done : m.start()])
                length += m.start() - done
            if m.group("num"):
                digits = str(self.value(m.group("num")))
                pieces.append((length, m.start(), m.end() - m.start()))
                parts.append(digits)
                length += len(digits)
            done = m.end()
        pieces.append((length, done, None))
        parts.append(text[done:])
        return Cleaned("".join(parts), pieces)
