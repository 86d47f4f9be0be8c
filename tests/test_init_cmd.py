"""`aibtui init`: plain prompts write the same file the wizard writes, and it compiles."""

from __future__ import annotations

import builtins
import io
from pathlib import Path

import pytest

from aibtui.cli.main import main
from aibtui.onboarding.answers import Answers, Output
from aibtui.onboarding.prompts import run_prompts
from aibtui.onboarding.recipes import RECIPE_BY_KEY, make_step
from aibtui.onboarding.yamltext import render_yaml


def _feed(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> list[str]:
    prompts: list[str] = []
    it = iter(answers)

    def fake_input(prompt: str = "") -> str:
        prompts.append(prompt)
        try:
            return next(it)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr(builtins, "input", fake_input)
    return prompts


def test_init_writes_a_commented_file_that_compiles(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    _feed(monkeypatch, ["web", "", "West US", "westus2", "bad-id", "", "2", "", "", "3", "", "", "1", "4", ""])
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert "a region name is lower-case" in out
    assert "starts with /subscriptions/" in out
    assert "az identity create" in out
    text = (tmp_path / "web.aib.yaml").read_text()
    assert "extends: ubuntu-22.04-gen2" in text and "# The user-assigned identity" in text
    assert (tmp_path / "scripts" / "setup.sh").is_file()
    assert "it compiles" in out
    assert main(["compile", "web.aib.yaml"]) == 0


def test_init_and_the_wizard_share_the_yaml(tmp_path: Path) -> None:
    answers = iter(["web", "", "westus2", "", "2", "hello", "echo hi", "1", "3"])
    a = run_prompts(lambda _q: next(answers), io.StringIO())
    expected = Answers(name="web", steps=[make_step(RECIPE_BY_KEY["commands"], "hello", {"commands": "echo hi"},
                                                    "linux")], outputs=[Output("vhd")])
    assert render_yaml(a) == render_yaml(expected)


def test_init_eof_writes_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    _feed(monkeypatch, ["web"])
    assert main(["init"]) == 130
    assert "nothing written" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_init_refuses_to_overwrite(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "web.aib.yaml").write_text("# mine\n")
    _feed(monkeypatch, ["web", "", "", "", "1", "3"])
    assert main(["init"]) == 1
    assert "exists already" in capsys.readouterr().err
    assert (tmp_path / "web.aib.yaml").read_text() == "# mine\n"


def test_init_and_yamledit_import_no_textual() -> None:
    import subprocess
    import sys

    code = ("import sys, aibtui.cli.init_cmd, aibtui.onboarding.prompts, aibtui.onboarding.writer, aibtui.yamledit\n"
            "print([m for m in sys.modules if m.split('.')[0] in ('textual', 'azure') or m.startswith('aibtui.tui')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
