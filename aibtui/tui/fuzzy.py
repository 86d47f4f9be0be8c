"""Fuzzy filtering for the pickers: subsequence matching with a small score, fast on 10,000 entries.

Pure Python and free of Textual. ``FuzzyIndex`` lower-cases the haystacks once; ``filter`` keeps
entries containing the query's characters in order (case-insensitive) and ranks contiguous, early
and word-start matches first, keeping the original order among equals.
"""

from __future__ import annotations

from collections.abc import Sequence


def score(query: str, text: str) -> int | None:
    """Higher is better; None when ``query`` is not a subsequence of ``text`` (both lower-case)."""
    if not query:
        return 0
    at = text.find(query)
    if at >= 0:  # a contiguous match beats any scattered one
        bonus = 40 if at == 0 or not text[at - 1].isalnum() else 20
        return 1000 + bonus - min(at, 30) - len(text) // 8
    pos = -1
    gaps = 0
    starts = 0
    for ch in query:
        nxt = text.find(ch, pos + 1)
        if nxt < 0:
            return None
        if nxt != pos + 1:
            gaps += 1
        if nxt == 0 or not text[nxt - 1].isalnum():
            starts += 1
        pos = nxt
    return 500 - gaps * 10 + starts * 5 - len(text) // 8


class FuzzyIndex:
    def __init__(self, entries: Sequence[str]) -> None:
        self.entries = list(entries)
        self._lower = [e.lower() for e in self.entries]

    def filter(self, query: str, limit: int | None = None) -> list[int]:
        """Indices of matching entries, best first (stable)."""
        q = "".join(query.lower().split())
        if not q:
            idx = list(range(len(self.entries)))
            return idx if limit is None else idx[:limit]
        first = q[0]
        hits: list[tuple[int, int]] = []
        for i, text in enumerate(self._lower):
            if first not in text:
                continue
            s = score(q, text)
            if s is not None:
                hits.append((-s, i))
        hits.sort()
        out = [i for _, i in hits]
        return out if limit is None else out[:limit]
