"""Round-trip editing of a user's ``*.aib.yaml``: comments, key order and formatting survive a save.

``YamlDoc.load(path)`` parses with ruamel.yaml's round-trip loader, choosing the indentation that
reproduces the file byte for byte (most files: mappings by 2, sequences by 4 with the dash at 2);
edits go through the small helpers below (``seq``, ``insert``, ``move``, ``remove``, ``replace``,
``set``) so that comments attached to list items follow their items. ``save()`` writes atomically
(``fsutil.write_if_changed``) and refuses, with :class:`ConflictError`, to overwrite a file that
changed on disk since it was loaded (mtime, size and SHA-256 are compared), unless forced.

No Textual here: the TUI and tests share it.
"""

from __future__ import annotations

import copy
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aibtui.compiler.errors import AibtuiError

from .fsutil import write_if_changed

Key = str | tuple[str, ...]  # a top-level key, or a path of keys to a nested list

# (mapping indent, sequence indent, dash offset): the first that reproduces the file wins.
INDENT_CANDIDATES = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (3, 5, 3))


class YamlEditError(AibtuiError):
    """The file cannot be edited (unreadable, not YAML, not a mapping)."""


class ConflictError(AibtuiError):
    """The file changed on disk since it was loaded; saving would overwrite someone else's change."""


@dataclass(frozen=True)
class Fingerprint:
    mtime_ns: int
    size: int
    sha256: str

    @classmethod
    def of_file(cls, path: Path) -> Fingerprint | None:
        try:
            st = os.stat(path)
            data = Path(path).read_bytes()
        except OSError:
            return None
        return cls(st.st_mtime_ns, st.st_size, hashlib.sha256(data).hexdigest())

    def same_content(self, other: Fingerprint | None) -> bool:
        return other is not None and other.size == self.size and other.sha256 == self.sha256


def _yaml(indent: tuple[int, int, int]) -> Any:
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap the user's long lines
    y.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    return y


def _dump(y: Any, data: Any) -> str:
    buf = io.StringIO()
    y.dump(data, buf)
    return buf.getvalue()


def _parse(text: str, file: str) -> tuple[Any, tuple[int, int, int], bool]:
    from ruamel.yaml.error import YAMLError

    first: tuple[Any, tuple[int, int, int]] | None = None
    for cand in INDENT_CANDIDATES:
        y = _yaml(cand)
        try:
            data = y.load(text)
        except YAMLError as exc:
            raise YamlEditError(f"{file}: not valid YAML: {str(exc).splitlines()[0]}") from exc
        except Exception as exc:  # ruamel raises a few non-YAMLError types on odd input
            raise YamlEditError(f"{file}: cannot read it as YAML: {exc}") from exc
        if data is None:
            from ruamel.yaml.comments import CommentedMap

            data = CommentedMap()
        if not hasattr(data, "items"):
            raise YamlEditError(f"{file}: the file must be a YAML mapping (key: value lines)")
        if first is None:
            first = (data, cand)
        if _dump(y, data) == text:
            return data, cand, True
    assert first is not None
    return first[0], first[1], False


def to_plain(value: Any) -> Any:
    """ruamel's commented containers -> plain dicts/lists/str (for forms and summaries)."""
    if hasattr(value, "items") and callable(value.items):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, int | float):
        return value if not isinstance(value, float) or value == value else value
    return str(value)


def to_node(value: Any, *, item: bool = False) -> Any:
    """Plain data -> ruamel nodes styled by the project's one YAML writer.

    The value is written by ``aibtui.compiler.yamlwriter`` (the writer of ``import`` and ``init``)
    and read back with the round-trip loader, so a step or setting the TUI adds has the same quoting,
    flow lists, small flow mappings and literal blocks as a file ``aibtui import`` or the wizard
    wrote. ``item``: the value is a list item (the writer lays out list items and mapping values a
    little differently). Numbers, booleans and None stay as they are; ruamel nodes are returned
    unchanged.
    """
    if hasattr(value, "ca") or value is None or isinstance(value, bool | int | float):
        return value
    from aibtui.compiler.yamlwriter import dump

    if item:
        return _yaml(INDENT_CANDIDATES[0]).load(dump({"v": [value]}))["v"][0]
    return _yaml(INDENT_CANDIDATES[0]).load(dump({"v": value}))["v"]


