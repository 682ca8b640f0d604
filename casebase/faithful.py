"""Proof that a record's text is the guide's own words.

The guide reached us as PDF-extracted text: lines broken mid-word, spaces between digits and kana,
full-width letters, sidebars cut into paragraphs.  A record mends those, so a plain substring test
would fail on honest copies.  We compare both sides after NFKC and with all white space removed,
and let a value be made of several pieces of the guide (a paragraph that a sidebar interrupted is
one value but two pieces in the source).  Every piece must be long enough to be a quotation rather
than a coincidence; short pieces are allowed only when they are punctuation (a bullet mark, a
bracket the PDF lost).  A paraphrase or an invented sentence breaks into short pieces and fails.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

MIN_PIECE = 5
_WS = re.compile(r"\s+")
_PUNCT_ONLY = re.compile(r"^[\W_]+$")


def norm(text: str) -> str:
    """NFKC and no white space: the form in which record and guide are compared."""
    return _WS.sub("", unicodedata.normalize("NFKC", text or ""))


@dataclass(frozen=True)
class Miss:
    """A part of a value that the guide does not contain."""

    text: str
    position: int


class Source:
    """The normalised guide, searched for pieces of record text."""

    def __init__(self, raw: str):
        self.text = norm(raw)

    def _longest_prefix(self, value: str, start: int) -> int:
        lo, hi = 0, len(value) - start
        while lo < hi:  # substring-ness is monotone in length, so bisect
            mid = (lo + hi + 1) // 2
            if value[start:start + mid] in self.text:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def misses(self, value: str) -> list[Miss]:
        """Parts of ``value`` not found in the guide as pieces of at least MIN_PIECE characters."""
        v = norm(value)
        out: list[Miss] = []
        i = 0
        while i < len(v):
            n = self._longest_prefix(v, i)
            piece = v[i:i + n]
            whole = n == len(v)  # a short value found whole is fine (a keyword, a count)
            if n == 0 or (n < MIN_PIECE and not whole and not _PUNCT_ONLY.match(piece)):
                step = max(n, 1)
                if out and out[-1].position + len(out[-1].text) == i:
                    out[-1] = Miss(out[-1].text + v[i:i + step], out[-1].position)
                else:
                    out.append(Miss(v[i:i + step], i))
                i += step
            else:
                i += n
        return out


@lru_cache(maxsize=4)
def load_source(path: str) -> Source:
    with open(path, encoding="utf-8") as f:
        return Source(f.read())
