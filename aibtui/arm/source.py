"""Turn the FILE given to `aibtui build` into (template name, PUT body).

``*.aib.yaml`` goes through the compiler (``format="body"``); ``*.json`` is taken as an existing
image template (resource or body shape). Diagnostics come back for the CLI to print.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
BODY_KEYS = ("location", "tags", "identity", "properties")


@dataclass
class Loaded:
    name: str | None
    body: dict[str, Any] | None
    messages: list[str] = field(default_factory=list)  # diagnostics, formatted
    ok: bool = True


def stem_name(path: Path) -> str:
    name = path.name
    for suffix in (".aib.yaml", ".aib.yml", ".yaml", ".yml", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _from_json(path: Path) -> Loaded:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return Loaded(None, None, [f"{path}: error: cannot read the template: {exc}"], ok=False)
    if isinstance(doc, dict) and isinstance(doc.get("resources"), list):
        found = [r for r in doc["resources"] if isinstance(r, dict)
                 and str(r.get("type", "")).lower() == "microsoft.virtualmachineimages/imagetemplates"]
        if len(found) != 1:
            return Loaded(None, None, [f"{path}: error: expected one image template in the ARM template, found "
                                       f"{len(found)}"], ok=False)
        doc = found[0]
    if not isinstance(doc, dict) or not isinstance(doc.get("properties"), dict):
        return Loaded(None, None, [f"{path}: error: not an image template (no 'properties' object)"], ok=False)
    name = doc.get("name") if isinstance(doc.get("name"), str) and not str(doc["name"]).startswith("[") else None
    return Loaded(name, {k: doc[k] for k in BODY_KEYS if k in doc})


def load_template(path: Path, *, api_version: str | None = None, sets: Mapping[str, str] | None = None) -> Loaded:
    if path.suffix.lower() == ".json":
        loaded = _from_json(path)
    else:
        from aibtui.compiler import CompileOptions, compile_file

        res = compile_file(path, CompileOptions(format="body", api_version=api_version, sets=dict(sets or {})))
        messages = [d.format_text() for d in res.diagnostics]
        if not res.ok or res.document is None:
            return Loaded(None, None, messages, ok=False)
        model = getattr(res, "model", None)
        name = None
        for doc in (getattr(model, "doc", None), res.document):
            if isinstance(doc, dict) and isinstance(doc.get("name"), str):
                name = doc["name"]
                break
        loaded = Loaded(name, {k: v for k, v in res.document.items() if k in BODY_KEYS}, messages)
    if loaded.ok and loaded.name is None:
        loaded.name = stem_name(path)
    if loaded.ok and loaded.name is not None and not _NAME.match(loaded.name):
        loaded.messages.append(f"{path}: error: '{loaded.name}' is not a valid image template name (letters, "
                               "digits, '-', '_', '.'; at most 64); pass --name")
        loaded.ok = False
    return loaded
