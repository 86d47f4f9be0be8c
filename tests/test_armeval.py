"""The ARM template evaluator (compiler/armeval) and its use by `check` and `import` on ARM templates.

Test data: tests/data/avm/ (the AVM image-template module's compiled main.json of several versions,
and a deployment calling it three times; see tests/data/README.md).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from aibtui.cli.main import main as cli_main
from aibtui.compiler import CompileOptions, compile_file
from aibtui.compiler.armeval.evaluator import Budget, Evaluator
from aibtui.compiler.armeval.functions import RESOURCE_GROUP, SUBSCRIPTION_ID
from aibtui.compiler.armeval.hashes import arm_guid, unique_string
from aibtui.compiler.armeval.params import read_parameters
from aibtui.compiler.armeval.template import TemplateScope
from aibtui.compiler.armeval.values import BudgetError, EvalError, Unknown, plain
from aibtui.compiler.diagnostics import DiagnosticBag, Span
from aibtui.compiler.importer import ImportOptions, import_file
from aibtui.compiler.jsoninput import check_json_file, check_json_text
from aibtui.compiler.jsonload import load_json
from aibtui.compiler.model import RESOURCE_TYPE
from aibtui.compiler.nodes import Mapping, Scalar

DATA = Path(__file__).parent / "data" / "avm"
VERSIONS = sorted(p.name for p in DATA.iterdir() if (p / "main.json").is_file())
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def scope_of(template: dict[str, Any], passed: dict[str, Any] | None = None) -> TemplateScope:
    diags = DiagnosticBag()
    node = load_json(json.dumps(template), "t.json", diags)
    assert isinstance(node, Mapping)
    given = {}
    for k, v in (passed or {}).items():
        n = load_json(json.dumps(v), "p.json", diags)
        assert n is not None
        given[k] = n
    return TemplateScope(node, given)


def ev(expr: str, template: dict[str, Any] | None = None, budget: Budget | None = None) -> Any:
    """The plain value of one expression (Unknown when it is known only at deployment)."""
    scope = scope_of(template or {})
    out = Evaluator(budget).expression(Scalar(Span("t.json", 1, 1), expr), scope.env())
    return out if isinstance(out, Unknown) else plain(out)


# -- functions -----------------------------------------------------------------------------------------

def test_unique_string_known_values() -> None:
    # the published example of the function: 'hello' and 'world' hash to a7wkljktk6wne
    assert unique_string("hello", "world") == "a7wkljktk6wne"
    assert ev("[uniqueString('hello', 'world')]") == "a7wkljktk6wne"
    s = unique_string("/subscriptions/x/resourceGroups/rg")
    assert len(s) == 13 and re.fullmatch(r"[a-z2-7]{13}", s)
    assert unique_string("a") != unique_string("b")


def test_guid_is_deterministic_and_shaped() -> None:
    g = arm_guid("a", "b")
    assert g == ev("[guid('a', 'b')]") and g != arm_guid("a", "c")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", g)


@pytest.mark.parametrize(("expr", "expected"), [
    ("[format('{0}-{1}', 'a', 2)]", "a-2"),
    ("[format('{0} {{x}} {1}', true(), null())]", "True {x} "),
    ("[format('{0:D3}', 7)]", "007"),
    ("[concat('a', 'b', 1)]", "ab1"),
    ("[concat(createArray(1), createArray(2, 3))]", [1, 2, 3]),
    ("[string(true())]", "True"),
    ("[string(createObject('a', 1))]", '{"a":1}'),
    ("[toUpper('abc')]", "ABC"),
    ("[replace('a.b.c', '.', '-')]", "a-b-c"),
    ("[split('a/b/c', '/')]", ["a", "b", "c"]),
    ("[last(split('/x/y/name', '/'))]", "name"),
    ("[substring('abcdef', 1, 3)]", "bcd"),
    ("[indexOf('abcdef', 'CD')]", 2),
    ("[startsWith('Hello', 'he')]", True),
    ("[contains('abc', 'B')]", False),
    ("[contains(createObject('Key', 1), 'key')]", True),
    ("[contains(createArray('a', 'b'), 'b')]", True),
    ("[empty('')]", True),
    ("[empty(createObject())]", True),
    ("[length(createArray(1, 2, 3))]", 3),
    ("[if(equals(1, 1), 'yes', 'no')]", "yes"),
    ("[if(false(), div(1, 0), 'lazy')]", "lazy"),
    ("[coalesce(null(), null(), 'c')]", "c"),
    ("[and(true(), not(false()))]", True),
    ("[or(false(), greater(2, 1))]", True),
    ("[add(mul(2, 3), sub(10, div(9, 2)))]", 12),
    ("[mod(-7, 3)]", -1),
    ("[union(createObject('a', createObject('x', 1)), createObject('a', createObject('y', 2)))]",
     {"a": {"x": 1, "y": 2}}),
    ("[union(createArray(1, 2), createArray(2, 3))]", [1, 2, 3]),
    ("[shallowMerge(createArray(createObject('a', 1, 'b', createObject('x', 1)), createObject('b', 2)))]",
     {"a": 1, "b": 2}),
    ("[intersection(createArray(1, 2, 3), createArray(2, 3, 4))]", [2, 3]),
    ("[items(createObject('b', 2, 'a', 1))]", [{"key": "a", "value": 1}, {"key": "b", "value": 2}]),
    ("[range(2, 3)]", [2, 3, 4]),
    ("[take(skip(createArray(1, 2, 3, 4), 1), 2)]", [2, 3]),
    ("[tryGet(createObject('a', createObject('b', 1)), 'a', 'b')]", 1),
    ("[tryGet(createObject('a', 1), 'missing')]", None),
    ("[createObject('a', createArray(1, 2)).a[1]]", 2),
    ("[json('{\"a\": [1]}').a]", [1]),
    ("[base64ToString(base64('héllo'))]", "héllo"),
    ("[padLeft('7', 3, '0')]", "007"),
    ("[uriComponent('a b/c')]", "a%20b%2Fc"),
    ("[uri('https://x.org/a/b', 'c.sh')]", "https://x.org/a/c.sh"),
    ("['it''s']", "it's"),
    ("[map(range(0, 3), lambda('i', mul(lambdaVariables('i'), 2)))]", [0, 2, 4]),
    ("[filter(createArray(1, 2, 3, 4), lambda('x', equals(mod(lambdaVariables('x'), 2), 0)))]", [2, 4]),
    ("[reduce(createArray(1, 2, 3), 0, lambda('cur', 'next', add(lambdaVariables('cur'), "
     "lambdaVariables('next'))))]", 6),
    ("[sort(createArray(3, 1, 2), lambda('a', 'b', less(lambdaVariables('a'), lambdaVariables('b'))))]",
     [1, 2, 3]),
    ("[toObject(createArray('a', 'b'), lambda('k', lambdaVariables('k')), lambda('k', toUpper(lambdaVariables('k'))))]",
     {"a": "A", "b": "B"}),
    ("[mapValues(createObject('a', 1), lambda('v', add(lambdaVariables('v'), 1)))]", {"a": 2}),
    ("[groupBy(createArray('ab', 'ac', 'b'), lambda('s', first(lambdaVariables('s'))))]",
     {"a": ["ab", "ac"], "b": ["b"]}),
    ("[flatten(createArray(createArray(1), createArray(2, 3)))]", [1, 2, 3]),
])
def test_functions(expr: str, expected: Any) -> None:
    assert ev(expr) == expected


def test_resource_functions_and_stand_ins() -> None:
    assert ev("[resourceId('Microsoft.Compute/galleries/images', 'g', 'i')]") == (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.Compute/"
        "galleries/g/images/i")
    assert ev("[resourceId('other-rg', 'Microsoft.ManagedIdentity/userAssignedIdentities', 'id')]").endswith(
        "/resourceGroups/other-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id")
    assert ev("[resourceId('sub', 'rg', 'Microsoft.Network/virtualNetworks/subnets', 'v', 's')]") == (
        "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s")
    assert ev("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r')]") == (
        f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/r")
    assert ev("[extensionResourceId('/x/y', 'Microsoft.Authorization/locks', 'l')]") == (
        "/x/y/providers/Microsoft.Authorization/locks/l")
    assert ev("[subscription().subscriptionId]") == SUBSCRIPTION_ID
    assert ev("[resourceGroup().name]") == RESOURCE_GROUP
    assert ev("[environment().suffixes.storage]") == "core.windows.net"
    location = ev("[resourceGroup().location]")
    assert isinstance(location, Unknown) and "location" in location.reason


def test_deployment_time_values_are_unknown_and_propagate() -> None:
    for expr in ("[reference('x').outputs.y.value]", "[listKeys('id', '2021-01-01').keys[0].value]",
                 "[utcNow()]", "[newGuid()]"):
        assert isinstance(ev(expr), Unknown), expr
    u = ev("[concat('a-', reference('x').name)]")
    assert isinstance(u, Unknown) and "reference()" in u.reason
    assert u.expr == "concat('a-', reference('x').name)"
    # a member that is unknown stays a member: the rest of the object is known
    scope = scope_of({})
    obj = Evaluator().expression(Scalar(Span("t.json", 1, 1), "[createObject('a', 1, 'b', reference('x'))]"),
                                 scope.env())
    assert isinstance(obj, Mapping) and plain(obj.items["a"]) == 1 and isinstance(obj.items["b"], Unknown)
    # known parts of an unknown call are written as literals in its residual expression
    template = {"parameters": {"n": {"type": "string", "defaultValue": "web"}}}
    u = ev("[format('{0}-{1}', parameters('n'), utcNow())]", template)
    assert isinstance(u, Unknown) and u.expr == "format('{0}-{1}', 'web', utcNow())"


def test_errors_and_budgets() -> None:
    for expr in ("[concat('a'", "[nosuch(1)]", "[substring('abc', 5)]", "[div(1, 0)]",
                 "[createObject('a', 1).b]", "[parameters('missing')]", "[createArray(1)[3]]"):
        with pytest.raises(EvalError):
            ev(expr)
    # a chain of variables that doubles a string: refused at the string budget, in bounded time
    variables = {"v0": "xxxxxxxxxxxxxxxx"}
    for i in range(1, 40):
        variables[f"v{i}"] = f"[concat(variables('v{i - 1}'), variables('v{i - 1}'))]"
    with pytest.raises(BudgetError):
        ev("[variables('v39')]", {"variables": variables})
    with pytest.raises(EvalError):
        ev("[variables('a')]", {"variables": {"a": "[variables('b')]", "b": "[variables('a')]"}})
    with pytest.raises(BudgetError):
        ev("[map(range(0, 100), lambda('i', add(lambdaVariables('i'), 1)))]", budget=Budget(max_steps=50))
    deep = "[" + "not(" * 80 + "true()" + ")" * 80 + "]"
    with pytest.raises(EvalError):
        ev(deep)
    # the lambda functions check their collection: an array, or an object for mapValues()
    for name, expr in (("map", "[map('abc', lambda('x', lambdaVariables('x')))]"),
                       ("filter", "[filter(createObject('a', 1), lambda('x', true()))]"),
                       ("reduce", "[reduce(1, 0, lambda('a', 'b', 1))]"),
                       ("groupBy", "[groupBy('ab', lambda('x', 'k'))]")):
        with pytest.raises(EvalError, match=rf"^{name}\(\) needs an array"):
            ev(expr)
    with pytest.raises(EvalError, match=r"^mapValues\(\) needs an object"):
        ev("[mapValues(createArray(1), lambda('v', lambdaVariables('v')))]")
    with pytest.raises(EvalError):
        ev("[map(createArray(1))]")  # a lambda function without its lambda


def test_parameters_variables_copy_and_user_functions() -> None:
    template = {
        "parameters": {"names": {"type": "array", "defaultValue": ["a", "b"]},
                       "prefix": {"type": "string", "defaultValue": "[toUpper('p')]"}},
        "variables": {
            "copy": [{"name": "steps", "count": "[length(parameters('names'))]",
                      "input": {"name": "[format('{0}-{1}', parameters('prefix'), "
                                        "parameters('names')[copyIndex('steps')])]",
                                "index": "[copyIndex('steps', 1)]"}}],
            "literal": "[[not an expression]",
        },
        "functions": [{"namespace": "ns", "members": {"twice": {
            "parameters": [{"name": "x", "type": "string"}],
            "output": {"type": "string", "value": "[concat(parameters('x'), parameters('x'))]"}}}}],
    }
    assert ev("[variables('steps')]", template) == [{"name": "P-a", "index": 1}, {"name": "P-b", "index": 2}]
    assert ev("[variables('literal')]", template) == "[not an expression]"
    assert ev("[ns.twice('ab')]", template) == "abab"


# -- check on ARM templates ------------------------------------------------------------------------------

def _check(path: Path, *params: str) -> tuple[list[Any], DiagnosticBag]:
    diags = DiagnosticBag()
    values = read_parameters(list(params), diags) if params else None
    models = check_json_file(path, diags, parameters=values)
    return models, diags


def _line(path: Path, line: int) -> str:
    return path.read_text().splitlines()[line - 1]


@pytest.mark.parametrize("version", VERSIONS)
def test_avm_module_deployment_reports_the_missing_checksums_at_the_passed_values(version: str) -> None:
    deployment = DATA / f"deployment-{version}.json"
    models, diags = _check(deployment, str(DATA / "parameters.json"))
    assert len(models) == 3
    findings = [d for d in diags.sorted() if d.severity.value in ("error", "warning")]
    assert all(d.code == "AIB600" for d in findings), [d.format_text() for d in findings]
    by_text = {d.message: d for d in findings}
    customize = next(d for m, d in by_text.items() if "setup.sh" in m)
    assert customize.span is not None and customize.span.file == str(deployment)
    assert "setup.sh" in _line(deployment, customize.span.line)  # the value the deployment passes
    has_validate = version >= "0.2.0"  # 0.1.x has no validationProcess parameter
    assert len(findings) == (2 if has_validate else 1)
    if has_validate:
        validate = next(d for m, d in by_text.items() if "validate.sh" in m)
        assert validate.span is not None and validate.span.file == str(DATA / "parameters.json")
        assert "validate.sh" in _line(DATA / "parameters.json", validate.span.line)
    # the scripted template is the only one with findings; the others are checked and clean
    scripted = [m for m in models if "setup" in json.dumps(m.doc["properties"].get("customize"))]
    assert len(scripted) == 1
    for m in models:
        assert isinstance(m.doc["properties"], dict) and m.doc["location"] == "westeurope"
        assert m.doc["properties"]["distribute"][0]["type"] == "SharedImage"
    # what stays unknown: the module's baseTime (utcNow) in the artifact tags, one line per template
    not_checked = [d for d in diags if d.code == "AIB720"]
    assert len(not_checked) == 3 and all("artifactTags" in d.message and "utcNow" in d.message
                                         for d in not_checked)


def test_without_parameters_the_missing_values_are_listed(tmp_path: Path) -> None:
    models, diags = _check(DATA / "deployment-0.6.1.json")
    assert len(models) == 3
    messages = [d.message for d in diags if d.code == "AIB720"]
    assert any("`identity`" in m and "identityResourceId" in m for m in messages)
    assert any("`location`" in m for m in messages)


REFERENCE_FED = {
    "$schema": SCHEMA, "contentVersion": "1.0.0.0",
    "resources": [
        {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "steps",
         "properties": {"mode": "Incremental", "template": {"$schema": SCHEMA, "resources": [],
                                                             "outputs": {"steps": {"type": "array", "value": []}}}}},
        {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "image",
         "properties": {
             "mode": "Incremental", "expressionEvaluationOptions": {"scope": "inner"},
             "parameters": {"steps": {"value": "[reference('steps').outputs.steps.value]"}},
             "template": {
                 "$schema": SCHEMA, "contentVersion": "1.0.0.0",
                 "parameters": {"steps": {"type": "array"}},
                 "resources": [{
                     "type": RESOURCE_TYPE, "apiVersion": "2024-02-01", "name": "img", "location": "westus2",
                     "identity": {"type": "UserAssigned", "userAssignedIdentities": {
                         "/subscriptions/x/resourceGroups/r/providers/Microsoft.ManagedIdentity/"
                         "userAssignedIdentities/i": {}}},
                     "properties": {
                         "source": {"type": "PlatformImage", "publisher": "Canonical", "offer": "o",
                                    "sku": "s", "version": "latest"},
                         "customize": "[parameters('steps')]",
                         "distribute": [{"type": "VHD", "runOutputName": "vhd"}]}}]}}},
    ],
}


def test_steps_from_reference_are_not_checked_and_strict_fails(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ref.json"
    path.write_text(json.dumps(REFERENCE_FED, indent=2))
    assert cli_main(["check", str(path)]) == 0
    err = capsys.readouterr().err
    summary = [line for line in err.splitlines() if line.startswith("checked ")]
    assert summary and "NOT CHECKED" in summary[0] and "0 errors" in summary[0]
    assert any("`properties.customize` not checked" in line and "reference()" in line
               for line in err.splitlines() if line.startswith("  "))
    assert cli_main(["check", "--strict", str(path)]) == 1
    err = capsys.readouterr().err
    assert "AIB726" in err and "1 error" in err


def test_a_plain_inner_scope_deployment_is_checked_with_the_passed_steps(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(json.dumps(REFERENCE_FED))
    del doc["resources"][0]
    doc["resources"][0]["properties"]["parameters"]["steps"] = {"value": [
        {"type": "Shell", "name": "get", "scriptUri": "https://example.com/s.sh"}]}
    path = tmp_path / "inner.json"
    text = json.dumps(doc, indent=2)
    path.write_text(text)
    assert cli_main(["check", str(path)]) == 0
    err = capsys.readouterr().err
    assert "AIB600" in err and "NOT CHECKED" not in err
    summary = next(line for line in err.splitlines() if line.startswith("checked "))
    assert summary == "checked 1 file (1 template): 0 errors, 1 warning"
    line = int(re.search(r"inner\.json:(\d+):\d+: warning: AIB600", err).group(1))  # type: ignore[union-attr]
    assert "https://example.com/s.sh" in text.splitlines()[line - 1]


def test_parameters_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {"$schema": SCHEMA, "contentVersion": "1.0.0.0",
           "parameters": {"uri": {"type": "string"}, "timeout": {"type": "int", "defaultValue": 60},
                          "steps": {"type": "array", "defaultValue": []}},
           "resources": [json.loads(json.dumps(REFERENCE_FED["resources"][1]["properties"]["template"]
                                               ["resources"][0]))]}
    props = doc["resources"][0]["properties"]
    props["customize"] = "[concat(parameters('steps'), createArray(createObject('type', 'Shell', 'name', 's', "\
                         "'scriptUri', parameters('uri'))))]"
    props["buildTimeoutInMinutes"] = "[parameters('timeout')]"
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc, indent=2))
    assert cli_main(["check", str(path), "--strict"]) == 1  # uri has no value
    assert "parameter 'uri' has no value" in capsys.readouterr().err
    assert cli_main(["check", str(path), "-p", "uri=https://example.com/a.sh", "-p", "timeout=90",
                     "-p", 'steps=[{"type": "Shell", "name": "first", "inline": ["true"]}]', "--strict"]) == 0
    err = capsys.readouterr().err
    assert "AIB600" in err and "a.sh" in err
    models, _ = _check(path, "uri=https://example.com/a.sh", "timeout=90")
    assert models[0].doc["properties"]["buildTimeoutInMinutes"] == 90
    # an undeclared name, and a parameters file that is not one
    assert cli_main(["check", str(path), "-p", "nope=1", "-p", "uri=https://example.com/b.sh"]) == 0
    assert "AIB723" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"parameters": {"uri": "no value object"}}')
    assert cli_main(["check", str(path), "-p", str(bad)]) == 1
    assert "AIB725" in capsys.readouterr().err
    assert cli_main(["check", str(path), "-p", str(tmp_path / "missing.json")]) == 1
    assert "AIB725" in capsys.readouterr().err
    # inline JSON and @FILE, as az takes them
    good = tmp_path / "good.json"
    good.write_text('{"parameters": {"uri": {"value": "https://example.com/g.sh"}}}')
    assert cli_main(["check", str(path), "-p", f"@{good}"]) == 0
    assert "g.sh" in capsys.readouterr().err
    assert cli_main(["check", str(path), "-p", '{"uri": {"value": "https://example.com/i.sh"}}']) == 0
    assert "i.sh" in capsys.readouterr().err


def test_copy_loop_and_condition_and_language_version_2() -> None:
    image = json.loads(json.dumps(REFERENCE_FED["resources"][1]["properties"]["template"]["resources"][0]))
    image["properties"]["customize"] = [{"type": "Shell", "name": "a", "inline": ["true"]}]
    image["name"] = "[format('img-{0}', copyIndex())]"
    image["copy"] = {"name": "c", "count": "[length(parameters('regions'))]"}
    image["location"] = "[parameters('regions')[copyIndex()]]"
    off = dict(image, name="off", condition="[equals(parameters('regions')[0], 'nowhere')]")
    off.pop("copy")
    off["location"] = "westus"
    doc = {"$schema": SCHEMA, "languageVersion": "2.0", "contentVersion": "1.0.0.0",
           "parameters": {"regions": {"type": "array", "defaultValue": ["westus2", "eastus"]}},
           "resources": {"images": image, "skipped": off}}
    diags = DiagnosticBag()
    models = check_json_text(json.dumps(doc, indent=2), "v2.json", diags)
    assert [(m.doc["name"], m.doc["location"]) for m in models] == [("img-0", "westus2"), ("img-1", "eastus")]
    assert any(d.code == "AIB724" for d in diags)
    assert not [d for d in diags if d.severity.value == "error"], [d.format_text() for d in diags]


# -- import of an evaluated template ----------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_import_of_the_avm_deployment_compiles(tmp_path: Path, version: str) -> None:
    values = read_parameters([str(DATA / "parameters.json")], DiagnosticBag())
    result = import_file(DATA / f"deployment-{version}.json", ImportOptions(parameters=values))
    assert len(result.templates) == 3
    assert not [d for d in result.diagnostics if d.severity.value == "error"]
    for i, tpl in enumerate(result.templates):
        assert tpl.text is not None and tpl.exact
        # the time-dependent parts stay ARM expressions over baseTime, which arm: declares
        assert "parameters(''baseTime'')" in tpl.text and "baseTime: {type: string, defaultValue:" in tpl.text
        out = tmp_path / f"t{i}.aib.yaml"
        out.write_text(tpl.text)
        compiled = compile_file(out, CompileOptions(sets=tpl.sets, format="arm"))
        assert compiled.ok, [d.format_text() for d in compiled.diagnostics if d.severity.value == "error"]


def test_import_turns_parameters_without_value_into_variables(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(REFERENCE_FED))
    del doc["resources"][0]
    inner = doc["resources"][0]["properties"]
    inner["parameters"] = {"steps": {"value": [{"type": "Shell", "name": "a", "inline": ["true"]}]},
                           "region": {"value": "[parameters('region')]"}}
    doc["parameters"] = {"region": {"type": "string"}}  # passed on by the parent, which has no value
    inner["template"]["parameters"]["region"] = {"type": "string"}
    inner["template"]["resources"][0]["location"] = "[parameters('region')]"
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc, indent=2))
    result = import_file(path)
    (tpl,) = result.templates
    assert tpl.text is not None and tpl.exact
    assert [(v.name, v.value) for v in tpl.variables] == [("region", None)]
    assert "location: '{{ region }}'" in tpl.text
    out = tmp_path / "d.aib.yaml"
    out.write_text(tpl.text)
    assert compile_file(out, CompileOptions(sets={"region": "westus2"})).ok
    # --strict: a value known only at deployment is an error, until it is given
    assert cli_main(["import", str(path), "--strict", "-o", str(tmp_path / "x.aib.yaml")]) == 1
    assert not (tmp_path / "x.aib.yaml").exists()
    assert cli_main(["import", str(path), "--strict", "-p", "region=westus2", "-o", str(tmp_path / "x.aib.yaml")]) == 0
    assert "location: westus2" in (tmp_path / "x.aib.yaml").read_text()


def test_hostile_templates_are_refused_in_bounded_time() -> None:
    image = json.loads(json.dumps(REFERENCE_FED["resources"][1]["properties"]["template"]["resources"][0]))
    image["properties"]["customize"] = []
    variables = {"v0": "x"} | {f"v{i}": f"[variables('v{i - 1}')]" for i in range(1, 400)}
    recursive = [{"namespace": "f", "members": {"r": {"parameters": [{"name": "x", "type": "int"}],
                                                      "output": {"type": "int", "value": "[f.r(parameters('x'))]"}}}}]
    for doc in ({"$schema": SCHEMA, "variables": variables, "resources": [dict(image, name="[variables('v399')]")]},
                {"$schema": SCHEMA, "functions": recursive, "resources": [dict(image, name="[string(f.r(1))]")]}):
        diags = DiagnosticBag()
        models = check_json_text(json.dumps(doc), "h.json", diags)
        assert len(models) == 1 and any(d.code == "AIB722" for d in diags)
    inner: dict[str, Any] = {"$schema": SCHEMA, "resources": [image]}
    for i in range(40):
        inner = {"$schema": SCHEMA, "resources": [{"type": "Microsoft.Resources/deployments", "name": f"d{i}",
                                                   "properties": {"template": inner}}]}
    diags = DiagnosticBag()
    assert check_json_text(json.dumps(inner), "n.json", diags) == []
    assert any(d.code == "AIB717" and "deeper than 32" in d.message for d in diags)


def test_the_module_itself_with_command_line_values() -> None:
    """NAME=VALUE for a parameter typed through `$ref` (Bicep user types) is JSON, like `az` takes it."""
    identity = "/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i"
    models, diags = _check(
        DATA / "0.6.1" / "main.json", "name=img", "location=westus2",
        'imageSource={"type": "PlatformImage", "publisher": "canonical", "offer": "ubuntu-24_04-lts", '
        '"sku": "server", "version": "latest"}',
        'distributions=[{"type": "VHD", "imageName": "vhd1"}]',
        f'managedIdentities={{"userAssignedResourceIds": ["{identity}"]}}',
        'customizationSteps=[{"type": "Shell", "name": "x", "scriptUri": "https://example.com/x.sh"}]',
        "baseTime=2024-01-01")
    (model,) = models
    assert model.doc["name"] == "img-2024-01-01"
    assert model.doc["identity"] == {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}}
    assert model.doc["properties"]["distribute"][0]["runOutputName"] == "vhd1-VHD"
    assert not [d for d in diags if d.code == "AIB720"]  # everything is known: all of it was checked
    assert [d.code for d in diags if d.severity.value != "note"] == ["AIB600"]


def test_a_module_loop_in_a_language_version_2_parent() -> None:
    """Bicep `[for image in images: module ...]`: a copy loop over nested deployments, each passing
    values from the array by copyIndex()."""
    module = json.loads((DATA / "0.6.1" / "main.json").read_text())
    images = [
        {"name": "a", "steps": [{"type": "Shell", "name": "ok", "inline": ["true"]}]},
        {"name": "b", "steps": [{"type": "Shell", "name": "fetch", "scriptUri": "https://example.com/f.sh"}]},
    ]
    identity = "/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i"
    parent = {
        "$schema": SCHEMA, "languageVersion": "2.0", "contentVersion": "1.0.0.0",
        "parameters": {"images": {"type": "array", "defaultValue": images}},
        "resources": {"imageModules": {
            "copy": {"name": "imageModules", "count": "[length(parameters('images'))]"},
            "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01",
            "name": "[format('image-{0}', parameters('images')[copyIndex()].name)]",
            "properties": {
                "expressionEvaluationOptions": {"scope": "inner"}, "mode": "Incremental",
                "parameters": {
                    "name": {"value": "[parameters('images')[copyIndex()].name]"},
                    "location": {"value": "westus2"}, "baseTime": {"value": "2024-01-01"},
                    "enableTelemetry": {"value": False},
                    "imageSource": {"value": {"type": "PlatformImage", "publisher": "canonical",
                                              "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
                    "customizationSteps": {"value": "[parameters('images')[copyIndex()].steps]"},
                    "distributions": {"value": [{"type": "VHD",
                                                 "imageName": "[parameters('images')[copyIndex()].name]"}]},
                    "managedIdentities": {"value": {"userAssignedResourceIds": [identity]}},
                },
                "template": module}}},
    }
    text = json.dumps(parent, indent=2)
    diags = DiagnosticBag()
    models = check_json_text(text, "loop.json", diags)
    assert [m.doc["name"] for m in models] == ["a-2024-01-01", "b-2024-01-01"]
    assert [m.doc["properties"]["distribute"][0]["runOutputName"] for m in models] == ["a-VHD", "b-VHD"]
    findings = [d for d in diags if d.severity.value != "note"]
    assert [d.code for d in findings] == ["AIB600"] and "f.sh" in findings[0].message
    assert findings[0].span is not None and "f.sh" in text.splitlines()[findings[0].span.line - 1]
    assert not [d for d in diags if d.code == "AIB720"]


def test_residual_expressions_never_use_names_of_the_scope_they_left() -> None:
    """What stays unknown is written with the known parts as literals: no lambdaVariables(),
    copyIndex() or parameters of a module in a residual."""
    template = {"parameters": {"d": {"type": "object", "defaultValue": {"name": "img"}}}}
    cases = {
        "[coalesce(tryGet(parameters('d'), 'run'), format('{0}-{1}', parameters('d').name, utcNow()))]":
            "format('{0}-{1}', 'img', utcNow())",
        "[coalesce(reference('x').name, parameters('d').name)]": "coalesce(reference('x').name, 'img')",
        "[if(reference('x').on, parameters('d').name, 'b')]": "if(reference('x').on, 'img', 'b')",
        "[and(true(), reference('x').on)]": "and(true(), reference('x').on)",
        "[map(createArray(1), lambda('i', concat(parameters('d').name, reference('x').n)))[0]]":
            "concat('img', reference('x').n)",
    }
    for expr, residual in cases.items():
        u = ev(expr, template)
        assert isinstance(u, Unknown) and u.expr == residual, (expr, u)


def test_a_nested_template_missing_a_required_parameter_is_a_warning() -> None:
    doc = json.loads(json.dumps(REFERENCE_FED))
    del doc["resources"][0]
    doc["resources"][0]["properties"]["parameters"] = {}  # `steps` is required and not passed
    diags = DiagnosticBag()
    [model] = check_json_text(json.dumps(doc, indent=2), "m.json", diags)
    [warning] = [d for d in diags if d.code == "AIB721"]
    assert "does not pass parameter 'steps'" in warning.message and "ARM refuses" in warning.message
    assert any(d.code == "AIB720" and "`properties.customize`" in d.message for d in diags)
