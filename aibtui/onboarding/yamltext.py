"""Answers -> the text of a commented ``*.aib.yaml``.

Every section carries the comment lines that teach the format; the text itself is written by the
project's one YAML writer (``aibtui.compiler.yamlwriter``), the same one ``aibtui import`` and the
TUI editor use, so a template looks the same whoever wrote it, and the bytes are the same whichever
front end (TUI or ``aibtui init``) collected the answers.
"""

from __future__ import annotations

from typing import Any

from aibtui.compiler.yamlwriter import Described, Flow, dump

from .answers import Answers, Output


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
    "managedImage": "A managed image in your resource group (quick to create VMs from in one region).",
    "gallery": "A version of a gallery image definition, replicated to the regions listed.",
    "vhd": "A VHD in the staging storage account; `aibtui outputs` gives its URI.",
}


def render_yaml(a: Answers) -> str:
    """The commented ``*.aib.yaml`` for these answers (compiles as is; see tests/test_wizard.py)."""
    header = [
        f"{a.file_name}: an Azure Image Builder template in the aibtui dialect (docs/dialect.md).",
        f"  aibtui compile {a.file_name}    -> the image-template JSON",
        f"  aibtui build {a.file_name}      -> create the template, run it, watch it",
    ]
    doc: dict[str, Any] = {}
    extends: list[str] = []
    if a.profile:
        extends.append(a.profile)
        if a.os == "windows" and a.profile != "windows-defaults":
            extends.append("windows-defaults")
    if extends:
        doc["extends"] = Described(extends[0] if len(extends) == 1 else Flow(tuple(extends)), (
            "The base image: a built-in profile sets the source image, OS family and Hyper-V generation",
            "(`aibtui profiles` lists them).",
        ), blank=True)
    doc["name"] = Described(a.name, ("The template's resource name in Azure: letters, digits, '-', '_', '.'.",),
                            blank=True)
    doc["location"] = Described(a.location, ("The region AIB builds in; outputs default to it.",))
    doc["identity"] = Described(a.identity, (
        "The user-assigned identity AIB builds as: it needs rights on the output's resource group.",))
    if not a.profile and a.source:
        doc["source"] = Described(a.source, (
            "The base image: PUBLISHER:OFFER:SKU:VERSION, a managed image id or a gallery version id.",))
        if a.os:
            doc["os"] = Described(a.os, ("The OS family, for the OS-specific checks (a profile would set it).",))
        if a.generation:
            doc["generation"] = a.generation
    build: dict[str, Any] = {}
    if a.vm_size:
        build["vmSize"] = a.vm_size
    if a.timeout:
        build["timeout"] = a.timeout
    if build:
        doc["build"] = Described(build, ("The build VM's size and how long AIB may take before it gives up.",),
                                 blank=True)
    doc["customize"] = Described([dict(step) for step in a.steps], (
        "Steps run in this order on the build VM; each needs a unique name.",), blank=True)
    outputs: list[Any] = []
    taken: set[str] = set()
    for out in a.outputs:
        item = _output(out)
        derived = out.name or (out.target.rstrip("/").rsplit("/", 1)[-1] if out.kind != "vhd" else "vhd")
        if derived in taken:  # runOutputName must be unique (DI-02): name the second one after its kind
            item["runOutputName"] = derived = f"{derived}-{out.kind.lower()}"
        taken.add(derived)
        outputs.append(Described(item, (_OUTPUT_COMMENT[out.kind],)))
    doc["distribute"] = Described(outputs, ("Where the finished image goes (one or more targets).",), blank=True)
    return dump(doc, header)
