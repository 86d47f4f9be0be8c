"""The TUI's custom messages, in one module (posting's style)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message import Message


@dataclass
class FolderScanned(Message):
    """The start-up worker looked at the folder: the ``*.aib.yaml`` files it holds."""

    files: list[Path]


@dataclass
class Compiled(Message):
    """A compile of the text being edited finished (``project.Compiled``)."""

    result: Any
    generation: int


@dataclass
class ImagesLoaded(Message):
    """One level of the source picker arrived (``parts`` names the level)."""

    parts: tuple[str, ...]
    entries: list[Any]
    error: str | None = None


@dataclass
class RunPolled(Message):
    """One poll of a watched run (``update`` is ``aibtui.arm.watch.Update``), or the error it met."""

    update: Any | None
    error: str | None = None


@dataclass
class ProjectWritten(Message):
    """The onboarding wrote its file; ``ok`` says whether it compiles."""

    path: Path
    ok: bool
    messages: list[str]


@dataclass
class DiskChanged(Message):
    """The edited file changed on disk (someone else saved it)."""

    path: Path


@dataclass
class EditRequested(Message):
    """Enter (or a click) on an editor list's row: the editor opens that item's form."""

    list_id: str


@dataclass
class DiagnosticChosen(Message):
    """Enter on a diagnostic: the editor jumps to where it can be fixed (a form field or the YAML)."""

    diagnostic: Any


@dataclass
class TextEdited(Message):
    """The user changed the file's text in the YAML tab (the editor parses and applies it)."""

    text: str
