"""Packaging: every package folder is installed, and its data files with it."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _config() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_folder_is_listed():
    cfg = _config()
    listed = set(cfg["packages"])
    mapping = cfg["package-dir"]
    found = set()
    for init in (REPO / "aibtui").rglob("__init__.py"):
        found.add(".".join(init.parent.relative_to(REPO).parts))
    for init in (REPO / "compiler").rglob("__init__.py"):
        found.add(".".join(("aibtui", *init.parent.relative_to(REPO).parts)))
    found = {p for p in found if "__pycache__" not in p}
    missing = found - listed
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    for pkg in listed:  # and nothing listed that does not exist
        folder = mapping.get(pkg) or pkg.replace(".", "/")
        if pkg.startswith("aibtui.compiler"):
            folder = mapping.get(pkg, "compiler/" + "/".join(pkg.split(".")[2:]))
        assert (REPO / folder).is_dir(), pkg


def test_data_files_are_declared():
    data = _config()["package-data"]
    for json_file in (REPO / "aibtui").rglob("*.json"):
        pkg = ".".join(json_file.parent.relative_to(REPO).parts)
        assert pkg in data and any(json_file.match(pattern) for pattern in data[pkg]), json_file
    assert (REPO / "profiles").glob("*.aib.yaml")
