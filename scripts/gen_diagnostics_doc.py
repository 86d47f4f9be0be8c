"""Write docs/diagnostics.md from the code registry (tests/test_docs.py keeps it in sync).

  .venv/bin/python scripts/gen_diagnostics_doc.py
"""

from __future__ import annotations

from pathlib import Path

from aibtui.compiler.codes import CODES

RANGES = [
    ("AIB0", "Seed-document rules (details and examples in rules.md)"),
    ("AIB1", "Loading: YAML/JSON syntax, budgets, YAML 1.1 values"),
    ("AIB2", "Resolving: extends, include, profiles"),
    ("AIB3", "Variables"),
    ("AIB4", "The dialect"),
    ("AIB5", "The official ARM schema and apiVersion gating"),
    ("AIB6", "Lint warnings beyond the seed (rules.md)"),
    ("AIB7", "Existing template JSON and ARM templates"),
    ("AIB8", "Import"),
]


def render() -> str:
    out = ["# Diagnostic codes", "",
           "Every diagnostic aibtui prints has a stable code. This page is generated from the registry",
           "(`scripts/gen_diagnostics_doc.py`); `rules.md` explains the seed rules in depth.",
           "`aibtui explain CODE` prints one entry; each row has an anchor (`diagnostics.md#aib030`).", ""]
    for prefix, title in RANGES:
        codes = sorted(c for c in CODES if c.startswith(prefix))
        if not codes:
            continue
        out += [f"## {prefix}xx: {title}", "", "| code | severity | seed rule | what | default hint |",
                "|---|---|---|---|---|"]
        for code in codes:
            info = CODES[code]
            hint = (info.hint or "").replace("|", "\\|")
            title = info.title.replace("|", "/")
            cell = f"<a id=\"{code.lower()}\"></a>{code}"
            out.append(f"| {cell} | {info.severity} | {info.rule or ''} | {title} | {hint} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "diagnostics.md"
    target.write_text(render())
    print(f"wrote {target}")
