"""Switching a template's base image to a built-in profile, as a person would edit the text.

The profile sets the marketplace image, the OS family and the Hyper-V generation, so ``source``,
``os`` and ``generation`` (with the comment lines just above them and their end-of-line comments)
go; ``extends: PROFILE`` takes the place ``source`` had (near the top), or comes first when there
was no source. Everything else stays byte-identical.
"""

from __future__ import annotations

from typing import Any

STALE = ("source", "os", "generation", "hyperVGeneration")


def _blocks(data: Any, lines: list[str]) -> dict[str, tuple[int, int]]:
    """Top-level key -> (first line, end line exclusive), 0-based; a block ends before the blank
    lines and comment lines that lead into the next key."""
    starts: list[tuple[int, str]] = []
    for key in data.keys():
        try:
            starts.append((data.lc.key(key)[0], key))
        except (AttributeError, KeyError, TypeError):
            return {}
    starts.sort()
    out: dict[str, tuple[int, int]] = {}
    for i, (line, key) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(lines)
        while end > line + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
        out[key] = (line, end)
    return out


def switch_to_profile(text: str, data: Any, profile: str) -> str | None:
    """The text with ``extends: profile`` instead of the explicit source (None: leave it to the caller,
    e.g. ``extends`` is already there)."""
    if "extends" in data or not any(k in data for k in STALE):
        return None
    lines = text.splitlines(keepends=True)
    blocks = _blocks(data, lines)
    if not blocks:
        return None
    source = data.get("source")
    words = {"source", "image", "marketplace", "os", "generation"}
    if isinstance(source, str):
        words |= {w.lower() for w in source.replace(":", " ").replace("/", " ").split() if len(w) > 2}
    drop: set[int] = set()
    at: int | None = None
    for key in STALE:
        if key not in blocks:
            continue
        first, end = blocks[key]
        while first > 0 and lines[first - 1].lstrip().startswith("#") and (first - 1) not in drop \
                and not _is_header(lines, first - 1, words):
            first -= 1  # the comment lines right above it talk about it
        drop.update(range(first, end))
        if key == "source":
            at = first
    if at is None:
        at = min(b[0] for b in blocks.values())
    out: list[str] = []
    for i, line in enumerate(lines):
        if i == at:
            out.append(f"extends: {profile}\n")
        if i not in drop:
            out.append(line)
    if at >= len(lines):
        out.append(f"extends: {profile}\n")
    return "".join(out)


def _is_header(lines: list[str], i: int, words: set[str]) -> bool:
    """A comment in the file's opening comment block stays unless it talks about the image."""
    if not all(ln.lstrip().startswith("#") for ln in lines[: i + 1]):
        return False
    said = {w.strip(".,;:()").lower() for w in lines[i].lstrip("# ").split()}
    return not (said & words)
