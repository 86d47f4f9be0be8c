"""The editor's Steps: your customize steps in the order the template runs them (inherited profile
steps dimmed in place), then the validation steps."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets.option_list import Option

from .panel import ListPanel
from .rows import row


class StepsPanel(ListPanel):
    LIST_ID = "step-list"
    HINT = "a add · v add a validation · e/Enter edit · d duplicate · x delete · K/J move · u undo"

    def show(self, doc: Any, result: Any, validate_key: Any) -> None:
        from aibtui.onboarding.recipes import step_kind, step_summary

        inherited_steps = result.inherited_steps if result else []
        steps = doc.items("customize")
        own: list[tuple[str, Option]] = []
        for i, st in enumerate(steps):
            name = str(st.get("name", "?")) if isinstance(st, dict) else "?"
            own.append((name, Option(row((f"{i + 1:>2} ", "dim"), (f"{name:<22}", "bold"),
                                         (f" {step_kind(st):<14}", "cyan"), step_summary(st, 60)), id=f"own-{i}")))
        own_names = {n for n, _ in own}
        inherited = {inh.name: (j, inh) for j, inh in enumerate(inherited_steps)}
        rows: list[Option] = []
        placed: set[int] = set()
        for name, _from_profile in (result.step_order if result else []):  # as the template runs them
            if name in own_names:
                for i, (n, opt) in enumerate(own):
                    if n == name and i not in placed:
                        rows.append(opt)
                        placed.add(i)
            elif name in inherited:
                j, inh = inherited[name]
                rows.append(Option(row(("   ↳ ", "dim"), (f"{inh.name:<22}", "dim italic"),
                                       (f" from {inh.origin}", "dim")), id=f"inh-{j}", disabled=True))
        for i, (_n, opt) in enumerate(own):  # not compiled yet (just added): after the step before it
            if i not in placed:
                ids = [r.id for r in rows]
                at = ids.index(f"own-{i - 1}") + 1 if f"own-{i - 1}" in ids else 0
                rows.insert(at, opt)
        if not steps:
            rows.append(Option(Text("   no steps of your own yet: press a to add one", style="dim"), id="empty",
                               disabled=True))
        validations = doc.items(validate_key)
        rows.append(Option(row(("── validation: in-VM checks after customizing", "bold dim"),
                               ("  (v adds one)" if not validations else "", "dim")), id="val-header", disabled=True))
        for i, st in enumerate(validations):
            name = str(st.get("name", "?")) if isinstance(st, dict) else "?"
            rows.append(Option(row((f"{i + 1:>2} ", "dim"), (f"{name:<22}", "bold"), (f" {step_kind(st):<14}", "cyan"),
                                   step_summary(st, 60)), id=f"val-{i}"))
        self.fill(rows)
