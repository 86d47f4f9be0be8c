"""The official-schema check: both engines, spans, messages, apiVersion gating, speed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from testdata import REST_SPECS, rest_examples

from aibtui.compiler import schema
from aibtui.compiler.codes import CODES
from aibtui.compiler.diagnostics import Diagnostic, DiagnosticBag
from aibtui.compiler.model import RESOURCE_TYPE, STABLE_API_VERSIONS, TemplateModel, model_from_node
from aibtui.compiler.yamlload import load_yaml

SCHEMA_DIR = Path(schema.__file__).parent / "schemas"
ENGINES = ("builtin", "jsonschema")


def make_model(text: str, api_version: str = "2024-02-01", file: str = "t.yaml") -> TemplateModel:
    bag = DiagnosticBag()
    node = load_yaml(textwrap.dedent(text), file, bag)
    assert node is not None and not bag.items, [d.format_text() for d in bag]
    return model_from_node(node, file, api_version=api_version)


def check(text: str, api_version: str = "2024-02-01", engine: str = "builtin") -> list[Diagnostic]:
    bag = DiagnosticBag()
    schema.validate_schema(make_model(text, api_version), bag, engine=engine)
    return bag.items


def where(d: Diagnostic) -> tuple[str, int, int]:
    assert d.span is not None
    return d.code, d.span.line, d.span.col


# A valid template in YAML; the line numbers of the mutation tests below count from `type:` = line 1.
TEMPLATE = """\
type: Microsoft.VirtualMachineImages/imageTemplates
apiVersion: '{v}'
name: web
location: westus2
identity:
  type: UserAssigned
  userAssignedIdentities:
    /subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aib: {{}}
properties:
  buildTimeoutInMinutes: {timeout}
  vmProfile:
    vmSize: Standard_D2s_v3
    osDiskSizeGB: {disk}
  source:
    type: PlatformImage
    publisher: Canonical
    offer: ubuntu-24_04-lts
    sku: {sku}
    version: latest
  customize:
    - name: hello
      type: {step_type}
      inline: [echo hello]{step_extra}
  distribute:
    - {target}
