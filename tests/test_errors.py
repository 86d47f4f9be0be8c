"""One exception hierarchy (issue 15): every public exception aibtui defines derives from
compiler/errors.py's AibtuiError, so `except AibtuiError` catches what aibtui raises on purpose."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from aibtui.compiler.errors import AibtuiError

REPO = Path(__file__).resolve().parents[1]
BUILTIN_ROOTS = {"Exception", "BaseException", "ValueError", "RuntimeError", "OSError", "KeyError", "TypeError",
                 "LookupError", "AttributeError"}


def _exception_classes() -> list[tuple[str, str, list[str]]]:
    out = []
    for top in ("compiler", "aibtui"):
        for path in sorted((REPO / top).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    bases = [b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases]
                    out.append((path.relative_to(REPO).as_posix(), node.name, bases))
    return out


def test_no_public_exception_derives_from_a_builtin_directly() -> None:
    offenders = [f"{rel}: {name}({', '.join(bases)})" for rel, name, bases in _exception_classes()
                 if not name.startswith("_") and set(bases) & BUILTIN_ROOTS and "AibtuiError" not in bases
                 and not (rel == "compiler/errors.py" and name == "AibtuiError")
                 and not (rel == "compiler/records.py" and name == "FrozenInstanceError")]  # mirrors dataclasses'
    assert not offenders, offenders


def test_the_known_exceptions_are_aibtui_errors() -> None:
    for module, name in (("aibtui.cli.main", "UsageError"), ("aibtui.config", "ConfigError"),
                         ("aibtui.arm.errors", "ArmError"), ("aibtui.arm.errors", "TransportError"),
                         ("aibtui.compiler.schema", "SchemaError"), ("aibtui.yamledit", "ConflictError"),
                         ("aibtui.service.runner", "StepFailed"), ("aibtui.onboarding.writer", "TargetExists")):
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, AibtuiError), f"{module}.{name}"
