"""The editor's Targets: where the image goes (``distribute``), inherited targets dimmed."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets.option_list import Option

from .panel import ListPanel
from .rows import row


class TargetsPanel(ListPanel):
    LIST_ID = "target-list"
    HINT = "a add · e/Enter edit · d duplicate · x delete · K/J move · u undo"

    def show(self, doc: Any, result: Any) -> None:
        from ..screens.edit_forms import target_kind

        rows: list[Option] = []
        for j, inh in enumerate(result.inherited_targets if result else []):
            rows.append(Option(row(("   ↳ ", "dim"), (f"{inh.name} from {inh.origin}", "dim")),
                               id=f"inh-{j}", disabled=True))
        targets = doc.items("distribute")
        for i, t in enumerate(targets):
            kind = target_kind(t) if isinstance(t, dict) else "?"
            what = t.get(kind) if isinstance(t, dict) else t
            label = "VHD" if kind == "vhd" else str(what).rsplit("/", 1)[-1]
            name = t.get("runOutputName") or t.get("name") or "" if isinstance(t, dict) else ""
            rows.append(Option(row((f"{i + 1:>2} ", "dim"), (f"{kind:<13}", "cyan"),
                                   (f" {label:<24}", "bold"), (f" {name}", "dim")), id=f"own-{i}"))
        if not targets:
            rows.append(Option(Text("   no targets: press a to add one (AIB needs at least one)", style="dim"),
                               id="empty", disabled=True))
        self.fill(rows)