"""
GALLERY = "{type: SharedImage, runOutputName: web, galleryImageId: /subscriptions/0/g/images/web}"


def template(v: str = "2024-02-01", *, timeout: Any = 90, disk: Any = 64, sku: str = "server",
             step_type: str = "Shell", step_extra: str = "", target: str = GALLERY) -> str:
    return TEMPLATE.format(v=v, timeout=timeout, disk=disk, sku=sku, step_type=step_type,
                           step_extra=step_extra, target=target)


# -- the REST examples validate under both engines ---------------------------------------------------

def _example_text(path: Path) -> tuple[str, str]:
    """The PUT body of a REST example, in resource shape, as JSON text, and its apiVersion."""
    params = json.loads(path.read_text(encoding="utf-8"))["parameters"]
    version = params.get("api-version") or path.parent.parent.name
    doc = {"type": RESOURCE_TYPE, "apiVersion": version, "name": params["imageTemplateName"],
           **params["parameters"]}
    return json.dumps(doc, indent=2), version


def test_rest_examples_are_found() -> None:
    found = rest_examples()
    assert len(found) >= 4, f"no CreateImageTemplate examples under {REST_SPECS}"
    assert {p.parent.parent.name for p in found} >= {"2020-02-14", "2025-10-01"}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", rest_examples(), ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_rest_example_validates(path: Path, engine: str) -> None:
    text, version = _example_text(path)
    model = make_model(text, version, file=path.name)
    assert model.doc["properties"]["customize"], "the example lost its steps"
    bag = DiagnosticBag()
    schema.validate_schema(model, bag, engine=engine)
    assert [d.format_text() for d in bag] == []


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("version", STABLE_API_VERSIONS)
def test_the_base_template_per_version(version: str, engine: str) -> None:
    diags = check(template(version), version, engine)
    if version <= "2022-02-14":  # replicationRegions was required until targetRegions came
        assert [(d.code, d.message) for d in diags] == [
            ("AIB506", "a SharedImage distribute target needs 'replicationRegions'")
        ] if engine == "builtin" else [d.code for d in diags] == ["AIB506"]
    else:
        assert diags == []


# -- mutations: code, line:col, message -------------------------------------------------------------

def test_timeout_out_of_range() -> None:
    [d] = check(template(timeout=1000))
    assert where(d) == ("AIB503", 10, 26)
    assert d.message == "buildTimeoutInMinutes is 1000; the maximum is 960"
    assert d.rule == "B-02"
    [d] = check(template(timeout=-1))
    assert d.message == "buildTimeoutInMinutes is -1; the minimum is 0"


def test_wrong_type_integer() -> None:
    [d] = check(template(disk='"64"'))
    assert where(d) == ("AIB502", 13, 19)
    assert d.message == "osDiskSizeGB must be an integer, not a string"
    assert d.rule == "V-02"
    assert d.hint == "write 64 without quotes"


@pytest.mark.parametrize(("sku", "got", "quoted"), [("no", "a boolean", "false"), ("1.10", "a number", "1.1"),
                                                      ("2024-01-01", "a date", "2024-01-01")])
def test_wrong_type_string_hints_to_quote(sku: str, got: str, quoted: str) -> None:
    [d] = check(template(sku=sku))
    assert where(d) == ("AIB502", 18, 10)
    assert d.message == f"sku must be a string, not {got}"
    assert d.hint is not None and "quote" in d.hint and quoted in d.hint
    assert d.rule == "SRC-02"


def test_unknown_key_with_did_you_mean() -> None:
    [d] = check(template(step_extra="\n      sha256checksum: abc"))
    assert where(d) == ("AIB501", 24, 7)
    assert d.message == "unknown key 'sha256checksum' in a Shell customizer; did you mean 'sha256Checksum'?"
    assert d.rule == "SH-01"


def test_unknown_top_level_key() -> None:
    [d] = check(template() + "propertes: {}\n")
    assert where(d) == ("AIB501", 26, 1)
    assert "did you mean 'properties'?" in d.message


def test_bad_enum_lists_allowed_values() -> None:
    target = "{type: SharedImage, runOutputName: web, galleryImageId: /g, storageAccountType: Standard_GRS}"
    [d] = check(template(target=target))
    assert where(d) == ("AIB504", 25, 87)
    assert "Standard_LRS, Standard_ZRS, Premium_LRS" in d.message
    assert d.rule == "DI-04"


def test_unknown_step_type_suggests_the_right_case() -> None:
    [d] = check(template(step_type="shell"))
    assert where(d) == ("AIB507", 22, 13)
    assert d.message.startswith("unknown customizer type 'shell' (valid: File, PowerShell, Shell,")
    assert d.message.endswith("did you mean 'Shell'?")


def test_unknown_step_type_reports_only_that() -> None:
    # no "is not valid under any of the given schemas" noise, and no errors from other variants
    for engine in ENGINES:
        diags = check(template(step_type="Shel"), engine=engine)
        assert [(d.span.line, d.span.col) for d in diags if d.span] == [(22, 13)], engine


def test_missing_required_key_at_the_object() -> None:
    [d] = check(template(target="{type: SharedImage, runOutputName: web}"))
    assert where(d) == ("AIB506", 25, 7)
    assert d.message == "a SharedImage distribute target needs 'galleryImageId'"
    assert d.rule == "DI-04"


def test_missing_discriminator() -> None:
    [d] = check(template(target="{runOutputName: web, galleryImageId: /g}"))
    assert where(d) == ("AIB506", 25, 7)
    assert d.message == "a distribute target needs 'type' (one of ManagedImage, SharedImage, VHD)"


def test_run_output_name_pattern() -> None:
    [d] = check(template(target="{type: VHD, runOutputName: 'my output'}"))
    assert where(d) == ("AIB505", 25, 34)
    assert d.rule == "DI-02"
    assert "'my output'" in d.message


@pytest.mark.parametrize("engine", ENGINES)
def test_expressions_are_accepted(engine: str) -> None:
    text = template(timeout="\"[parameters('timeout')]\"", disk="\"[variables('disk')]\"")
    text = text.replace("inline: [echo hello]", "inline: \"[parameters('commands')]\"")
    text = text.replace("  distribute:\n    - " + GALLERY, "  distribute: \"[parameters('targets')]\"")
    assert "targets" in text and "commands" in text
    assert check(text, engine=engine) == []
    # an escaped bracket is a literal string, not an expression
    [d] = check(template(timeout="\"[[not an expression]\""), engine=engine)
    assert d.code == "AIB502"


def test_type_and_api_version_of_the_resource() -> None:
    text = template().replace("imageTemplates\n", "imageTemplate\n", 1).replace("'2024-02-01'", "'2022-07-01'")
    diags = sorted(check(text), key=Diagnostic.sort_key)
    assert [(d.code, d.rule, d.span.line if d.span else 0) for d in diags] == [
        ("AIB504", "S-01", 1), ("AIB504", "S-02", 2)]
    assert "did you mean 'Microsoft.VirtualMachineImages/imageTemplates'?" in diags[0].message


def test_identity_errors_name_rule_i04() -> None:
    text = template().replace("type: UserAssigned", "type: SystemAssigned")
    [d] = check(text)
    assert where(d) == ("AIB504", 6, 9)
    assert d.rule == "I-04"
    assert "UserAssigned, None" in d.message


def test_problems_are_reported_once() -> None:
    text = template(step_extra="\n      scriptUri: 5")
    for engine in ENGINES:
        diags = check(text, engine=engine)
        assert [where(d) for d in diags] == [("AIB502", 24, 18)], engine


# -- apiVersion gating ------------------------------------------------------------------------------

def test_target_regions_needs_a_newer_api_version() -> None:
    target = ("{type: SharedImage, runOutputName: web, galleryImageId: /g, replicationRegions: [westus2],"
              " targetRegions: [{name: eastus}]}")
    [d] = check(template("2020-02-14", target=target), "2020-02-14")
    assert where(d) == ("AIB508", 25, 98)
    assert d.message == "'targetRegions' needs apiVersion 2022-07-01 or later; this template uses 2020-02-14"
    assert d.hint is not None and "--api-version" in d.hint and "apiVersion:" in d.hint


def test_validate_needs_a_newer_api_version() -> None:
    text = template("2021-10-01").replace("  customize:", "  validate: {sourceValidationOnly: true}\n  customize:")
    diags = [d for d in check(text, "2021-10-01") if d.code != "AIB506"]  # 2021 still needs replicationRegions
    [d] = diags
    assert where(d) == ("AIB508", 20, 3)
    assert d.message == "'validate' needs apiVersion 2022-02-14 or later; this template uses 2021-10-01"


def test_a_step_type_that_a_later_version_added() -> None:
    text = template("2022-02-14").replace(
        "  customize:", "  validate: {inVMValidations: [{type: File, name: f, sourceUri: /x}]}\n  customize:")
    [d] = [d for d in check(text, "2022-02-14") if d.code != "AIB506"]  # replicationRegions
    assert where(d) == ("AIB508", 20, 39)
    assert d.message == "validator type 'File' needs apiVersion 2022-07-01 or later; this template uses 2022-02-14"


def test_removed_after_wording(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "_versions_with", lambda kind, loc, name: ("2020-02-14", "2021-10-01"))
    err = schema._Err("AIB501", ("properties", "oldKey"), "unknown", gate=("key", "ImageTemplateProperties",
                                                                              "oldKey"))
    gated = schema._gate_message(err, "2024-02-01")
    assert gated is not None and gated.code == "AIB509"
    assert gated.message == "'oldKey' was removed after apiVersion 2021-10-01; this template uses 2024-02-01"


@pytest.mark.parametrize("bad", ["2019-05-01-preview", "2024-01-01"])
def test_unknown_api_version(bad: str) -> None:
    model = make_model(template(bad), bad)
    for engine in ENGINES:
        bag = DiagnosticBag()
        schema.validate_schema(model, bag, engine=engine)
        [d] = bag.items
        assert where(d) == ("AIB510", 2, 13)
        assert d.rule == "S-02"
        assert all(v in d.message for v in STABLE_API_VERSIONS)


def test_unknown_engine() -> None:
    with pytest.raises(ValueError, match="engine"):
        schema.validate_schema(make_model(template()), DiagnosticBag(), engine="fast")


# -- helpers for other modules ----------------------------------------------------------------------

def test_property_names_and_first_version_with() -> None:
    props = schema.property_names("ImageTemplateProperties", "2024-02-01")
    assert {"source", "customize", "distribute", "validate", "autoRun", "buildTimeoutInMinutes"} <= props
    assert "validate" not in schema.property_names("ImageTemplateProperties", "2021-10-01")
    assert "additionalDataDisks" in schema.property_names("ImageTemplateProperties", "2025-10-01")
    assert schema.property_names("ImageTemplateDistributor[SharedImage]", "2024-02-01") >= {
        "type", "runOutputName", "artifactTags", "galleryImageId", "targetRegions", "versioning"}
    assert schema.property_names("NoSuchDefinition", "2024-02-01") == frozenset()
    assert schema.first_version_with("ImageTemplateProperties", "validate") == "2022-02-14"
    assert schema.first_version_with("ImageTemplateDistributor[SharedImage]", "targetRegions") == "2022-07-01"
    assert schema.first_version_with("ImageTemplateProperties", "source") == "2020-02-14"
    assert schema.first_version_with("ImageTemplateProperties", "nope") is None
    with pytest.raises(ValueError):
        schema.property_names("ImageTemplateProperties", "2019-01-01")


def test_every_code_is_registered() -> None:
    from aibtui.compiler.schema_codes import SCHEMA_CODES

    for code in SCHEMA_CODES:
        assert code in CODES and 500 <= int(code[3:]) <= 599
    source = Path(schema.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'\bC\.(AIB\d{3})\b', source))  # constants of compiler/code_ids.py
    assert used and used <= set(SCHEMA_CODES)


# -- the builtin engine implements every keyword the schema files use -------------------------------

def _keywords(node: Any, out: set[str]) -> None:
    """Every key in a schema position, found independently of the engine's own walker."""
    if isinstance(node, bool):
        return
    assert isinstance(node, dict), node
    for key, value in node.items():
        out.add(key)
        if key in ("properties", "definitions", "resourceDefinitions", "patternProperties"):
            for sub in value.values():
                _keywords(sub, out)
        elif key in ("allOf", "oneOf", "anyOf"):
            for sub in value:
                _keywords(sub, out)
        elif key in ("items", "additionalProperties", "not"):
            if isinstance(value, list):
                for sub in value:
                    _keywords(sub, out)
            else:
                _keywords(value, out)


