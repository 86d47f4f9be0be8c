"""Fuzzy filtering for the pickers, fast on 10,000 entries.

Pure Python and free of Textual. ``FuzzyIndex`` lower-cases the haystacks once. ``filter`` keeps
entries containing the query's characters in order (case-insensitive) and ranks them: contiguous
matches first (at the start, then at a word start, then anywhere; shorter entries first), then
scattered ones; the original order among equals. The heavy lifting is done by C code (``in``,
``str.find``, one compiled regular expression), and a query that extends the previous one only
searches the previous matches, so typing narrows in a few milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence


def score(query: str, text: str) -> int | None:
    """Higher is better; None when ``query`` is not a subsequence of ``text`` (both lower-case)."""
    if not query:
        return 0
    at = text.find(query)
    if at >= 0:
        bonus = 40 if at == 0 or not text[at - 1].isalnum() else 20
        return 1000 + bonus - min(at, 30) - len(text) // 8
    pos = -1
    gaps = 0
    for ch in query:
        nxt = text.find(ch, pos + 1)
        if nxt < 0:
            return None
        gaps += nxt != pos + 1
        pos = nxt
    return 500 - gaps * 10 - len(text) // 8


class FuzzyIndex:
    def __init__(self, entries: Sequence[str]) -> None:
        self.entries = list(entries)
        self._lower = [e.lower() for e in self.entries]
        self._last: tuple[str, list[int]] | None = None  # (query, every match) for narrowing

    def _candidates(self, q: str) -> list[int]:
        if self._last is not None and q.startswith(self._last[0]):
            return self._last[1]
        return list(range(len(self._lower)))

    def filter(self, query: str, limit: int | None = None) -> list[int]:
        """Indices of matching entries, best first (stable)."""
        q = "".join(query.lower().split())
        if not q:
            self._last = None
            idx = list(range(len(self.entries)))
            return idx if limit is None else idx[:limit]
        lower = self._lower
        cands = self._candidates(q)
        contiguous = [i for i in cands if q in lower[i]]
        scattered: list[int] = []
        if len(contiguous) < len(cands):
            search = re.compile(".*?".join(map(re.escape, q)), re.DOTALL).search
            cont_set = set(contiguous)
            scattered = [i for i in cands if i not in cont_set and search(lower[i])]
        self._last = (q, sorted(contiguous + scattered) if scattered else contiguous)
        want = len(contiguous) + len(scattered) if limit is None else limit
        # contiguous: at the start, then at a word start, then anywhere (each in the original order)
        word = re.compile(r"(?:^|[^a-z0-9])" + re.escape(q)).search
        prefix: list[int] = []
        words: list[int] = []
        others: list[int] = []
        for i in contiguous:
            t = lower[i]
            if t.startswith(q):
                prefix.append(i)
            elif len(words) < want and word(t):
                words.append(i)
            elif len(others) < want:
                others.append(i)
        ranked = sorted(prefix, key=lambda i: len(lower[i])) if len(prefix) <= 4 * want else prefix
        ranked += words + others
        if len(ranked) < want:
            if len(scattered) <= 4 * want:
                scattered = sorted(scattered, key=lambda i: (-(score(q, lower[i]) or 0), i))
            ranked += scattered
        return ranked[:want]
