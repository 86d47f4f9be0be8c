"""The editor's file flow: saving (atomic, comment-preserving, never over someone else's change), the
conflict prompt, reloading, and watching the file on disk.

``SaveFlow`` is a small object the editor screen owns; the screen's Ctrl+S, Ctrl+R, its disk timer and
the app's quit prompt (``save_now``) call it. The writes run in the screen's thread workers; the
results come back to the screen's event loop with ``call_from_thread`` or a ``DiskChanged`` message.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from .messages import DiskChanged

if TYPE_CHECKING:
    from .screens.editor import EditorScreen


class SaveFlow:
    def __init__(self, editor: EditorScreen) -> None:
        self.ed = editor

    def save_now(self) -> bool:
        """Save at once (before quitting or switching files): True when the file holds the edits. A
        conflict or a write error is shown and nothing else happens (False)."""
        from aibtui.yamledit import ConflictError

        ed = self.ed
        if ed.raw_pending is not None:
            ed.notify("the YAML does not parse yet: fix it (YAML tab) or undo, then save", severity="error",
                      timeout=8)
            ed.action_tab("yaml")
            return False
        if ed.doc is None:
            return True
        try:
            ed.doc.save(force=False, text=ed.doc.text())
        except ConflictError:
            self.conflict()
            return False
        except OSError as exc:
            ed.notify(f"cannot save {ed.path.name}: {exc.strerror or exc}", severity="error", timeout=8)
            return False
        return True

    def save(self, force: bool = False) -> None:
        """Ctrl+S: write the document in a worker; the result is shown when it is done."""
        ed = self.ed
        if ed.raw_pending is not None:
            ed.notify("the YAML does not parse yet: fix it (YAML tab) or undo first", severity="error")
            return
        if ed.doc is None:
            return
        ed.run_worker(partial(self._write, ed.doc.text(), force), thread=True, exclusive=True, group="save")

    def _write(self, text: str, force: bool) -> None:  # in a thread
        from aibtui.yamledit import ConflictError

        ed = self.ed
        try:
            written = ed.doc.save(force=force, text=text)
        except ConflictError:
            ed.app.call_from_thread(self.conflict)
            return
        except OSError as exc:
            ed.app.call_from_thread(ed.notify, f"cannot save: {exc.strerror or exc}", severity="error")
            return
        ed.app.call_from_thread(self._saved, written)

    def _saved(self, written: bool) -> None:
        ed = self.ed
        ed.conflict = False
        ed.refresh_lists()
        ed.notify(f"saved {ed.path.name}" if written else f"{ed.path.name} unchanged")
        if ed.build_after_save:
            ed.build_after_save = False
            ed.app.open_build(path=ed.path, provider=ed.build_provider)

    def conflict(self) -> None:
        """The file changed on disk since it was opened: overwrite it, reload it, or cancel."""
        from .screens.confirm import ConfirmScreen

        ed = self.ed
        ed.conflict = True
        ed.build_after_save = False
        ed.refresh_lists()

        def decide(choice: str | None) -> None:
            if choice == "overwrite":
                self.save(force=True)
            elif choice == "reload":
                self.reload()

        ed.app.push_screen(ConfirmScreen(
            f"{ed.path.name} changed on disk since it was opened. Overwrite it with your edits, or reload "
            "it (your edits are dropped)?", (("overwrite", "Overwrite"), ("reload", "Reload"), ("cancel", "Cancel")),
            title="Conflict"), decide)

    def reload(self) -> None:
        self.ed.undo_stack.clear()
        self.ed.load()

    # -- watching the disk ------------------------------------------------------------------------------
    def check_disk(self) -> None:
        """The screen's timer: look at the file in a worker (a ``DiskChanged`` message when it changed)."""
        ed = self.ed
        if ed.doc is not None and not ed.conflict:
            ed.run_worker(self._look, thread=True, exclusive=True, group="disk")

    def _look(self) -> None:  # in a thread
        ed = self.ed
        if ed.doc is not None and ed.doc.disk_changed():
            ed.post_message(DiskChanged(ed.path))

    def disk_changed(self) -> None:
        ed = self.ed
        if ed.doc is None:
            return
        if not ed.doc.dirty:
            ed.notify(f"{ed.path.name} changed on disk: reloaded")
            ed.load()
        elif not ed.conflict:
            ed.conflict = True
            ed.refresh_lists()
            ed.notify(f"{ed.path.name} changed on disk; Ctrl+R reloads (drops your edits), Ctrl+S asks",
                      severity="warning", timeout=8)
