"""The editor's Build tab: the source image (profile or image), location and identity, then the build
VM settings; Enter edits the highlighted row, s picks the source."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets.option_list import Option

from .panel import ListPanel
from .rows import row

GENERAL_ROWS = (("source", "Source"), ("location", "Location"), ("identity", "Identity"))
BUILD_ROWS = (("vmSize", "VM size"), ("osDiskSizeGB", "OS disk (GB)"), ("timeout", "Timeout"), ("subnet", "Subnet"))


class SourcePanel(ListPanel):
    LIST_ID = "build-list"
    HINT = "Enter edits · s picks the source image"

    def show(self, doc: Any) -> None:
        build = doc.get("build") or {}
        rows = []
        for key, label in GENERAL_ROWS:
            rows.append(Option(row((f"{label:<14}", "bold"), general_value(doc, key)), id=f"gen-{key}"))
        for key, label in BUILD_ROWS:
            value = build.get(key) if hasattr(build, "get") else None
            shown = Text(str(value), style="") if value is not None else Text("(default)", style="dim")
            rows.append(Option(row((f"{label:<14}", "bold"), shown), id=f"b-{key}"))
        self.fill(rows)


def general_value(doc: Any, key: str) -> Text:
    if key == "source":
        if doc.get("source") is not None:
            return Text(str(doc.get("source")))
        ext = doc.get("extends")
        if ext:
            first = ext if isinstance(ext, str) else ", ".join(str(e) for e in ext)
            return Text.assemble(f"extends {first}", (" (profile)", "dim"))
        return Text("(none: press s)", style="red")
    value = doc.get(key)
    if key == "identity" and isinstance(value, str):
        from aibtui.onboarding.resource_ids import identity_parts

        parts = identity_parts(value)
        if parts:  # the name first: a long resource id would be cut before it
            return Text.assemble(parts[2], (f"  (resource group {parts[1]}, subscription {parts[0][:8]}…)", "dim"))
    return Text(str(value)) if value is not None else Text("(not set)", style="dim")
