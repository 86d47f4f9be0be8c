"""Every example compiles cleanly and its output is valid for the official ARM schema of its
apiVersion; the examples' Makefile builds them all and is incremental; every built-in profile loads
and compiles when a minimal file extends it.

The ARM schemas are the published ones (compiler/schemas/), read with the `jsonschema` library
directly, independent of the compiler's own checker. Two adjustments, both from
compiler/schemas/NOTES.md: a union's base that sits in an `allOf` beside a `oneOf` is opened (its
`additionalProperties: false` dropped), and the external `expression` definition is served from a
local `referencing` registry. Nothing here reaches the network.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from testdata import rest_examples

from aibtui.compiler import CompileOptions, compile_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PROFILES = ROOT / "profiles"
SCHEMAS = ROOT / "compiler" / "schemas"

EXAMPLE_FILES = sorted(EXAMPLES.glob("*/*.aib.yaml"))
PROFILE_FILES = sorted(PROFILES.glob("*.aib.yaml"))

# Warnings an example is allowed to produce, each with the reason (the example's comments say it too).
EXPECTED_WARNINGS: dict[str, set[str]] = {}

IDENTITY = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-imaging/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/id-aib")
GALLERY_IMAGE = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-imaging/providers/"
                 "Microsoft.Compute/galleries/galimages/images/test")

EXPRESSION_URI = "https://schema.management.azure.com/schemas/common/definitions.json"
_EXPRESSION_DOC = {"definitions": {"expression": {"type": "string", "pattern": r"^\[(.|\n)*\]$"}}}


# -- the official ARM schema, read as NOTES.md says ---------------------------------------------

def _open_union_bases(node: Any) -> None:
    """Drop ``additionalProperties: false`` from a base that sits in an ``allOf`` beside a ``oneOf``."""
    if isinstance(node, dict):
        all_of = node.get("allOf")
        if isinstance(all_of, list) and any(isinstance(m, dict) and "oneOf" in m for m in all_of):
            for member in all_of:
                if isinstance(member, dict) and "oneOf" not in member \
                        and member.get("additionalProperties") is False:
                    del member["additionalProperties"]
        for value in node.values():
            _open_union_bases(value)
    elif isinstance(node, list):
        for value in node:
            _open_union_bases(value)


_VALIDATORS: dict[str, jsonschema.Draft7Validator] = {}


def arm_validator(api_version: str) -> jsonschema.Draft7Validator:
    if api_version not in _VALIDATORS:
        path = SCHEMAS / f"{api_version}.json"
        assert path.is_file(), f"no official schema for apiVersion {api_version}"
        doc = json.loads(path.read_text(encoding="utf-8"))
        uri = str(doc.get("id", f"urn:aib:{api_version}")).rstrip("#")
        doc = copy.deepcopy(doc)
        doc.pop("id", None)
        doc.pop("$schema", None)
        _open_union_bases(doc)
        registry: Registry = Registry().with_resources([
            (uri, Resource.from_contents(doc, default_specification=DRAFT7)),
            (EXPRESSION_URI, Resource.from_contents(_EXPRESSION_DOC, default_specification=DRAFT7)),
        ])
        root = {"$ref": f"{uri}#/resourceDefinitions/imageTemplates"}
        _VALIDATORS[api_version] = jsonschema.Draft7Validator(root, registry=registry)
    return _VALIDATORS[api_version]


def arm_errors(document: dict[str, Any]) -> list[str]:
    validator = arm_validator(document["apiVersion"])
    out = []
    for err in validator.iter_errors(document):
        detail = "; ".join(sorted({c.message[:160] for c in (err.context or [])}))[:600]
        out.append(f"{'/'.join(map(str, err.absolute_path))}: {err.message[:300]} {detail}")
    return out


def _diags(res: Any, severity: str) -> list[Any]:
    return [d for d in res.diagnostics if getattr(d.severity, "value", d.severity) == severity]


def _show(diags: list[Any]) -> str:
    return "\n".join(str(d) for d in diags)


# -- examples -------------------------------------------------------------------------------------

def test_there_are_at_least_six_examples() -> None:
    assert len(EXAMPLE_FILES) >= 6
    for path in EXAMPLE_FILES:  # one dialect file per example folder: the Makefile names out/ by folder
        assert [p.name for p in path.parent.glob("*.aib.yaml")] == [path.name]


@pytest.fixture(scope="module")
def compiled() -> dict[str, Any]:
    return {str(p.relative_to(EXAMPLES)): compile_file(p, CompileOptions()) for p in EXAMPLE_FILES}


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.parent.name)
def test_example_compiles_without_errors_or_warnings(path: Path, compiled: dict[str, Any]) -> None:
    res = compiled[str(path.relative_to(EXAMPLES))]
    assert res.ok, _show(res.diagnostics)
    assert res.text is not None and res.text.endswith("\n")
    assert res.document is not None and json.loads(res.text) == res.document
    warnings = {d.code for d in _diags(res, "warning")}
    assert warnings <= EXPECTED_WARNINGS.get(path.parent.name, set()), _show(_diags(res, "warning"))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.parent.name)
def test_example_output_is_valid_for_the_official_schema(path: Path, compiled: dict[str, Any]) -> None:
    res = compiled[str(path.relative_to(EXAMPLES))]
    assert res.document is not None, _show(res.diagnostics)
    assert res.document["type"] == "Microsoft.VirtualMachineImages/imageTemplates"
    assert arm_errors(res.document) == []


@pytest.mark.parametrize("fmt", ["arm", "body"])
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.parent.name)
def test_example_compiles_in_every_output_format(path: Path, fmt: str) -> None:
    res = compile_file(path, CompileOptions(format=fmt))
    assert res.ok, _show(res.diagnostics)
    assert res.document is not None
    if fmt == "arm":
        [resource] = res.document["resources"]
        assert arm_errors(resource) == []
    else:
        assert "properties" in res.document and "type" not in res.document


def test_examples_cover_the_dialect(compiled: dict[str, Any]) -> None:
    """Together the examples use every source, customizer and distribution type, and the features."""
    docs = [r.document for r in compiled.values() if r.document is not None]
    assert len(docs) == len(EXAMPLE_FILES)
    props = [d["properties"] for d in docs]
    assert {p["source"]["type"] for p in props} >= {"PlatformImage", "ManagedImage", "SharedImageVersion"}
    customizers = {s["type"] for p in props for s in p.get("customize", [])}
    assert customizers >= {"Shell", "PowerShell", "File", "WindowsRestart", "WindowsUpdate"}
    targets = {t["type"] for p in props for t in p["distribute"]}
    assert targets >= {"ManagedImage", "SharedImage", "VHD"}
    assert any(t.get("targetRegions") or t.get("replicationRegions") for p in props for t in p["distribute"])
    assert any(p.get("vmProfile", {}).get("vnetConfig", {}).get("subnetId") for p in props)
    assert any(p.get("validate", {}).get("inVMValidations") for p in props)
    assert any(s.get("sha256Checksum") and s.get("scriptUri") for p in props for s in p.get("customize", []))
    assert {d["apiVersion"] for d in docs} >= {"2020-02-14", "2024-02-01"}
    sources = [p.read_text(encoding="utf-8") for p in EXAMPLE_FILES]
    assert any(re.search(r"^extends:", s, re.M) for s in sources)
    assert any(re.search(r"^include:", s, re.M) for s in sources)
    assert any(re.search(r"^vars:", s, re.M) and "{{" in s for s in sources)
    assert any("script:" in s for s in sources) and any("local:" in s for s in sources)
    linux = [p for p in props if any(s["type"] == "Shell" for s in p.get("customize", []))]
    windows = [p for p in props if any(s["type"].startswith("Windows") for s in p.get("customize", []))]
    assert linux and windows


# -- the Makefile ---------------------------------------------------------------------------------

def _make_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("MAKEFLAGS", None)
    env.pop("AIBTUI_PROFILE_PATH", None)
    return env


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make (apt-get install make; .ci/run installs it)")
def test_makefile_builds_every_example_and_is_incremental(tmp_path: Path) -> None:
    if not (Path(sys.executable).parent / "aibtui").exists():
        pytest.skip("the aibtui console script is not installed beside this Python")
    work = tmp_path / "examples"
    shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("out"))
    env = _make_env()

    first = subprocess.run(["make", "-C", str(work)], capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    for path in EXAMPLE_FILES:
        out = work / "out" / f"{path.parent.name}.json"
        assert out.is_file(), out
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert doc["type"] == "Microsoft.VirtualMachineImages/imageTemplates"
        depfile = out.with_name(out.name + ".d")
        assert depfile.is_file(), depfile
        assert path.name in depfile.read_text(encoding="utf-8")

    second = subprocess.run(["make", "-C", str(work)], capture_output=True, text=True, env=env, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "aibtui compile" not in second.stdout, second.stdout
    question = subprocess.run(["make", "-q", "-C", str(work)], capture_output=True, text=True, env=env)
    assert question.returncode == 0, "make -q says something is out of date"

    # touching a fragment rebuilds the example that includes it, and only that one
    fragment = work / "ubuntu-web" / "fragments" / "hardening.aib.yaml"
    st = fragment.stat()
    os.utime(fragment, (st.st_atime + 5, max(st.st_mtime, (work / "out" / "ubuntu-web.json").stat().st_mtime) + 5))
    third = subprocess.run(["make", "-n", "-C", str(work)], capture_output=True, text=True, env=env)
    assert third.returncode == 0, third.stderr
    assert third.stdout.count("aibtui compile") == 1 and "ubuntu-web" in third.stdout, third.stdout

    check = subprocess.run(["make", "-C", str(work), "check"], capture_output=True, text=True, env=env,
                           timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    clean = subprocess.run(["make", "-C", str(work), "clean"], capture_output=True, text=True, env=env)
    assert clean.returncode == 0 and not (work / "out").exists()


# -- profiles -------------------------------------------------------------------------------------

REQUIRED_PROFILES = {
    "ubuntu-20.04", "ubuntu-20.04-gen2", "ubuntu-22.04", "ubuntu-22.04-gen2", "ubuntu-24.04",
    "ubuntu-24.04-gen2", "rhel-8", "rhel-9", "windows-server-2019", "windows-server-2022",
    "windows-server-2025", "windows-10-avd", "windows-11-avd", "windows-update-restart",
    "windows-defaults", "linux-apt-upgrade", "linux-cleanup",
}
_URN = re.compile(r"^[A-Za-z0-9][\w.-]*:[\w.-]+:[\w.-]+:latest$")
_MUST_NOT_SET = ("name", "location", "identity", "distribute")


def _profile_name(path: Path) -> str:
    return path.name.removesuffix(".aib.yaml")


def _load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), path
    return doc


def test_required_profiles_exist() -> None:
    assert REQUIRED_PROFILES <= {_profile_name(p) for p in PROFILE_FILES}


@pytest.mark.parametrize("path", PROFILE_FILES, ids=_profile_name)
def test_profile_shape(path: Path) -> None:
    doc = _load(path)
    assert isinstance(doc.get("description"), str) and doc["description"].strip()
    assert doc.get("os") in ("linux", "windows")
    for key in _MUST_NOT_SET:
        assert key not in doc, f"a profile must not set {key}: the user's file does"
    if "source" in doc:  # an image profile
        assert doc.get("generation") in ("V1", "V2")
        assert _URN.match(doc["source"]), doc["source"]
        gen2_sku = re.search(r"(gen2|g2|gensecond|-avd)", doc["source"].split(":")[2]) is not None \
            or doc["source"] == "Canonical:ubuntu-24_04-lts:server:latest"
        assert (doc["generation"] == "V2") == gen2_sku, "generation does not match the SKU"


def _minimal(name: str, doc: dict[str, Any]) -> dict[str, Any]:
    extends: list[str] = [name]
    if "source" not in doc:  # a step profile: put it on top of an image profile of its OS
        extends.insert(0, "ubuntu-22.04-gen2" if doc.get("os") == "linux" else "windows-server-2022")
    return {
        "extends": extends,
        "name": f"test-{name.replace('.', '-')}",
        "location": "westus2",
        "identity": IDENTITY,
        "distribute": [{"gallery": GALLERY_IMAGE, "regions": ["westus2"]}],
    }


@pytest.mark.parametrize("path", PROFILE_FILES, ids=_profile_name)
def test_profile_compiles_under_a_minimal_file(path: Path, tmp_path: Path) -> None:
    name = _profile_name(path)
    doc = _load(path)
    src = tmp_path / "image.aib.yaml"
    src.write_text(yaml.safe_dump(_minimal(name, doc), sort_keys=False), encoding="utf-8")
    res = compile_file(src, CompileOptions())
    assert res.ok, _show(res.diagnostics)
    assert _diags(res, "warning") == [], _show(_diags(res, "warning"))
    assert res.document is not None
    assert arm_errors(res.document) == []
    props = res.document["properties"]
    if "source" in doc:
        publisher, offer, sku, version = doc["source"].split(":")
        assert props["source"] == {"type": "PlatformImage", "publisher": publisher, "offer": offer,
                                   "sku": sku, "version": version}
    assert any(str(path.resolve()) == str(Path(dep).resolve()) for dep in res.dependencies), res.dependencies


def test_windows_update_profile_restarts_before_and_after() -> None:
    steps = _load(PROFILES / "windows-update-restart.aib.yaml")["customize"]
    kinds = [next(k for k in ("windowsRestart", "windowsUpdate") if k in s) for s in steps]
    assert kinds == ["windowsRestart", "windowsUpdate", "windowsRestart"]  # WU-02


def test_windows_defaults_timeout_is_at_least_an_hour(tmp_path: Path) -> None:
    src = tmp_path / "image.aib.yaml"
    src.write_text(yaml.safe_dump(_minimal("windows-defaults", _load(PROFILES / "windows-defaults.aib.yaml"))),
                   encoding="utf-8")
    res = compile_file(src, CompileOptions())
    assert res.ok, _show(res.diagnostics)
    assert res.document is not None
    assert res.document["properties"]["buildTimeoutInMinutes"] >= 60  # B-03


# -- the validator above is not vacuous ------------------------------------------------------------

@pytest.mark.parametrize("path", rest_examples(), ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_microsoft_rest_examples_pass_the_adjusted_schema(path: Path) -> None:
    params = json.loads(path.read_text(encoding="utf-8"))["parameters"]
    api_version = params["api-version"]
    if not (SCHEMAS / f"{api_version}.json").is_file():
        pytest.skip(f"no schema for {api_version}")
    body = params.get("parameters") or params.get("imageTemplate")
    doc = {"type": "Microsoft.VirtualMachineImages/imageTemplates", "apiVersion": api_version,
           "name": params.get("imageTemplateName", "t"), **body}
    assert arm_errors(doc) == []


def test_the_adjusted_schema_still_rejects_bad_templates() -> None:
    base = {
        "type": "Microsoft.VirtualMachineImages/imageTemplates", "apiVersion": "2024-02-01", "name": "t",
        "location": "westus2",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}},
        "properties": {
            "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                       "sku": "server", "version": "latest"},
            "customize": [{"type": "Shell", "name": "a", "inline": ["echo a"]}],
            "distribute": [{"type": "VHD", "runOutputName": "vhd"}],
        },
    }
    assert arm_errors(base) == []
    for mutate in (
        lambda d: d["properties"].update(buildTimeoutInMinutes=1000),
        lambda d: d["properties"].pop("source"),
        lambda d: d["properties"]["customize"][0].update(type="Bash"),
        lambda d: d["properties"]["distribute"][0].pop("runOutputName"),
        lambda d: d.update(name="bad name!"),
        lambda d: d.update(apiVersion="2024-02-01") or d["properties"]["source"].update(type="Nope"),
    ):
        bad = copy.deepcopy(base)
        mutate(bad)
        assert arm_errors(bad) != [], bad
