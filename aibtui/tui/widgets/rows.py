"""One-line list rows: never wrapped, cut with an ellipsis at the list's width."""

from __future__ import annotations

from rich.text import Text


def row(*parts: str | tuple[str, str]) -> Text:
    text = Text.assemble(*parts)
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text