@pytest.mark.parametrize("version", STABLE_API_VERSIONS)
def test_builtin_engine_supports_every_keyword_used(version: str) -> None:
    used: set[str] = set()
    _keywords(json.loads((SCHEMA_DIR / f"{version}.json").read_text(encoding="utf-8")), used)
    unsupported = used - schema.SUPPORTED_KEYWORDS - schema.ANNOTATION_KEYWORDS
    assert not unsupported, f"{version}.json uses keywords the builtin engine lacks: {sorted(unsupported)}"
    assert {"oneOf", "allOf", "const", "enum", "maximum", "pattern"} <= used
    schema._compiled(version)  # and compiling refuses anything it does not know


def test_compiler_refuses_unknown_keywords() -> None:
    with pytest.raises(schema.SchemaError, match="minLength"):
        schema._Compiler({"definitions": {}}).compile({"type": "string", "minLength": 1}, "x")


def test_schema_files_on_disk_are_not_modified_by_patching() -> None:
    raw = json.loads((SCHEMA_DIR / "2024-02-01.json").read_text(encoding="utf-8"))
    base = raw["definitions"]["ImageTemplateCustomizer"]["allOf"][0]
    assert base["additionalProperties"] is False  # published as is
    patched = schema.patched_schema("2024-02-01")
    assert "additionalProperties" not in patched["definitions"]["ImageTemplateCustomizer"]["allOf"][0]
    assert patched["definitions"]["ImageTemplateProperties"]["additionalProperties"] is False


