"""The document the editor edits: the round-trip YAML (``aibtui.yamledit.YamlDoc``), its undo stack,
and the YAML-tab text that does not parse yet. No widgets here: the editor screen owns one
``EditorDocument`` and draws it; the item forms (``editing.py``) and the file flow (``saving.py``)
change it through the screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

Key = str | tuple[str, ...]  # a list in the document: "customize", "distribute", ("validate", "steps")

MAX_UNDO = 100


class EditorDocument:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.doc: Any = None  # the YamlDoc; None until loaded, or while the file does not parse
        self.undo_stack: list[str] = []  # earlier texts, the last one on top
        self.raw_pending: str | None = None  # YAML-tab text that does not parse yet (not in ``doc``)
        self.raw_fingerprint: Any = None  # the disk state when the file could not be parsed at load
        self.raw_original: str | None = None

    @property
    def dirty(self) -> bool:
        """Edits not written to the file yet."""
        return self.raw_pending is not None or (self.doc is not None and bool(self.doc.dirty))

    def loaded(self, doc: Any) -> None:
        self.doc = doc
        self.raw_pending = None

    def unparsable(self, raw: str, fingerprint: Any) -> None:
        """The file on disk is not a YAML mapping the forms can edit: hold its text for the YAML tab."""
        self.raw_original, self.raw_fingerprint = raw, fingerprint
        self.raw_pending = raw

    def snapshot(self) -> None:
        """Before a change: the current text goes on the undo stack (the last ``MAX_UNDO`` are kept)."""
        self.undo_stack.append(self.doc.text())
        del self.undo_stack[:-MAX_UNDO]

    def undo(self) -> bool:
        """Back to the text before the last change; False when there is nothing to undo."""
        if self.doc is None or not self.undo_stack:
            return False
        self.doc.restore(self.undo_stack.pop())
        return True

    def apply_text(self, text: str) -> str | None:
        """The YAML tab's whole text: parsed into the document (None), or kept as pending text when it
        does not parse yet (the parse error, as a message)."""
        from aibtui.yamledit import YamlDoc, YamlEditError

        try:
            if self.doc is None:
                doc = YamlDoc.from_text(self.path, text)
                doc.original = self.raw_original if self.raw_original is not None else ""
                doc.fingerprint = self.raw_fingerprint
                self.doc = doc
            else:
                if self.raw_pending is None and self.doc.text() != text:
                    self.snapshot()
                self.doc.restore(text)
        except YamlEditError as exc:
            self.raw_pending = text
            return str(exc)
        self.raw_pending = None
        return None

    def text(self) -> str | None:
        """What the YAML tab shows: the pending text, else the document's."""
        if self.raw_pending is not None:
            return self.raw_pending
        return self.doc.text() if self.doc is not None else None

    def validate_key(self) -> Key:
        """Where the validation steps live: ``validate:`` as a list, or its ``steps``/``inVMValidations``."""
        v = self.doc.get("validate") if self.doc is not None else None
        if hasattr(v, "keys"):
            return ("validate", "inVMValidations" if "inVMValidations" in v and "steps" not in v else "steps")
        return "validate"
