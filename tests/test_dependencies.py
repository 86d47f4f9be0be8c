"""Declared dependencies match what the code imports (both ways), and no code imports a private module of
another package (the one documented exception: azure-cli-core's Profile)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("aibtui", "compiler", "profiles")
FIRST_PARTY = {"aibtui", "compiler"}
# azure-cli-core keeps Profile only in this private module (no public export); see aibtui/arm/azure.py
ALLOWED_PRIVATE = {"azure.cli.core._profile"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return {_norm(re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0]) for d in deps}


def _imports() -> dict[str, list[str]]:
    """Third-party module names imported by the product code -> the files importing them."""
    found: dict[str, list[str]] = {}
    for root in SOURCES:
        for path in sorted((REPO / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                        found.setdefault(name, []).append(str(path.relative_to(REPO)))
    return found


def _owners() -> dict[str, str]:
    """Installed file path (``pkg/sub/__init__.py``, ``mod.py``) -> its distribution (normalised)."""
    owners: dict[str, str] = {}
    for dist in distributions():
        for f in dist.files or ():
            if f.suffix == ".py":
                owners.setdefault(str(f).replace("\\", "/"), _norm(dist.metadata["Name"]))
    return owners


def _distribution(module: str, owners: dict[str, str]) -> str | None:
    """The distribution that installs ``module``: its own file, else the nearest package above it
    (namespace packages such as ``azure`` are shared, so the deepest match decides)."""
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        base = "/".join(parts[:i])
        for candidate in (f"{base}.py", f"{base}/__init__.py"):
            if candidate in owners:
                return owners[candidate]
    return None


def test_every_imported_package_is_declared_and_every_declared_one_is_used() -> None:
    owners, declared = _owners(), _declared()
    imports = _imports()
    assert {"yaml", "textual", "jinja2"} <= {m.split(".")[0] for m in imports}  # the scan sees the code
    used: dict[str, str] = {}
    for module, files in imports.items():
        dist = _distribution(module, owners)
        assert dist is not None, f"{module} (imported by {files[0]}) is not installed: is it a dependency?"
        used.setdefault(dist, f"{module} in {files[0]}")
    undeclared = {d: where for d, where in used.items() if d not in declared}
    assert not undeclared, f"imported but not in [project] dependencies of pyproject.toml: {undeclared}"
    unused = declared - set(used)
    assert not unused, f"declared in pyproject.toml but never imported by aibtui/ or compiler/: {sorted(unused)}"


def test_no_private_module_of_another_package_is_imported() -> None:
    private = {m: files for m, files in _imports().items()
               if any(p.startswith("_") for p in m.split(".")[1:]) and m not in ALLOWED_PRIVATE}
    assert not private, f"imports of private modules (use the public API): {private}"
    assert ALLOWED_PRIVATE <= set(_imports()), "the documented exception is gone: remove it from ALLOWED_PRIVATE"