def _update_map(old: Any, new: dict[str, Any]) -> None:
    """Make the ruamel mapping ``old`` equal ``new`` in place: unchanged values keep their exact text
    (quotes, comments); nested mappings are updated key by key; order is kept, new keys appended."""
    for k in [k for k in old if k not in new]:
        del old[k]
    for k, v in new.items():
        if k in old and to_plain(old[k]) == v:
            continue
        if k in old and hasattr(old[k], "items") and hasattr(old[k], "ca") and isinstance(v, dict):
            _update_map(old[k], v)
        else:
            old[k] = _like(old.get(k), to_node(v))


def _like(old: Any, new: Any) -> Any:
    """``new`` in the style of the value it replaces: a flow list/mapping stays flow (``[a, b]``)."""
    old_fa = getattr(old, "fa", None)
    new_fa = getattr(new, "fa", None)
    if old_fa is not None and new_fa is not None and old_fa.flow_style():
        new_fa.set_flow_style()
    return new


class YamlDoc:
    """One ``*.aib.yaml`` loaded for editing."""

    def __init__(self, path: Path, text: str, fingerprint: Fingerprint | None) -> None:
        self.path = Path(path)
        self.original = text
        self.fingerprint = fingerprint
        self.data, self._indent, self.exact = _parse(text, str(path))
        self._yaml = _yaml(self._indent)

    @classmethod
    def load(cls, path: Path) -> YamlDoc:
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise YamlEditError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlEditError(f"{path}: not UTF-8 text") from exc
        st = os.stat(path)
        return cls(path, text, Fingerprint(st.st_mtime_ns, st.st_size, hashlib.sha256(raw).hexdigest()))

    @classmethod
    def from_text(cls, path: Path, text: str) -> YamlDoc:
        """A document not on disk yet (the wizard's new file)."""
        return cls(path, text, None)

    # -- text --------------------------------------------------------------------------------
    def text(self) -> str:
        return _dump(self._yaml, self.data)

    @property
    def dirty(self) -> bool:
        return self.text() != self.original

    # -- disk ----------------------------------------------------------------------------------
    def disk_changed(self) -> bool:
        """True when the file on disk is no longer what was loaded (or last saved)."""
        now = Fingerprint.of_file(self.path)
        if self.fingerprint is None:
            return now is not None
        if now is None:
            return True
        if now.mtime_ns == self.fingerprint.mtime_ns and now.size == self.fingerprint.size:
            return False
        return not self.fingerprint.same_content(now)

    def restore(self, text: str) -> None:
        """Replace the in-memory document by ``text`` (an earlier ``text()``: undo); disk state is kept."""
        self.data, self._indent, _exact = _parse(text, str(self.path))
        self._yaml = _yaml(self._indent)

    def save(self, *, force: bool = False, text: str | None = None) -> bool:
        """Write the document (or ``text``, a ``text()`` taken earlier) back atomically.

        Raises ConflictError if the file changed on disk since it was loaded or last saved.
        """
        if not force and self.disk_changed():
            raise ConflictError(f"{self.path} changed on disk since it was opened")
        text = self.text() if text is None else text
        written = write_if_changed(self.path, text)
        self.original = text
        self.fingerprint = Fingerprint.of_file(self.path)
        return written

    def reloaded(self) -> YamlDoc:
        return YamlDoc.load(self.path)

    # -- edits -------------------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        """Set a top-level key (kept in place if present, appended otherwise); None removes it."""
        if value is None:
            self.data.pop(key, None)
            return
        self.data[key] = to_node(value)

    def set_in(self, key: str, sub: str, value: Any) -> None:
        """Set ``key.sub`` (e.g. ``build.vmSize``); None removes it (and an emptied ``key``)."""
        from ruamel.yaml.comments import CommentedMap

        parent = self.data.get(key)
        if value is None:
            if hasattr(parent, "pop"):
                parent.pop(sub, None)
                if not parent:
                    self.data.pop(key, None)
            return
        if not isinstance(parent, dict):
            parent = CommentedMap()
            self.data[key] = parent
        parent[sub] = to_node(value)

    def _parent(self, parents: tuple[str, ...], create: bool) -> Any:
        from ruamel.yaml.comments import CommentedMap

        node = self.data
        for part in parents:
            nxt = node.get(part) if hasattr(node, "get") else None
            if not isinstance(nxt, dict):
                if not create:
                    return None
                nxt = CommentedMap()
                node[part] = nxt
            node = nxt
        return node

    def seq(self, key: Key, create: bool = False) -> Any:
        """The list at ``key`` (a top-level key, or a path such as ``("validate", "steps")``)."""
        from ruamel.yaml.comments import CommentedSeq

        parts = (key,) if isinstance(key, str) else tuple(key)
        parent = self._parent(parts[:-1], create)
        if parent is None:
            return CommentedSeq()
        value = parent.get(parts[-1])
        if isinstance(value, list):
            if not hasattr(value, "ca"):
                value = CommentedSeq(value)
                parent[parts[-1]] = value
            return value
        if not create:
            return CommentedSeq()
        value = CommentedSeq()
        parent[parts[-1]] = value
        return value

    def items(self, key: Key) -> list[Any]:
        return [to_plain(v) for v in self.seq(key)]

    def insert(self, key: Key, index: int, value: Any) -> None:
        s = self.seq(key, create=True)
        tail = _take_tail(s)
        index = max(0, min(index, len(s)))
        node = value if hasattr(value, "ca") else to_node(value, item=True)
        if index == len(s):
            s.append(node)
        else:
            s.insert(index, node)
        if len(s) > 1 and getattr(s, "fa", None) is not None:
            s.fa.set_block_style()
        _put_tail(s, tail)

    def remove(self, key: Key, index: int) -> Any:
        """Remove and return the item (its ruamel node, comments and all: ``insert`` it back to undo)."""
        s = self.seq(key)
        tail = _take_tail(s)
        node = s[index]
        del s[index]
        _put_tail(s, tail)
        return node

    def move(self, key: Key, index: int, to: int) -> None:
        s = self.seq(key)
        if not (0 <= index < len(s)) or not (0 <= to < len(s)) or index == to:
            return
        node = self.remove(key, index)
        self.insert(key, to, node)

    def replace(self, key: Key, index: int, value: dict[str, Any]) -> None:
        """Replace an item with new content, keeping the comments of the keys that stay."""
        s = self.seq(key)
        tail = _take_tail(s)
        try:
            self._replace(s, index, value)
        finally:
            _put_tail(s, tail)

    def _replace(self, s: Any, index: int, value: dict[str, Any]) -> None:
        old = s[index]
        if hasattr(old, "items") and isinstance(value, dict):
            _update_map(old, value)
            return
        s[index] = to_node(value, item=True)

    def duplicate_of(self, key: Key, index: int) -> Any:
        return copy.deepcopy(to_plain(self.seq(key)[index]))


