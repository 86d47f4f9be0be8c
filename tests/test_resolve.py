"""The resolve stage: extends (profiles), include (fragments), name-keyed merging, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aibtui.compiler.diagnostics import DiagnosticBag
from aibtui.compiler.nodes import Mapping, Scalar, Sequence, to_plain
from aibtui.compiler.resolve import (
    MAX_DEPTH,
    Resolved,
    ResolveOptions,
    find_profile,
    find_project_root,
    list_profiles,
    resolve_file,
    resolve_node,
)
from aibtui.compiler.yamlload import load_yaml


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".git").mkdir()
    monkeypatch.delenv("AIBTUI_PROFILE_PATH", raising=False)
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def opts(builtin: Path | None = None, **kw: object) -> ResolveOptions:
    # an empty built-in folder unless a test gives one, so the real profiles never interfere
    return ResolveOptions(builtin_dir=builtin or Path("/nonexistent-aibtui-builtins"), **kw)  # type: ignore[arg-type]


def resolve(path: Path, options: ResolveOptions | None = None) -> tuple[Resolved | None, DiagnosticBag]:
    diags = DiagnosticBag()
    return resolve_file(path, diags, options or opts()), diags


def ok(path: Path, options: ResolveOptions | None = None) -> Resolved:
    res, diags = resolve(path, options)
    assert res is not None, [d.format_text() for d in diags]
    assert not diags.has_errors
    return res


def codes(diags: DiagnosticBag) -> list[str]:
    return [d.code for d in diags]


def steps(res: Resolved, key: str = "customize") -> list[str]:
    return [item["name"] for item in to_plain(res.node)[key]]


# -- extends ----------------------------------------------------------------------------------------


def test_three_level_extends_parent_first(project: Path) -> None:
    write(project / "grand.aib.yaml", "os: linux\nbuild: {vmSize: A, osDiskSizeGB: 30}\ntags: {a: '1'}\n"
          "customize:\n  - {name: one, shell: echo 1}\n")
    write(project / "parent.aib.yaml", "extends: grand\nbuild: {vmSize: B}\ntags: {b: '2'}\n"
          "customize:\n  - {name: two, shell: echo 2}\n")
    top = write(project / "web.aib.yaml", "extends: parent\nname: web\nbuild: {timeout: 90m}\n"
                "customize:\n  - {name: three, shell: echo 3}\n")
    res = ok(top)
    doc = to_plain(res.node)
    assert doc["build"] == {"vmSize": "B", "osDiskSizeGB": 30, "timeout": "90m"}
    assert doc["tags"] == {"a": "1", "b": "2"}
    assert doc["os"] == "linux" and doc["name"] == "web"
    assert steps(res) == ["one", "two", "three"]
    assert "extends" not in doc and "include" not in doc
    assert res.chain == [str(project / "grand.aib.yaml"), str(project / "parent.aib.yaml")]
    assert set(res.dependencies) == {str(project / n) for n in ("grand.aib.yaml", "parent.aib.yaml",
                                                                "web.aib.yaml")}
    assert res.root == project.resolve()


def test_provenance_keeps_original_nodes_and_files(project: Path) -> None:
    base = write(project / "base.aib.yaml", "location: westus2\nbuild: {vmSize: A}\n")
    top = write(project / "web.aib.yaml", "extends: base\nbuild: {osDiskSizeGB: 64}\n")
    res = ok(top)
    build = res.node.items["build"]
    assert isinstance(build, Mapping)
    assert build.items["vmSize"].span.file == str(base)
    assert build.items["vmSize"].span.line == 2
    assert build.items["osDiskSizeGB"].span.file == str(top)
    assert res.node.items["location"].span.file == str(base)


def test_multiple_extends_in_order(project: Path) -> None:
    write(project / "a.aib.yaml", "location: a\nvars: {x: a, y: a}\ncustomize: [{name: s1, shell: a}]\n")
    write(project / "b.aib.yaml", "location: b\nvars: {y: b}\ncustomize: [{name: s2, shell: b}]\n")
    top = write(project / "t.aib.yaml", "extends: [a, b]\nvars: {z: t}\n")
    res = ok(top)
    doc = to_plain(res.node)
    assert doc["location"] == "b"
    assert doc["vars"] == {"x": "a", "y": "b", "z": "t"}
    assert steps(res) == ["s1", "s2"]


def test_lists_replace_but_steps_merge(project: Path) -> None:
    write(project / "a.aib.yaml", "dependsOn: [x, y]\ndistribute:\n  - {runOutputName: g, gallery: G1, "
          "regions: [a, b]}\n  - {runOutputName: v, vhd: true}\n")
    top = write(project / "t.aib.yaml", "extends: a\ndependsOn: [z]\ndistribute:\n"
                "  - {name: g, regions: [c]}\n  - {runOutputName: m, managedImage: M}\n")
    doc = to_plain(ok(top).node)
    assert doc["dependsOn"] == ["z"]
    # `name` given for `runOutputName` replaces it rather than leaving both
    assert doc["distribute"][0] == {"name": "g", "gallery": "G1", "regions": ["c"]}
    assert [t.get("runOutputName", t.get("name")) for t in doc["distribute"]] == ["g", "v", "m"]


def test_name_keyed_merge_keeps_position(project: Path) -> None:
    write(project / "base.aib.yaml", "customize:\n  - {name: a, shell: echo a}\n"
          "  - {name: b, powershell: {inline: [x], runElevated: false}}\n  - {name: c, shell: echo c}\n")
    top = write(project / "t.aib.yaml", "extends: base\ncustomize:\n  - {name: d, shell: echo d}\n"
                "  - {name: b, powershell: {runElevated: true}}\n")
    res = ok(top)
    doc = to_plain(res.node)
    assert steps(res) == ["a", "b", "c", "d"]
    assert doc["customize"][1] == {"name": "b", "powershell": {"inline": ["x"], "runElevated": True}}


def test_kind_change_replaces_inherited_step(project: Path) -> None:
    write(project / "base.aib.yaml", "customize:\n  - {name: a, shell: echo a, extra: 1}\n"
          "  - {name: b, type: Shell, inline: [x]}\n  - {name: c, shell: echo c}\n")
    top = write(project / "t.aib.yaml", "extends: base\ncustomize:\n  - {name: a, powershell: Write-Host a}\n"
                "  - {name: b, type: PowerShell, inline: [y]}\n  - {name: c, shell: echo C}\n")
    doc = to_plain(ok(top).node)
    assert doc["customize"] == [
        {"name": "a", "powershell": "Write-Host a"},
        {"name": "b", "type": "PowerShell", "inline": ["y"]},
        {"name": "c", "shell": "echo C"},
    ]


def test_before_after_placement_consumed(project: Path) -> None:
    write(project / "base.aib.yaml", "customize:\n  - {name: a, shell: a}\n  - {name: b, shell: b}\n"
          "  - {name: c, shell: c}\n")
    top = write(project / "t.aib.yaml", "extends: base\ncustomize:\n  - {name: first, shell: f, before: a}\n"
                "  - {name: mid, shell: m, after: a}\n  - {name: end, shell: e}\n"
                "  - {name: c, after: first}\n")
    res = ok(top)
    assert steps(res) == ["first", "c", "a", "mid", "b", "end"]
    for item in to_plain(res.node)["customize"]:
        assert "before" not in item and "after" not in item


def test_remove_step_and_target(project: Path) -> None:
    write(project / "base.aib.yaml", "customize:\n  - {name: a, shell: a}\n  - {name: b, shell: b}\n"
          "distribute:\n  - {runOutputName: g, gallery: G}\n  - {runOutputName: v, vhd: true}\n")
    top = write(project / "t.aib.yaml", "extends: base\ncustomize:\n  - {name: a, remove: true}\n"
                "distribute:\n  - {runOutputName: v, remove: true}\n")
    res = ok(top)
    assert steps(res) == ["b"]
    assert to_plain(res.node)["distribute"] == [{"runOutputName": "g", "gallery": "G"}]


def test_unknown_remove_and_before_targets(project: Path) -> None:
    write(project / "base.aib.yaml", "customize:\n  - {name: install, shell: a}\n")
    top = write(project / "t.aib.yaml", "extends: base\ncustomize:\n"
                "  - {name: instal, remove: true}\n"
                "  - {name: x, shell: x, before: nowhere}\n"
                "  - {name: y, shell: y, after: instal}\n")
    res, diags = resolve(top)
    assert res is None
    found = {(d.code, d.span.line, d.span.col) for d in diags}
    assert ("AIB206", 3, 12) in found
    assert ("AIB207", 4, 33) in found
    assert ("AIB207", 5, 32) in found
    hints = {d.code: d.hint for d in diags}
    assert "install" in (hints["AIB206"] or "")


def test_removal_without_inheritance_in_a_single_file(project: Path) -> None:
    top = write(project / "t.aib.yaml", "customize:\n  - {name: a, remove: true}\n")
    res, diags = resolve(top)
    assert res is None and codes(diags) == ["AIB206"]


def test_directives_consumed_without_profiles(project: Path) -> None:
    top = write(project / "t.aib.yaml", "customize:\n  - {name: a, shell: a}\n  - {name: b, shell: b, before: a}\n"
                "properties:\n  customize:\n    - {name: c, type: Shell, inline: [c]}\n"
                "    - {name: d, type: Shell, inline: [d], before: c}\n")
    doc = to_plain(ok(top).node)
    assert [s["name"] for s in doc["customize"]] == ["b", "a"]
    assert doc["customize"][0] == {"name": "b", "shell": "b"}
    assert [s["name"] for s in doc["properties"]["customize"]] == ["d", "c"]


def test_validate_list_and_mapping_merge(project: Path) -> None:
    write(project / "base.aib.yaml", "validate:\n  - {name: v1, shell: a}\n  - {name: v2, shell: b}\n")
    top = write(project / "t.aib.yaml", "extends: base\nvalidate:\n  continueOnFailure: true\n"
                "  steps:\n    - {name: v2, shell: B}\n    - {name: v3, shell: c}\n")
    doc = to_plain(ok(top).node)
    assert doc["validate"] == {"steps": [{"name": "v1", "shell": "a"}, {"name": "v2", "shell": "B"},
                                         {"name": "v3", "shell": "c"}], "continueOnFailure": True}
    # a mapping inherited, a list written: the list merges into the steps
    write(project / "base2.aib.yaml", "validate:\n  sourceValidationOnly: false\n  inVMValidations:\n"
          "    - {name: v1, shell: a}\n")
    top2 = write(project / "t2.aib.yaml", "extends: base2\nvalidate:\n  - {name: v0, shell: z, before: v1}\n")
    doc2 = to_plain(ok(top2).node)
    assert doc2["validate"] == {"sourceValidationOnly": False,
                                "inVMValidations": [{"name": "v0", "shell": "z"}, {"name": "v1", "shell": "a"}]}


def test_properties_verbatim_step_lists_merge(project: Path) -> None:
    write(project / "base.aib.yaml", "properties:\n  customize:\n    - {name: a, type: Shell, inline: [a]}\n"
          "  validate:\n    inVMValidations:\n      - {name: v, type: Shell, inline: [v]}\n")
    top = write(project / "t.aib.yaml", "extends: base\nproperties:\n  customize:\n"
                "    - {name: b, type: Shell, inline: [b], before: a}\n  validate:\n    inVMValidations:\n"
                "      - {name: v, inline: [w]}\n")
    doc = to_plain(ok(top).node)
    assert [s["name"] for s in doc["properties"]["customize"]] == ["b", "a"]
    assert doc["properties"]["validate"]["inVMValidations"] == [{"name": "v", "type": "Shell", "inline": ["w"]}]


def test_unnamed_items_are_appended_and_duplicates_kept(project: Path) -> None:
    write(project / "base.aib.yaml", "customize:\n  - {name: a, shell: a}\n  - {shell: anon}\n")
    top = write(project / "t.aib.yaml", "extends: base\ncustomize:\n  - {shell: anon2}\n"
                "  - {name: n, shell: 1}\n  - {name: n, shell: 2}\n")
    doc = to_plain(ok(top).node)
    assert doc["customize"] == [{"name": "a", "shell": "a"}, {"shell": "anon"}, {"shell": "anon2"},
                                {"name": "n", "shell": 1}, {"name": "n", "shell": 2}]


def test_diamond_applies_shared_profile_once(project: Path) -> None:
    write(project / "base.aib.yaml", "customize:\n  - {name: x, shell: base}\n")
    write(project / "b.aib.yaml", "extends: base\ncustomize:\n  - {name: x, shell: from-b}\n")
    write(project / "c.aib.yaml", "extends: base\ncustomize:\n  - {name: y, shell: from-c}\n")
    top = write(project / "t.aib.yaml", "extends: [b, c]\n")
    res = ok(top)
    assert to_plain(res.node)["customize"] == [{"name": "x", "shell": "from-b"}, {"name": "y", "shell": "from-c"}]
    assert [Path(p).name for p in res.chain] == ["base.aib.yaml", "b.aib.yaml", "c.aib.yaml"]


def test_aliases_are_never_mutated(project: Path) -> None:
    write(project / "base.aib.yaml", "customize:\n  - {name: a, shell: a}\n")
    top = write(project / "t.aib.yaml", "x: &s {name: a, shell: b, before: a}\nextends: base\n"
                "customize:\n  - *s\n")
    diags = DiagnosticBag()
    node = load_yaml(top.read_text(), str(top), diags)
    assert isinstance(node, Mapping)
    res = resolve_node(node, top, diags, opts())
    assert res is not None
    shared = node.items["x"]
    assert isinstance(shared, Mapping) and "before" in shared.items  # the loaded node is untouched
    assert to_plain(res.node)["x"] == {"name": "a", "shell": "b", "before": "a"}
    assert to_plain(res.node)["customize"] == [{"name": "a", "shell": "b"}]


# -- cycles -----------------------------------------------------------------------------------------


def test_extends_cycle_prints_chain(project: Path) -> None:
    write(project / "b.aib.yaml", "extends: ./a.aib.yaml\n")
    top = write(project / "a.aib.yaml", "name: x\nextends: b\n")
    res, diags = resolve(top)
    assert res is None
    [d] = diags.errors
    assert d.code == "AIB201"
    assert "a.aib.yaml → b → ./a.aib.yaml" in d.message
    assert (d.span.file, d.span.line, d.span.col) == (str(project / "b.aib.yaml"), 1, 10)


def test_include_cycle_prints_chain(project: Path) -> None:
    write(project / "frag" / "one.aib.yaml", "include: two.aib.yaml\n")
    write(project / "frag" / "two.aib.yaml", "include: [../t.aib.yaml]\n")
    top = write(project / "t.aib.yaml", "include: frag/one.aib.yaml\n")
    res, diags = resolve(top)
    assert res is None
    [d] = diags.errors
    assert d.code == "AIB201"
    assert d.message.endswith("t.aib.yaml → frag/one.aib.yaml → two.aib.yaml → ../t.aib.yaml")
    assert (d.span.line, d.span.col) == (1, 11)


def test_self_extends_is_a_cycle(project: Path) -> None:
    top = write(project / "me.aib.yaml", "extends: me\n")
    res, diags = resolve(top)
    assert res is None and codes(diags) == ["AIB201"]


def test_nesting_limit(project: Path) -> None:
    for i in range(MAX_DEPTH + 2):
        write(project / f"p{i}.aib.yaml", f"extends: p{i + 1}\n" if i < MAX_DEPTH + 1 else "os: linux\n")
    res, diags = resolve(project / "p0.aib.yaml")
    assert res is None and "AIB208" in codes(diags)


# -- includes ---------------------------------------------------------------------------------------


def test_includes_merge_between_profiles_and_file(project: Path) -> None:
    write(project / "base.aib.yaml", "location: base\nvars: {a: base}\ncustomize: [{name: s, shell: base}]\n")
    write(project / "frag" / "f1.aib.yaml", "include: f2.aib.yaml\nlocation: f1\nvars: {b: f1}\n")
    write(project / "frag" / "f2.aib.yaml", "vars: {c: f2, a: f2}\ncustomize: [{name: s, shell: f2}]\n")
    top = write(project / "t.aib.yaml", "extends: base\ninclude: [frag/f1.aib.yaml]\nvars: {d: t}\n")
    res = ok(top)
    doc = to_plain(res.node)
    assert doc["location"] == "f1"
    assert doc["vars"] == {"a": "f2", "b": "f1", "c": "f2", "d": "t"}
    assert doc["customize"] == [{"name": "s", "shell": "f2"}]
    assert [Path(p).name for p in res.chain] == ["base.aib.yaml", "f2.aib.yaml", "f1.aib.yaml"]


def test_include_escaping_root_refused(project: Path, tmp_path: Path) -> None:
    write(tmp_path / "outside.aib.yaml", "location: out\n")
    top = write(project / "t.aib.yaml", "name: t\ninclude: ../outside.aib.yaml\n")
    res, diags = resolve(top)
    assert res is None
    [d] = diags.errors
    assert (d.code, d.span.line, d.span.col) == ("AIB202", 2, 10)
    # the opt-out
    res2 = ok(top, opts(allow_outside_root=True))
    assert to_plain(res2.node)["location"] == "out"


def test_include_escaping_root_via_symlink(project: Path, tmp_path: Path) -> None:
    secret = write(tmp_path / "elsewhere" / "frag.aib.yaml", "location: out\n")
    link = project / "frag.aib.yaml"
    try:
        os.symlink(secret, link)
    except OSError:
        pytest.skip("symlinks not available")
    top = write(project / "t.aib.yaml", "include: frag.aib.yaml\n")
    res, diags = resolve(top)
    assert res is None and codes(diags) == ["AIB202"]
    assert ok(top, opts(allow_outside_root=True)).node.items["location"].span.file == str(secret)


def test_explicit_root_option(project: Path) -> None:
    sub = project / "sub"
    write(project / "common.aib.yaml", "location: c\n")
    top = write(sub / "t.aib.yaml", "include: ../common.aib.yaml\n")
    assert to_plain(ok(top).node)["location"] == "c"  # root = the .git folder above
    res, diags = resolve(top, opts(root=sub))
    assert res is None and codes(diags) == ["AIB202"]


@pytest.mark.parametrize("url", ["https://example.com/f.aib.yaml", "http://x/y.yaml", "file:///etc/passwd",
                                 "ftp://h/f.yaml"])
def test_url_include_refused(project: Path, url: str) -> None:
    top = write(project / "t.aib.yaml", f"include: ['{url}']\n")
    res, diags = resolve(top)
    assert res is None and codes(diags) == ["AIB205"]
    assert diags.errors[0].span.line == 1


def test_missing_include(project: Path) -> None:
    top = write(project / "t.aib.yaml", "include:\n  - nope.aib.yaml\n")
    res, diags = resolve(top)
    assert res is None
    [d] = diags.errors
    assert (d.code, d.span.line, d.span.col) == ("AIB203", 2, 5)


def test_bad_entries_and_non_mapping_fragment(project: Path) -> None:
    write(project / "list.aib.yaml", "- a\n- b\n")
    top = write(project / "t.aib.yaml", "extends: [1]\ninclude: [list.aib.yaml, {a: b}]\n")
    res, diags = resolve(top)
    assert res is None
    assert sorted(codes(diags)) == ["AIB105", "AIB204", "AIB204"]


def test_fragment_yaml_error_is_reported_in_fragment(project: Path) -> None:
    frag = write(project / "f.aib.yaml", "a: [\n")
    top = write(project / "t.aib.yaml", "include: f.aib.yaml\n")
    res, diags = resolve(top)
    assert res is None
    assert diags.errors[0].code == "AIB101" and diags.errors[0].span.file == str(frag)


# -- profile lookup ---------------------------------------------------------------------------------


def test_missing_profile_did_you_mean(project: Path) -> None:
    builtin = project.parent / "builtin"
    write(builtin / "ubuntu-22.04-gen2.aib.yaml", "description: Ubuntu\n")
    top = write(project / "t.aib.yaml", "name: t\nextends: ubuntu-22.04-gen\n")
    res, diags = resolve(top, opts(builtin))
    assert res is None
    [d] = diags.errors
    assert (d.code, d.span.line, d.span.col) == ("AIB200", 2, 10)
    assert "ubuntu-22.04-gen2" in (d.hint or "")


def test_lookup_order(project: Path, tmp_path: Path) -> None:
    builtin = tmp_path / "builtin"
    search = tmp_path / "search"
    for folder, label in ((builtin, "builtin"), (search, "search")):
        write(folder / "p.aib.yaml", f"location: {label}\n")
    top = write(project / "t.aib.yaml", "extends: p\n")
    o = opts(builtin, profile_path=(search,))
    assert to_plain(ok(top, o).node)["location"] == "search"
    write(project / "profiles" / "p.aib.yaml", "location: profiles-dir\n")
    assert to_plain(ok(top, o).node)["location"] == "profiles-dir"
    write(project / "p.aib.yaml", "location: next-to-file\n")
    assert to_plain(ok(top, o).node)["location"] == "next-to-file"
    assert to_plain(ok(top, opts(builtin)).node)["location"] == "next-to-file"
    (project / "p.aib.yaml").unlink()
    (project / "profiles" / "p.aib.yaml").unlink()
    assert to_plain(ok(top, opts(builtin)).node)["location"] == "builtin"


def test_env_profile_path(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write(two / "q.aib.yaml", "location: two\n")
    write(one / "r.aib.yaml", "location: one\n")
    write(two / "r.aib.yaml", "location: two\n")
    top = write(project / "t.aib.yaml", "extends: [q, r]\n")
    monkeypatch.setenv("AIBTUI_PROFILE_PATH", f"{one}::{two}")
    res = ok(top)
    assert to_plain(res.node)["location"] == "one"
    assert find_profile("q", opts(), near=top) == (two / "q.aib.yaml").resolve()
    # --profile-path comes before the environment
    write(tmp_path / "cli" / "r.aib.yaml", "location: cli\n")
    assert to_plain(ok(top, opts(profile_path=(tmp_path / "cli",))).node)["location"] == "cli"


def test_path_reference_relative_to_naming_file(project: Path) -> None:
    write(project / "common" / "base.aib.yaml", "location: common\n")
    write(project / "common" / "mid.aib.yaml", "extends: ./base.aib.yaml\nname: mid\n")
    top = write(project / "app" / "t.aib.yaml", "extends: ../common/mid.aib.yaml\n")
    doc = to_plain(ok(top).node)
    assert doc == {"location": "common", "name": "mid"}
    res, diags = resolve(write(project / "app" / "u.aib.yaml", "extends: ./nope.yaml\n"))
    assert res is None and codes(diags) == ["AIB200"]


def test_list_profiles_and_find_profile(project: Path, tmp_path: Path) -> None:
    builtin = tmp_path / "builtin"
    write(builtin / "ubuntu.aib.yaml", "description: Ubuntu 22.04\nos: linux\n")
    write(builtin / "win.aib.yaml", "description: Windows\n")
    write(project / "profiles" / "ubuntu.aib.yaml", "description: my ubuntu\n")
    top = write(project / "t.aib.yaml", "name: t\n")
    found = list_profiles(opts(builtin), near=top)
    assert [(p.name, p.builtin, p.description) for p in found] == [
        ("ubuntu", False, "my ubuntu"), ("win", True, "Windows")]
    assert find_profile("win", opts(builtin), near=top) == (builtin / "win.aib.yaml").resolve()
    assert find_profile("nope", opts(builtin), near=top) is None


def test_default_builtin_dir_is_the_profiles_folder(project: Path) -> None:
    from aibtui.compiler.resolve import default_builtin_dir

    folder = default_builtin_dir()
    assert folder is not None and folder.name == "profiles"


def test_find_project_root(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "aibtui.toml").write_text("")
    assert find_project_root(tmp_path / "a" / "b" / "x.aib.yaml") == (tmp_path / "a").resolve()
    lone = tmp_path / "lone"
    lone.mkdir()
    assert find_project_root(lone / "x.aib.yaml") in {lone.resolve(), *lone.resolve().parents}


def test_resolve_node_in_memory(project: Path) -> None:
    write(project / "base.aib.yaml", "location: westus\n")
    diags = DiagnosticBag()
    node = load_yaml("extends: base\nname: mem\n", str(project / "mem.aib.yaml"), diags)
    assert isinstance(node, Mapping)
    res = resolve_node(node, project / "mem.aib.yaml", diags, opts())
    assert res is not None and to_plain(res.node) == {"location": "westus", "name": "mem"}
    assert isinstance(res.node.items["name"], Scalar)
    assert not isinstance(res.node.items.get("customize"), Sequence)


def test_total_file_limit(project: Path) -> None:
    from aibtui.compiler.resolve import MAX_FILES

    names = []
    for i in range(MAX_FILES + 5):
        write(project / "f" / f"f{i}.aib.yaml", f"vars: {{v{i}: {i}}}\n")
        names.append(f"f/f{i}.aib.yaml")
    top = write(project / "t.aib.yaml", "include:\n" + "".join(f"  - {n}\n" for n in names))
    res, diags = resolve(top)
    assert res is None
    assert codes(diags) == ["AIB209"]


@pytest.mark.parametrize(("item", "line_col"), [
    ("{name: a, shell: x, remove: yes please}", (3, 33)),
    ("{shell: x, remove: true}", (3, 24)),
    ("{name: b, shell: x, before: [a]}", (3, 33)),
    ("{name: b, shell: x, before: a, after: a}", (3, 36)),
])
def test_bad_directives(project: Path, item: str, line_col: tuple[int, int]) -> None:
    top = write(project / "t.aib.yaml", f"customize:\n  - {{name: a, shell: a}}\n  - {item}\n")
    res, diags = resolve(top)
    assert res is None
    [d] = diags.errors
    assert (d.code, d.span.line, d.span.col) == ("AIB210", *line_col)


def test_remove_false_is_consumed(project: Path) -> None:
    top = write(project / "t.aib.yaml", "customize:\n  - {name: a, shell: a, remove: false}\n")
    assert to_plain(ok(top).node)["customize"] == [{"name": "a", "shell": "a"}]
