"""The editor's model, free of Textual: compile the text being edited, find where a line lives.

``compile_text`` compiles the in-memory YAML (what a save would write) with the real compiler, and
reports the steps and targets that come from profiles (shown as inherited). ``locate`` maps a
diagnostic's line to the section, list item and key of the document, so the TUI can jump there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aibtui.compiler import code_ids as C

SECTIONS = ("customize", "distribute", "build")


@dataclass
class Inherited:
    name: str
    origin: str  # the profile file's name
    summary: str


@dataclass
class Compiled:
    ok: bool
    json: str | None
    diagnostics: list[Any] = field(default_factory=list)  # compiler Diagnostic objects
    inherited_steps: list[Inherited] = field(default_factory=list)
    inherited_targets: list[Inherited] = field(default_factory=list)
    # the merged order: (name, inherited?) per item, as the template will run them
    step_order: list[tuple[str, bool]] = field(default_factory=list)
    target_order: list[tuple[str, bool]] = field(default_factory=list)
    os: str | None = None
    problem: str | None = None  # the compiler itself failed (a bug): shown instead of diagnostics


@dataclass(frozen=True)
class Location:
    section: str | None  # a top-level key, or None (before any key)
    index: int | None = None  # list item in customize/distribute/validate
    key: str | None = None  # key within the item, or within build
    path: tuple[str, ...] = ()  # the list's path when it is nested (("validate", "steps"))


def compile_text(text: str, path: Path) -> Compiled:
    """Never raises: a compiler bug becomes ``problem`` for the editor to show."""
    try:
        return _compile_text(text, path)
    except Exception as exc:  # noqa: BLE001 - keep the editor alive; say what happened
        return Compiled(False, None, problem=f"the compiler failed: {type(exc).__name__}: {exc}")


def _compile_text(text: str, path: Path) -> Compiled:
    from aibtui.compiler.diagnostics import DiagnosticBag
    from aibtui.compiler.nodes import Mapping, to_plain
    from aibtui.compiler.pipeline import CompileOptions, compile_node
    from aibtui.compiler.sources import load_source
    from aibtui.onboarding.recipes import step_summary

    file = str(path)
    bag = DiagnosticBag()
    node = load_source(text, file, bag)
    if not isinstance(node, Mapping):
        if node is not None:
            bag.add(C.AIB105, "the file must be a YAML mapping (key: value lines)", node.span)
        return Compiled(False, None, bag.sorted())
    res = compile_node(node, path, CompileOptions())
    diags = sorted([*bag, *res.diagnostics], key=lambda d: d.sort_key())
    out = Compiled(res.ok and not bag.has_errors, res.text, diags)
    resolved = res.resolved
    if isinstance(resolved, Mapping):
        own = str(Path(file).resolve())
        for key, bucket, order in (("customize", out.inherited_steps, out.step_order),
                                   ("distribute", out.inherited_targets, out.target_order)):
            seq = resolved.get(key)
            for item in getattr(seq, "items", []) or []:
                origin = item.span.file if item.span else ""
                plain = to_plain(item)
                name = str(plain.get("name") or plain.get("runOutputName") or "?") if isinstance(plain, dict) else "?"
                inherited = bool(origin) and origin != file and str(Path(origin).resolve()) != own
                order.append((name, inherited))
                if inherited:
                    bucket.append(Inherited(name, Path(origin).name.removesuffix(".aib.yaml"),
                                            step_summary(plain, 50)))
        os_node = resolved.get("os")
        out.os = str(os_node.value) if os_node is not None and hasattr(os_node, "value") else None
    return out


def locate(data: Any, line: int, col: int = 1) -> Location:
    """Where 1-based ``line``/``col`` is in a ruamel round-trip document (``YamlDoc.data``).

    The key is the innermost one of the item (``to`` in ``file: {from: ..., to: ...}``), which is
    what the editor's forms name their fields after.
    """
    pos = (line - 1, col - 1)
    line0 = pos[0]
    keys = list(data.keys()) if hasattr(data, "keys") else []
    section = None
    for k in keys:
        try:
            kline = data.lc.key(k)[0]
        except (AttributeError, KeyError, TypeError):
            continue
        if kline <= line0:
            section = k
        else:
            break
    if section is None:
        return Location(None)
    value = data[section]
    if isinstance(value, list) and hasattr(value, "lc"):
        index, key = _item_at(value, pos)
        return Location(section, index, key, (section,))
    if hasattr(value, "keys") and hasattr(value, "lc"):  # e.g. validate: {steps: [...]}
        for sub in value.keys():
            inner = value[sub]
            try:
                starts = value.lc.key(sub)[0]
            except (AttributeError, KeyError, TypeError):
                continue
            if isinstance(inner, list) and hasattr(inner, "lc") and inner and starts <= line0:
                index, key = _item_at(inner, pos)
                if index is not None and inner.lc.item(index)[0] <= line0:
                    last = _key_at(value, pos)
                    if last == sub or last in (inner[index].keys() if hasattr(inner[index], "keys") else ()):
                        return Location(section, index, key, (section, sub))
    return Location(section, None, _key_at(value, pos))


def _item_at(seq: Any, pos: tuple[int, int]) -> tuple[int | None, str | None]:
    index = None
    for i in range(len(seq)):
        try:
            if seq.lc.item(i)[0] <= pos[0]:
                index = i
        except (AttributeError, KeyError, TypeError):
            continue
    return index, (_key_at(seq[index], pos) if index is not None else None)


def _key_at(node: Any, pos: tuple[int, int]) -> str | None:
    if not hasattr(node, "keys") or not hasattr(node, "lc"):
        return None
    found = None
    for k in node.keys():
        try:
            if tuple(node.lc.key(k)[:2]) <= pos:
                found = k
        except (AttributeError, KeyError, TypeError):
            continue
    if found is not None and hasattr(node[found], "keys"):
        return _key_at(node[found], pos) or found
    return found
