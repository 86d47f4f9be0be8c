"""The dialect's JSON Schema (aibtui schema): a valid draft-07 schema that accepts every example,
fragment and built-in profile, and rejects obvious mistakes."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from aibtui.compiler.dialect_schema import dialect_json_schema

ROOT = Path(__file__).resolve().parents[1]
DIALECT_FILES = sorted((ROOT / "examples").rglob("*.aib.yaml")) + sorted((ROOT / "profiles").glob("*.aib.yaml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = dialect_json_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _errors(validator: jsonschema.Draft7Validator, doc: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def test_is_a_valid_draft07_schema() -> None:
    schema = dialect_json_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)


def test_every_top_level_key_of_the_spec_has_a_description() -> None:
    props = dialect_json_schema()["properties"]
    spec_keys = ["description", "apiVersion", "extends", "include", "vars", "name", "location", "tags",
                 "identity", "dependsOn", "os", "generation", "source", "build", "customize", "validate",
                 "distribute", "autoRun", "errorHandling", "optimize", "properties",
                 "buildTimeoutInMinutes", "vmProfile", "stagingResourceGroup", "managedResourceTags"]
    for key in spec_keys:
        assert key in props, key
        assert props[key].get("description"), key


def test_is_deterministic_json() -> None:
    a = json.dumps(dialect_json_schema(), sort_keys=True)
    b = json.dumps(dialect_json_schema(), sort_keys=True)
    assert a == b


def test_there_are_files_to_check() -> None:
    assert any("examples" in p.parts for p in DIALECT_FILES)
    assert any("profiles" in p.parts for p in DIALECT_FILES)


@pytest.mark.parametrize("path", DIALECT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_accepts_examples_and_profiles(validator: jsonschema.Draft7Validator, path: Path) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert _errors(validator, doc) == []


GOOD: dict[str, Any] = {
    "extends": "ubuntu-22.04-gen2",
    "vars": {"disk": 64},
    "name": "img",
    "location": "westus2",
    "identity": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                "Microsoft.ManagedIdentity/userAssignedIdentities/aib",
    "build": {"osDiskSizeGB": "{{ disk }}", "timeout": "1h30m"},
    "customize": [
        {"name": "a", "shell": "echo a"},
        {"name": "b", "powershell": ["Write-Output b"], "runElevated": True},
        {"name": "c", "shell": {"uri": "https://example.com/c.sh", "local": "c.sh"}},
        {"name": "d", "file": {"from": "https://example.com/d", "to": "/tmp/d"}},
        {"name": "e", "windowsRestart": True},
        {"name": "f", "windowsUpdate": {"updateLimit": 10}},
        {"name": "g", "type": "Shell", "inline": ["echo g"]},
        {"name": "h", "remove": True},
    ],
    "distribute": [
        {"gallery": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i",
         "regions": ["westus2", {"name": "eastus", "replicas": 2}]},
        {"vhd": True},
        {"type": "ManagedImage", "runOutputName": "mi", "imageId": "/subscriptions/0/x", "location": "westus2"},
    ],
}


def test_accepts_a_document_using_every_step_form(validator: jsonschema.Draft7Validator) -> None:
    assert _errors(validator, GOOD) == []


def _bad(mutate: Any) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    mutate(doc)
    return doc


BAD = {
    "unknown top-level key": lambda d: d.update(custmize=[]),
    "step with no kind": lambda d: d["customize"].append({"name": "x"}),
    "step with two kinds": lambda d: d["customize"].append({"name": "x", "shell": "a", "powershell": "b"}),
    "step without a name": lambda d: d["customize"].append({"shell": "echo"}),
    "unknown key in a step": lambda d: d["customize"].append({"name": "x", "shell": "a", "sudo": True}),
    "unknown official step type": lambda d: d["customize"].append({"name": "x", "type": "Bash"}),
    "bad os": lambda d: d.update(os="macos"),
    "bad generation": lambda d: d.update(generation="gen2"),
    "source not a URN nor an id": lambda d: d.update(source="ubuntu 22.04"),
    "unknown build key": lambda d: d.update(build={"vmsize": "Standard_D2s_v3"}),
    "timeout too long": lambda d: d.update(build={"timeout": 1000}),
    "bad duration": lambda d: d.update(build={"timeout": "ninety minutes"}),
    "target with no kind": lambda d: d["distribute"].append({"regions": ["westus2"]}),
    "target with two kinds": lambda d: d["distribute"].append({"vhd": True, "managedImage": "/subscriptions/0/x"}),
    "bad apiVersion": lambda d: d.update(apiVersion="2019-05-01-preview"),
    "two identities": lambda d: d.update(identity=["/subscriptions/0/a", "/subscriptions/0/b"]),
    "bad sha256": lambda d: d["customize"].append({"name": "x", "shell": {"uri": "u", "sha256": "abc"}}),
    "windowsRestart false": lambda d: d["customize"].append({"name": "x", "windowsRestart": False}),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_rejects_obvious_mistakes(validator: jsonschema.Draft7Validator, case: str) -> None:
    assert _errors(validator, _bad(BAD[case])) != [], case


def test_schema_command_prints_deterministic_json(tmp_path: Path) -> None:
    from aibtui.cli import schema_cmd

    text = schema_cmd.render()
    assert text.endswith("}\n")
    assert json.loads(text) == json.loads(json.dumps(dialect_json_schema()))
    out = tmp_path / "aib.schema.json"
    proc = subprocess.run([sys.executable, "-m", "aibtui", "schema", "-o", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8") == text
    proc = subprocess.run([sys.executable, "-m", "aibtui", "schema"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == text


def test_schema_module_imports_only_the_standard_library() -> None:
    code = ("import sys; before = set(sys.modules); import aibtui.compiler.dialect_schema; "
            "import aibtui.cli.schema_cmd; new = set(sys.modules) - before; "
            "bad = sorted(m for m in new if m.split('.')[0] in ('yaml', 'jinja2', 'jsonschema', 'textual', "
            "'azure', 'rich')); print(','.join(bad))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_builtin_profile_completions_match_the_files() -> None:
    from aibtui.compiler.dialect_schema import BUILTIN_PROFILES

    files = sorted(p.name.removesuffix(".aib.yaml") for p in (ROOT / "profiles").glob("*.aib.yaml"))
    assert sorted(BUILTIN_PROFILES) == files


def test_api_versions_match_the_compiler() -> None:
    from aibtui.compiler.dialect_schema import STABLE_API_VERSIONS
    from aibtui.compiler.model import STABLE_API_VERSIONS as COMPILER_VERSIONS

    assert STABLE_API_VERSIONS == COMPILER_VERSIONS
    assert sorted(p.stem for p in (ROOT / "compiler" / "schemas").glob("*.json")) == list(STABLE_API_VERSIONS)
