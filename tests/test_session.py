"""A CompileSession (compiler/session.py) changes only speed: the same outputs and diagnostics as
compiling without one, and a local file changed during the session is read again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aibtui.compiler import CompileOptions, CompileSession, compile_file

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*/*.aib.yaml"))


def _outcome(path: Path, options: CompileOptions) -> tuple[str | None, list[str], list[str]]:
    res = compile_file(path, options)
    return res.text, [d.format_text() for d in res.diagnostics], res.dependencies


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_session_gives_the_same_result(path: Path) -> None:
    session = CompileSession()
    fresh = _outcome(path, CompileOptions())
    assert fresh[0] is not None
    for _ in range(2):  # the second compile is served from the session's caches
        assert _outcome(path, CompileOptions(session=session)) == fresh


def test_changed_local_copy_is_hashed_again(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    shutil.copytree(REPO / "examples" / "seed-2020-02-14", project)
    (project / ".git").mkdir()
    top = project / "seed.aib.yaml"
    session = CompileSession()
    first = compile_file(top, CompileOptions(session=session))
    assert first.text is not None
    locals_ = [Path(d) for d in first.dependencies if Path(d) != top.resolve() and Path(d).suffix != ".yaml"]
    assert locals_, first.dependencies
    target = locals_[0]
    target.write_text(target.read_text() + "\n# changed\n")
    second = compile_file(top, CompileOptions(session=session))
    fresh = compile_file(top, CompileOptions())
    assert [d.format_text() for d in second.diagnostics] == [d.format_text() for d in fresh.diagnostics]
    assert second.text == fresh.text
    assert [d.format_text() for d in second.diagnostics] != [d.format_text() for d in first.diagnostics] \
        or second.text != first.text  # the new content was seen (a checksum mismatch or a new digest)


def test_changed_fragment_is_read_again(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    shutil.copytree(REPO / "examples" / "ubuntu-web", project)
    (project / ".git").mkdir()
    top = project / "web.aib.yaml"
    fragment = project / "fragments" / "hardening.aib.yaml"
    session = CompileSession()
    first = compile_file(top, CompileOptions(session=session))
    assert first.text is not None and "ssh-hardening" in first.text
    fragment.write_text(fragment.read_text().replace("ssh-hardening", "ssh-hardened"))
    second = compile_file(top, CompileOptions(session=session))
    assert second.text is not None and "ssh-hardened" in second.text and "ssh-hardening" not in second.text
    assert second.text == compile_file(top, CompileOptions()).text


def test_changed_inlined_script_is_read_again(tmp_path: Path) -> None:
    """`script:` files are inlined from the session's memo while their stat is unchanged; a new
    content (or a file that becomes binary) is read again, with the diagnostics of a fresh compile."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".git").mkdir()
    script = project / "setup.sh"
    script.write_text("echo first\n")
    top = project / "t.aib.yaml"
    top.write_text(
        "name: t\nlocation: westus2\n"
        "identity: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/aib\n"
        "source: Canonical:ubuntu-24_04-lts:server:latest\n"
        "customize:\n  - name: setup\n    shell: {script: setup.sh}\n"
        "distribute:\n  - vhd: true\n")
    session = CompileSession()
    first = compile_file(top, CompileOptions(session=session))
    assert first.text is not None and "echo first" in first.text
    script.write_text("echo second, a longer line\n")
    second = _outcome(top, CompileOptions(session=session))
    assert second[0] is not None and "echo second" in second[0] and "echo first" not in second[0]
    assert second == _outcome(top, CompileOptions())
    script.write_bytes(b"\0binary")
    third = _outcome(top, CompileOptions(session=session))
    assert third == _outcome(top, CompileOptions())
    assert third[0] is None and any("AIB413" in d and "binary" in d for d in third[1])


@pytest.mark.parametrize(("path", "folder"), [
    ("/a/b", "/a/b"), ("/a/b/c", "/a/b"), ("/a/bc", "/a/b"), ("/a", "/a/b"), ("/x/y", "/"), ("/a/b/c", "/a/b/")])
def test_is_within_agrees_with_pathlib(path: str, folder: str) -> None:
    """The text comparison the resolver and local files use for confinement (AIB290, AIB412)
    answers as ``PurePath.is_relative_to`` does for absolute paths, a sibling prefix included."""
    from aibtui.compiler.sources import is_within

    assert is_within(Path(path), Path(folder)) == Path(path).is_relative_to(Path(folder))


def test_profile_path_and_working_directory_are_read_per_compile(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The session remembers the folders a compile reads from per AIBTUI_PROFILE_PATH and working
    directory: changing either within one session finds the other profile, as without a session."""
    top = tmp_path / "proj" / "t.aib.yaml"
    top.parent.mkdir()
    (top.parent / ".git").mkdir()
    top.write_text("extends: team\nname: t\nlocation: westus2\nidentity: /subscriptions/x/resourceGroups/r/"
                   "providers/Microsoft.ManagedIdentity/userAssignedIdentities/i\n"
                   "distribute: [{vhd: true}]\n")
    for team, sku in (("a", "22_04-lts-gen2"), ("b", "20_04-lts-gen2")):
        folder = tmp_path / team
        folder.mkdir()
        (folder / "team.aib.yaml").write_text(f"source: Canonical:0001-com-ubuntu-server-jammy:{sku}:latest\n"
                                              "os: linux\n")
    session = CompileSession()
    for team, sku in (("a", "22_04-lts-gen2"), ("b", "20_04-lts-gen2"), ("a", "22_04-lts-gen2")):
        monkeypatch.setenv("AIBTUI_PROFILE_PATH", str(tmp_path / team))
        with_session = compile_file(top, CompileOptions(session=session))
        assert with_session.document is not None, [d.format_text() for d in with_session.diagnostics]
        assert with_session.document["properties"]["source"]["sku"] == sku
        assert with_session.text == compile_file(top, CompileOptions()).text
    # a relative search dir is taken from the working directory of the moment
    monkeypatch.setenv("AIBTUI_PROFILE_PATH", ".")
    for team, sku in (("b", "20_04-lts-gen2"), ("a", "22_04-lts-gen2")):
        monkeypatch.chdir(tmp_path / team)
        res = compile_file(top, CompileOptions(session=session))
        assert res.document is not None and res.document["properties"]["source"]["sku"] == sku
