"""Write the onboarding's files: the ``*.aib.yaml`` and the starter scripts its steps name."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aibtui.compiler.errors import AibtuiError
from aibtui.fsutil import write_if_changed

from .answers import Answers
from .recipes import stub_scripts
from .yamltext import render_yaml


class TargetExists(AibtuiError):
    """The file to write exists already (the onboarding never overwrites)."""


@dataclass
class Written:
    path: Path
    scripts: list[Path] = field(default_factory=list)


def write_project(folder: Path, answers: Answers, *, overwrite: bool = False) -> Written:
    path = folder / answers.file_name
    if path.exists() and not overwrite:
        raise TargetExists(f"{path} exists already; choose another name")
    scripts = []
    for rel, body in stub_scripts(answers.steps, answers.os).items():
        target = folder / rel
        if not target.exists():
            write_if_changed(target, body)
            scripts.append(target)
    write_if_changed(path, render_yaml(answers))
    return Written(path, scripts)
