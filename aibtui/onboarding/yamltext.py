"""Answers -> the text of a commented ``*.aib.yaml``.

Written by hand rather than by a YAML library so that every section carries the one-line comment
that teaches the format, and the bytes are the same whichever front end (TUI or `aibtui init`)
collected the answers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .answers import Answers, Output

_PLAIN = re.compile(r"^[A-Za-z0-9_/$\\][A-Za-z0-9_ ./:=@,+$\\*'()-]*$")
_YAML11_SPECIAL = re.compile(r"^(?:y|n|yes|no|on|off|true|false|null|~|[-+]?[0-9][0-9_.:eE+-]*)$", re.IGNORECASE)


def scalar(value: Any) -> str:
    """One YAML scalar that reads back as exactly ``value`` (strings stay strings)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if (_PLAIN.match(text) and not _YAML11_SPECIAL.match(text) and ": " not in text and " #" not in text
            and not text.endswith((" ", ":"))):
        return text
    return json.dumps(text, ensure_ascii=False)


def _block(text: str, indent: int) -> list[str] | None:
    """A literal block scalar's lines, or None when the text cannot be one faithfully."""
    lines = text.rstrip("\n").split("\n")
    if any(ln != ln.rstrip() for ln in lines) or lines[0][:1] in (" ", "\t") or "\t" in text:
        return None
    pad = " " * indent
    return ["|"] + [pad + ln if ln else "" for ln in lines]


def _value(key: str, value: Any, indent: int) -> list[str]:
    """``key: value`` lines at ``indent``; mappings and lists nest in block style."""
    pad = " " * indent
    if isinstance(value, str) and "\n" in value.rstrip("\n"):
        block = _block(value, indent + 2)
        if block is not None:
            return [f"{pad}{key}: {block[0]}", *block[1:]]
    if isinstance(value, dict):
        out = [f"{pad}{key}:"]
        for k, v in value.items():
            out += _value(k, v, indent + 2)
        return out
    if isinstance(value, list):
        if not value:
            return [f"{pad}{key}: []"]
        out = [f"{pad}{key}:"]
        out += [f"{pad}  - {scalar(v)}" for v in value]
        return out
    return [f"{pad}{key}: {scalar(value)}"]


def _item(mapping: dict[str, Any], indent: int) -> list[str]:
    """A list item that is a mapping: ``- first: ...`` then the other keys aligned under it."""
    lines: list[str] = []
    for i, (k, v) in enumerate(mapping.items()):
        sub = _value(k, v, indent + 2)
        if i == 0:
            sub[0] = " " * indent + "- " + sub[0].lstrip()
        lines += sub
    return lines


def step_lines(step: dict[str, Any], indent: int = 2) -> list[str]:
    return _item(step, indent)


def _output(out: Output) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if out.kind == "vhd":
        item["vhd"] = True
    elif out.kind == "gallery":
        item["gallery"] = out.target
        if out.regions:
            item["regions"] = list(out.regions)
    else:
        item["managedImage"] = out.target
    if out.name:
        item["runOutputName"] = out.name
    return item


_OUTPUT_COMMENT = {
    "managedImage": "# A managed image in your resource group (quick to create VMs from in one region).",
    "gallery": "# A version of a gallery image definition, replicated to the regions listed.",
    "vhd": "# A VHD in the staging storage account; `aibtui outputs` gives its URI.",
}


def render_yaml(a: Answers) -> str:
    """The commented ``*.aib.yaml`` for these answers (compiles as is; see tests/test_wizard.py)."""
    lines = [
        f"# {a.file_name}: an Azure Image Builder template in the aibtui dialect (docs/dialect.md).",
        f"#   aibtui compile {a.file_name}    -> the image-template JSON",
        f"#   aibtui build {a.file_name}      -> create the template, run it, watch it",
        "",
    ]
    extends: list[str] = []
    if a.profile:
        extends.append(a.profile)
        if a.os == "windows" and a.profile != "windows-defaults":
            extends.append("windows-defaults")
    if extends:
        lines.append("# The base image: a built-in profile sets the source image, OS family and Hyper-V generation")
        lines.append("# (`aibtui profiles` lists them).")
        value = extends[0] if len(extends) == 1 else "[" + ", ".join(extends) + "]"
        lines.append(f"extends: {value}")
    lines.append("")
    lines.append("# The template's resource name in Azure: letters, digits, '-', '_', '.'.")
    lines.append(f"name: {scalar(a.name)}")
    lines.append("# The region AIB builds in; outputs default to it.")
    lines.append(f"location: {scalar(a.location)}")
    lines.append("# The user-assigned identity AIB builds as: it needs rights on the output's resource group.")
    lines.append(f"identity: {scalar(a.identity)}")
    if not a.profile and a.source:
        lines.append("# The base image: PUBLISHER:OFFER:SKU:VERSION, a managed image id or a gallery version id.")
        lines.append(f"source: {scalar(a.source)}")
        if a.os:
            lines.append("# The OS family, for the OS-specific checks (a profile would set it).")
            lines.append(f"os: {a.os}")
        if a.generation:
            lines.append(f"generation: {a.generation}")
    build: dict[str, Any] = {}
    if a.vm_size:
        build["vmSize"] = a.vm_size
    if a.timeout:
        build["timeout"] = a.timeout
    if build:
        lines.append("")
        lines.append("# The build VM's size and how long AIB may take before it gives up.")
        lines += _value("build", build, 0)
    lines.append("")
    lines.append("# Steps run in this order on the build VM; each needs a unique name.")
    if a.steps:
        lines.append("customize:")
        for step in a.steps:
            lines += step_lines(step)
    else:
        lines.append("customize: []")
    lines.append("")
    lines.append("# Where the finished image goes (one or more targets).")
    lines.append("distribute:")
    taken: set[str] = set()
    for out in a.outputs:
        lines.append("  " + _OUTPUT_COMMENT[out.kind])
        item = _output(out)
        derived = out.name or (out.target.rstrip("/").rsplit("/", 1)[-1] if out.kind != "vhd" else "vhd")
        if derived in taken:  # runOutputName must be unique (DI-02): name the second one after its kind
            item["runOutputName"] = derived = f"{derived}-{out.kind.lower()}"
        taken.add(derived)
        lines += _item(item, 2)
    return "\n".join(lines) + "\n"
