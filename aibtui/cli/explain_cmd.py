"""`aibtui explain CODE...`: what a diagnostic code means, from the one code registry
(compiler/codes.py): severity, seed rule, title, default hint and where the docs describe it."""

from __future__ import annotations

import argparse
import json
import re
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("codes", nargs="*", metavar="CODE",
                        help="a diagnostic code (AIB030, aib30 or 30); several are explained in turn")
    parser.add_argument("--list", action="store_true", help="list every code with its severity and title")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


def normalize(text: str) -> str | None:
    """`AIB030`, `aib30`, `30` -> `AIB030`; None when it is no code number at all."""
    m = re.fullmatch(r"(?i)\s*(?:aib)?(\d{1,3})\s*", text)
    return f"AIB{int(m.group(1)):03d}" if m else None


def entry(code: str) -> dict[str, object]:
    from aibtui.compiler.codes import CODES

    info = CODES[code]
    return {"code": code, "severity": info.severity, "rule": info.rule, "title": info.title,
            "hint": info.hint, "docs": info.anchor(code)}


def _text(item: dict[str, object]) -> str:
    rule = f"  [{item['rule']}]" if item["rule"] else ""
    lines = [f"{item['code']}  {item['severity']}{rule}", f"  {item['title']}"]
    if item["hint"]:
        lines.append(f"  hint: {item['hint']}")
    lines.append(f"  docs: {item['docs']}")
    if item["rule"]:
        lines.append(f"  seed rule {item['rule']}: docs/rules.md (what it checks, with an example)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from aibtui.compiler.codes import CODES

    if args.list:
        items = [entry(code) for code in sorted(CODES)]
        if args.format == "json":
            sys.stdout.write(json.dumps(items, indent=2) + "\n")
        else:
            for item in items:
                sys.stdout.write(f"{item['code']}  {item['severity']:<7}  {item['title']}\n")
        return 0
    if not args.codes:
        sys.stderr.write("aibtui explain: error: name a code (e.g. `aibtui explain AIB030`), or use --list\n")
        return 2
    found: list[dict[str, object]] = []
    status = 0
    for text in args.codes:
        code = normalize(text)
        if code is None or code not in CODES:
            from difflib import get_close_matches

            near = get_close_matches(code or text.upper(), list(CODES), n=3)
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            sys.stderr.write(f"aibtui explain: {text!r} is not a diagnostic code{hint} "
                             "(`aibtui explain --list` lists them)\n")
            status = 1
            continue
        found.append(entry(code))
    if args.format == "json":
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
    else:
        sys.stdout.write("\n\n".join(_text(item) for item in found) + ("\n" if found else ""))
    return status