# -- speed, and no jsonschema on the hot path -------------------------------------------------------

def _big_template(steps: int) -> str:
    lines = [template().split("  customize:")[0], "  customize:"]
    for i in range(steps):
        lines.append(f"    - {{name: s{i}, type: Shell, inline: [echo {i}, echo done]}}")
    lines.append("  distribute:\n    - " + GALLERY + "\n")
    return "\n".join(lines)


def _best_ms(model: TemplateModel, runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        bag = DiagnosticBag()
        t0 = time.perf_counter()
        schema.validate_schema(model, bag)
        best = min(best, time.perf_counter() - t0)
        assert bag.items == []
    return best * 1000


def test_speed() -> None:
    typical = make_model(template())
    schema.validate_schema(typical, DiagnosticBag())  # warm the cache
    assert _best_ms(typical) < 50.0  # about 0.2 ms idle; benchmarks/ prints the figures, no tight bound here
    quarter, big = make_model(_big_template(250)), make_model(_big_template(1000))
    assert len(big.doc["properties"]["customize"]) == 1000
    # linear in the number of steps (4x the steps, about 4x the time), whatever the machine's load
    assert _best_ms(big) / _best_ms(quarter) < 9


def test_builtin_path_does_not_import_jsonschema() -> None:
    code = textwrap.dedent("""
        import sys
        from aibtui.compiler import schema
        from aibtui.compiler.diagnostics import DiagnosticBag
        from aibtui.compiler.model import TemplateModel
        bag = DiagnosticBag()
        schema.validate_schema(TemplateModel(doc={"properties": {"buildTimeoutInMinutes": 1000}}), bag)
        assert bag.items, "expected errors"
        bad = sorted(m for m in sys.modules if m.split(".")[0] in ("jsonschema", "referencing"))
        assert not bad, bad
    """)
    subprocess.run([sys.executable, "-c", code], check=True)


def test_jsonschema_engine_never_reaches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the schema check tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    schema._jsonschema_validator.cache_clear()
    diags = check(template(timeout=1000), engine="jsonschema")
    assert [where(d) for d in diags] == [("AIB503", 10, 26)]
    assert check(template(timeout="\"[parameters('t')]\""), engine="jsonschema") == []


def test_json_input_gets_a_json_hint() -> None:
    text = json.dumps({"type": RESOURCE_TYPE, "apiVersion": "2024-02-01", "name": "n", "location": "w",
                       "identity": {"type": "None"},
                       "properties": {"source": {"type": "PlatformImage", "sku": 22}, "distribute": []}})
    model = make_model(text, file="t.json")
    model.origin = "json"
    bag = DiagnosticBag()
    schema.validate_schema(model, bag)
    [d] = bag.items
    assert d.code == "AIB502" and d.message == "sku must be a string, not an integer"
    assert d.hint == "write the value as a JSON string, in double quotes"


@pytest.mark.parametrize(("path", "name"), [
    ((), "the template"), (("properties",), "properties"), (("properties", "customize", 2), "customize[2]"),
    (("properties", "customize", 0, "inline", 3), "inline[3]"), ((0, 1), "[0][1]"),
])
def test_value_names_in_messages(path: tuple[Any, ...], name: str) -> None:
    assert schema._name(path) == name


def test_did_you_mean() -> None:
    assert schema.did_you_mean("SHELL", ["File", "Shell"]) == "Shell"
    assert schema.did_you_mean("sha256checksum", ["sha256Checksum", "scriptUri"]) == "sha256Checksum"
    assert schema.did_you_mean("zzz", ["File", "Shell"]) is None


def test_an_enum_value_that_a_later_version_added() -> None:
    target = ("{type: SharedImage, runOutputName: web, galleryImageId: /g, replicationRegions: [westus2],"
              " storageAccountType: Premium_LRS}")
    [d] = check(template("2020-02-14", target=target), "2020-02-14")
    assert where(d) == ("AIB508", 25, 118)
    assert d.message == ("storageAccountType 'Premium_LRS' needs apiVersion 2022-07-01 or later; "
                         "this template uses 2020-02-14")
    assert d.rule == "DI-04"


def test_a_mismatched_api_version_in_the_document_is_not_gated() -> None:
    [d] = check(template("2020-02-14", target=GALLERY), "2024-02-01")
    assert where(d) == ("AIB504", 2, 13)
    assert d.message == "apiVersion is '2020-02-14', but the template is being checked against apiVersion 2024-02-01"
    assert d.rule == "S-02"


def test_generic_one_of_and_all_of_in_the_builtin_engine() -> None:
    # not used by the current files beyond the two ARM idioms, but a future schema may use them
    node = schema._Compiler({"definitions": {}}).compile({"oneOf": [
        {"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^x"}, {"type": "boolean"}],
        "allOf": [{"type": ["integer", "string", "boolean"]}]}, "x")
    for ok in (3, "xy", True):
        errs: list[Any] = []
        node.check(ok, ("v",), errs, None)
        assert errs == [], ok
    errs = []
    node.check(-1, ("v",), errs, None)
    assert [(e.code, e.message) for e in errs] == [("AIB503", "v is -1; the minimum is 0")]
    errs = []
    node.check(None, ("v",), errs, None)
    assert errs and all(e.code == "AIB502" for e in errs)
    both = schema._Compiler({"definitions": {}}).compile({"oneOf": [{"type": "integer"}, {"type": "number"}]}, "y")
    errs = []
    both.check(1, ("v",), errs, None)
    assert [e.code for e in errs] == ["AIB500"]