# -- the comment lines after a list's last item ----------------------------------------------------
# ruamel attaches the full-line comments that follow a list (typically the comment introducing the
# next top-level key) to the list's last scalar. Edits that change which item is last move those
# lines to the new last item, so they stay where they were in the file.


def _last_slot(node: Any) -> tuple[Any, Any, int] | None:
    """(comment dict, key, slot) where the comment after ``node``'s last scalar lives."""
    if hasattr(node, "items") and hasattr(node, "ca"):
        if not node:
            return None
        key = list(node.keys())[-1]
        value = node[key]
        if isinstance(value, dict | list) and value and hasattr(value, "ca"):
            return _last_slot(value)
        return node.ca.items, key, 2
    if isinstance(node, list) and hasattr(node, "ca"):
        if not node:
            return None
        value = node[-1]
        if isinstance(value, dict | list) and value and hasattr(value, "ca"):
            return _last_slot(value)
        return node.ca.items, len(node) - 1, 0
    return None


def _last_scalar(node: Any) -> Any:
    while isinstance(node, dict | list) and node:
        node = node[list(node.keys())[-1]] if isinstance(node, dict) else node[-1]
    return node


def _take_tail(seq: Any) -> str | None:
    """Detach the full-line comments after the list's last item; returns their text (line-start based)."""
    slot = _last_slot(seq)
    if slot is None:
        return None
    items, key, i = slot
    entry = items.get(key)
    if not entry or len(entry) <= i or entry[i] is None:
        return None
    tok = entry[i]
    value = tok.value
    if type(_last_scalar(seq)).__name__ in ("LiteralScalarString", "FoldedScalarString"):
        eol, rest = "", value
    elif value.startswith("#"):
        eol, _, rest = value.partition("\n")
        eol += "\n"
    else:
        eol, rest = "", value[1:] if value.startswith("\n") else value
    if not rest:
        return None
    if eol:
        tok.value = eol
    else:
        entry[i] = None
    return rest


def _put_tail(seq: Any, rest: str | None) -> None:
    if not rest:
        return
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    slot = _last_slot(seq)
    if slot is None:
        return
    items, key, i = slot
    entry = items.setdefault(key, [None, None, None, None])
    while len(entry) <= i:
        entry.append(None)
    if entry[i] is not None and entry[i].value.startswith("#"):
        entry[i].value = entry[i].value.partition("\n")[0] + "\n" + rest
        return
    block = type(_last_scalar(seq)).__name__ in ("LiteralScalarString", "FoldedScalarString")
    entry[i] = CommentToken(rest if block else "\n" + rest, CommentMark(0), None)
