"""A small, conservative reader of inline shell commands, for SH-03 (sudo) and the install lints.

It is no shell parser: it splits a line at `;`, `&&`, `||`, `|` and `&` outside quotes, drops
comments, leading keywords (`then`, `do`, ...) and variable assignments, and yields each simple
command's words. Heredoc bodies are skipped. When in doubt it yields nothing, so the rules that
use it stay quiet rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..records import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path

_SPLIT = re.compile(r"""("(?:[^"\\]|\\.)*"|'[^']*'|\d*>&\d*-?|&>>?|\|\||&&|[;|&])""")
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_HEREDOC = re.compile(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?")
_KEYWORDS = frozenset(
    (
        "then",
        "do",
        "else",
        "elif",
        "if",
        "while",
        "until",
        "!",
        "{",
        "(",
        "time",
        "exec",
        "nohup",
        "command",
        "xargs",
    )
)
_ROOT_SHELL = re.compile(r"^\s*sudo\s+(?:-\S+\s+)*(?:su\b|-i\b|-s\b|bash\s*$|sh\s*$)")


if TYPE_CHECKING:
    from typing import Protocol

    class LineFilter(Protocol):
        def search(self, line: str, /) -> object: ...


@dataclass(frozen=True, slots=True)
class Command:
    index: int  # which inline entry
    words: tuple[str, ...]  # without sudo and leading assignments
    sudo: bool  # run through sudo (or doas)
    text: str  # the simple command as written
    redirects: tuple[str, ...]  # targets of > and >>


def _strip_comment(line: str) -> str:
    if "#" not in line:
        return line
    out, quote = [], ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            break
        out.append(ch)
    return "".join(out)


def _segments(line: str) -> list[str]:
    parts: list[str] = []
    cur = ""
    for piece in _SPLIT.split(line):
        if piece in ("||", "&&", ";", "|", "&"):
            parts.append(cur)
            cur = ""
        else:
            cur += piece
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


_QUOTED_WITH_GT = re.compile("'[^'>]*>[^']*'|\"[^\">]*>[^\"]*\"")
_REDIRECT = re.compile(r"(?<![0-9&<])(?:[12])?>>?\s*(?!&)(\S+)")


_WORD = re.compile(r"""(?:[^\s'"\\]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+""")
_QUOTED = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)""")


def _unquote(word: str) -> str:
    if "'" not in word and '"' not in word and "\\" not in word:
        return word
    return _QUOTED.sub(lambda m: m.group(1) or m.group(2) or m.group(3) or "", word)


def split_words(text: str) -> list[str]:
    """Shell-like words (quotes removed); much faster than shlex and never raises."""
    return [_unquote(w) for w in _WORD.findall(text)]


def commands(lines: list[object], relevant: LineFilter | None = None) -> Iterator[Command]:
    """Simple commands of an inline list. Stops at `sudo su`, `sudo -i` (everything after runs as root).

    Lines that ``relevant`` does not match are not split into commands (heredocs are still followed).
    """
    heredoc_end: str | None = None
    for index, raw in enumerate(lines):
        if not isinstance(raw, str):
            continue
        for line in raw.splitlines():
            if heredoc_end is not None:
                if line.strip() == heredoc_end:
                    heredoc_end = None
                continue
            if "sudo" in line and _ROOT_SHELL.match(line):
                return
            if "<<" in line:
                match = _HEREDOC.search(line)
                if match:
                    heredoc_end = match.group(1)
            if relevant is not None and not relevant.search(line):
                continue
            code = _strip_comment(line)
            for seg in _segments(code):
                cmd = _command(index, seg)
                if cmd is not None:
                    yield cmd


def _command(index: int, seg: str) -> Command | None:
    if ">" in seg:
        # A `>` inside a quoted string (`sudo sh -c 'echo x > /etc/y'`) is not this shell's redirection.
        masked = _QUOTED_WITH_GT.sub(lambda m: " " * len(m.group()), seg)
        redirects = tuple(m.group(1).strip("'\"") for m in _REDIRECT.finditer(masked))
        body = _REDIRECT.sub(" ", masked) if redirects else seg
    else:
        redirects, body = (), seg
    words = split_words(body)
    sudo = False
    while words:
        head = words[0]
        if head in _KEYWORDS or _ASSIGN.match(head) or head in ("env", "-E", "--preserve-env"):
            words = words[1:]
        elif head in ("sudo", "doas"):
            sudo = True
            words = words[1:]
            while words and words[0].startswith("-"):
                flag = words.pop(0)
                if flag in ("-u", "-g", "-C", "-p", "-U", "-h") and words:
                    words.pop(0)
        else:
            break
    if not words:
        return None
    return Command(index, tuple(words), sudo, seg, redirects)
