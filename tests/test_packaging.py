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


def _package_folders() -> dict[str, Path]:
    cfg = _config()
    mapping = cfg["package-dir"]
    out = {}
    for pkg in cfg["packages"]:
        folder = mapping.get(pkg) or pkg.replace(".", "/")
        if pkg.startswith("aibtui.compiler.") and pkg not in mapping:
            folder = "compiler/" + "/".join(pkg.split(".")[2:])
        out[pkg] = REPO / folder
    return out


def test_data_files_are_declared():
    """Every non-Python file in a package folder (schemas, profiles, styles, the catalog) is installed."""
    data = _config()["package-data"]
    checked = 0
    for pkg, folder in _package_folders().items():
        for path in folder.rglob("*"):
            if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            owner = ".".join((pkg, *path.parent.relative_to(folder).parts))
            if owner != pkg and owner in _package_folders():  # a sub-package's file is its own data
                continue
            rel = path.relative_to(folder).as_posix()
            assert any(Path(rel).match(pattern) for pattern in data.get(pkg, [])), \
                f"{path.relative_to(REPO)} is not in [tool.setuptools.package-data] \"{pkg}\""
            checked += 1
    profiles = list((REPO / "profiles").glob("*.aib.yaml"))
    assert profiles and checked >= len(profiles)  # the walk really saw the data files
