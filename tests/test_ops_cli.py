"""The build-operation commands end to end: `aibtui build|status|cancel|outputs|logs|list|delete|images`
against an in-process local service (found through the state dir, as the CLI finds a detached one)."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from service_support import FAST, local_service, sample_json

from aibtui.cli.main import main
from aibtui.config import ConfigError, load_config
from aibtui.service.server import LocalService

TINY = """\
name: tiny
location: westus2
identity: @RG@/Microsoft.ManagedIdentity/userAssignedIdentities/aib
source: Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest
customize:
  - name: hello
    shell: echo {{ word }}
  - name: harden
    shell: echo harden
distribute:
  - managedImage: @RG@/Microsoft.Compute/images/tiny
    runOutputName: tiny
vars: {word: hello}
""".replace("@RG@", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers")
POLL = ["--poll", "0.005"]


@pytest.fixture
def svc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    state = tmp_path / "state"
    monkeypatch.setenv("AIBTUI_STATE_DIR", str(state))
    monkeypatch.delenv("AIBTUI_PROVIDER", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with local_service(state, replace(FAST, fault_mode=True)) as s:
        yield s


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.aib.yaml"
    p.write_text(TINY)
    return p


def _faults(svc: LocalService, **plan: object) -> None:
    svc.faults.configure(plan)


def test_build_compiles_creates_runs_watches_and_prints_outputs(tmp_path, tiny, capsys, monkeypatch) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("AIBTUI_STATE_DIR", str(state))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with local_service(state, replace(FAST, step_delay=0.04)):  # slow enough that no sub-state is missed
        assert main(["build", str(tiny), *POLL]) == 0
    out = capsys.readouterr().out
    assert "SIMULATES builds" in out
    assert "creating template tiny" in out and "created (provisioningState Succeeded)" in out
    assert "] Running / Queued: Queued (simulated run)\n" in out
    assert "] Running / Customizing: Customizing (simulated): steps are not executed\n" in out
    assert "] Succeeded: simulated run finished: no step was executed" in out
    assert "  | simulated: step 'hello' (Shell) was NOT executed" in out
    assert "build succeeded in 00:00 (SIMULATED: no step was executed)" in out
    assert "run outputs:\n  tiny  artifactId  /subscriptions/" in out
    # exit 0, and the last line says that nothing ran, with the service's reason (a structured field)
    last = out.splitlines()[-1]
    assert last.startswith("nothing was executed: this was a simulated run (no root filesystem for "
                           "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest") and last.endswith(")")


def test_identical_is_reused_and_changed_needs_replace(svc, tiny, capsys) -> None:
    assert main(["build", str(tiny), *POLL]) == 0
    capsys.readouterr()
    assert main(["build", str(tiny), "--no-wait"]) == 0
    out = capsys.readouterr().out
    assert "deployed and identical" in out and "reusing it" in out and "aibtui status tiny --watch" in out
    assert main(["status", "tiny", "--watch", *POLL]) == 0
    watched = capsys.readouterr().out  # the simulated run may be over before `status` asks
    assert "build succeeded" in watched or "last run: Succeeded" in watched

    assert main(["build", str(tiny), "--set", "word=bye", *POLL]) == 1  # stdin is not a terminal here
    cap = capsys.readouterr()
    assert '~ properties.customize[0].inline[0]: "echo hello" -> "echo bye"' in cap.out
    assert "rerun with --replace" in cap.err
    assert main(["build", str(tiny), "--set", "word=bye", "--replace", *POLL]) == 0
    out = capsys.readouterr().out
    assert "deleting template tiny" in out and "creating template tiny" in out and "build succeeded" in out
    assert main(["build", str(tiny), "--set", "word=bye", "--no-wait"]) == 0
    assert "reusing it" in capsys.readouterr().out


def test_failed_build_exits_1_naming_the_step(svc, tiny, capsys) -> None:
    _faults(svc, failStep="harden")
    assert main(["build", str(tiny), *POLL]) == 1
    cap = capsys.readouterr()
    assert "build failed in step 'harden' (SIMULATED: no step was executed)" in cap.err
    assert "Traceback" not in cap.err
    assert main(["status", "tiny"]) == 1
    assert "last run: Failed" in capsys.readouterr().out


def test_compile_errors_send_nothing(svc, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.aib.yaml"
    bad.write_text("name: bad\nlocation: westus2\nvars: {}\ncustomize:\n  - name: a\n    shell: echo {{ nope }}\n")
    assert main(["build", str(bad)]) == 1
    cap = capsys.readouterr()
    assert "has errors; nothing was sent" in cap.err and "bad.aib.yaml:" in cap.err
    assert main(["list"]) == 0
    assert "no image templates" in capsys.readouterr().out


def test_build_a_json_template_and_service_validation_errors(svc, tmp_path, capsys) -> None:
    good = tmp_path / "web.json"
    good.write_text(sample_json())
    assert main(["build", str(good), *POLL]) == 0
    assert "run outputs:" in capsys.readouterr().out
    body = json.loads(sample_json())
    del body["properties"]["distribute"]
    bad = tmp_path / "nodist.json"
    bad.write_text(json.dumps(body))
    assert main(["build", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "the service refused: InvalidParameter" in err and "properties.distribute" in err


def test_ctrl_c_detaches_without_cancelling(svc, tiny, capsys, monkeypatch) -> None:
    from aibtui.arm.watch import RunWatcher

    real_poll = RunWatcher.poll

    def poll_then_interrupt(self: RunWatcher, wait: float = 0.0):
        if self.status is not None:
            raise KeyboardInterrupt
        return real_poll(self, wait)

    svc.runner.step_delay = 0.05
    with monkeypatch.context() as m:
        m.setattr(RunWatcher, "poll", poll_then_interrupt)
        assert main(["build", str(tiny)]) == 130
    out = capsys.readouterr().out
    assert "detached: the build goes on" in out and "aibtui status tiny --watch" in out
    assert main(["status", "tiny", "--watch", *POLL]) == 0
    assert "build succeeded" in capsys.readouterr().out  # it was never canceled


def test_cancel_logs_outputs_list_delete(tmp_path, tiny, capsys, monkeypatch) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("AIBTUI_STATE_DIR", str(state))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with local_service(state, replace(FAST, step_delay=0.05)) as s:
        s.runner.gate.hold("Customizing")  # the run waits there until canceled: no race with its end
        assert main(["build", str(tiny), "--no-wait"]) == 0
        assert s.runner.gate.reached(), "the run never reached Customizing"
        assert main(["status", "tiny"]) == 0
        out = capsys.readouterr().out
        assert "last run: Running / Customizing" in out
        assert "execution: SIMULATED, no step is executed (no root filesystem for Canonical:" in out
        assert main(["cancel", "tiny", "--wait"]) == 0
        assert "tiny: Canceled (simulated: nothing was executed): canceled during Customizing" in \
            capsys.readouterr().out
        s.runner.gate.release()
        assert main(["cancel", "tiny"]) == 1
        assert "no run in progress" in capsys.readouterr().err
        assert main(["logs", "tiny"]) == 0
        assert "canceled during" in capsys.readouterr().out
        assert main(["build", str(tiny), "--no-wait"]) == 0
        capsys.readouterr()
        assert main(["logs", "tiny", "--follow", *POLL]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].startswith("SIMULATED RUN") and lines[-1].startswith("simulated run finished")
        assert main(["outputs", "tiny", "--json"]) == 0
        outs = json.loads(capsys.readouterr().out)
        assert outs[0]["name"] == "tiny" and outs[0]["properties"]["artifactId"].endswith("/images/tiny")
        assert main(["outputs", "tiny", "tiny"]) == 0
        assert "artifactId" in capsys.readouterr().out
        assert main(["list"]) == 0
        assert capsys.readouterr().out.splitlines()[1].split() == ["tiny", "Succeeded", "Succeeded", "(simulated)",
                                                                   "westus2"]
        assert main(["delete", "tiny"]) == 0
        assert "deleted tiny" in capsys.readouterr().out
        assert main(["delete", "tiny"]) == 1
        assert "no image template named tiny" in capsys.readouterr().err
        assert main(["status", "tiny"]) == 1
        err = capsys.readouterr().err
        assert "ResourceNotFound" in err and "Traceback" not in err


def test_images_and_usage_errors(svc, capsys) -> None:
    assert main(["images", "MicrosoftWindowsServer:WindowsServer"]) == 0
    out = capsys.readouterr().out
    assert "MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition  (Windows, Gen2)" in out
    assert main(["images", "Debian:debian-12:12-gen2"]) == 0
    assert "(latest)" in capsys.readouterr().out.splitlines()[-2]
    assert main(["images", "a:b:c:d"]) == 2
    assert main(["build", "x.aib.yaml", "--set", "novalue"]) == 2
    assert "--set expects KEY=VALUE" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["status"])
    assert exit_.value.code == 2


def test_debug_shows_requests_with_the_token_redacted(svc, capsys) -> None:
    assert main(["list", "--debug"]) == 0
    err = capsys.readouterr().err
    assert "debug: local: https://127.0.0.1:" in err and "as the local service's per-user token" in err
    assert "debug: Request URL: 'https://127.0.0.1:" in err and "debug:     'Authorization': 'REDACTED'" in err
    assert svc.token not in err


def test_provider_from_environment_and_config(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("AIBTUI_PROVIDER", "bogus")
    assert main(["list"]) == 2
    assert "unknown provider 'bogus'" in capsys.readouterr().err
    monkeypatch.delenv("AIBTUI_PROVIDER")
    assert load_config().provider == "local"
    (tmp_path / "aibtui").mkdir()
    (tmp_path / "aibtui" / "config.toml").write_text('provider = "azure"\nresource_group = "rg-img"\n')
    cfg = load_config()
    assert (cfg.provider, cfg.resource_group, cfg.source) == ("azure", "rg-img", "file")
    monkeypatch.setenv("AIBTUI_PROVIDER", "local")
    assert load_config().provider == "local"
    (tmp_path / "aibtui" / "config.toml").write_text("provider = [")
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config()


class _FakeAzure:
    """Answers like Azure right after POST run: first the previous run's status, then the new one's."""

    provider = "azure"

    def __init__(self) -> None:
        old = {"runState": "Succeeded", "startTime": "2026-01-01T00:00:00.1234567Z", "message": "old"}
        start = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        new = {"startTime": start, "message": ""}
        end = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
        self.answers = [old, old, {**new, "runState": "Running", "runSubState": "Customizing"},
                        {**new, "runState": "Failed", "endTime": end,
                         "message": "Failed while waiting for packerizer: customization step 'app' failed"}]

    def get_template(self, name: str) -> dict:
        status = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return {"name": name, "properties": {"lastRunStatus": status}}

    def customization_log(self, *a: object, **kw: object) -> dict:
        from aibtui.arm.errors import ClientError

        raise ClientError("on Azure the customization log is in the staging resource group's storage account")


def test_watch_waits_out_the_previous_runs_status(capsys) -> None:
    import argparse

    from aibtui.cli import ops_cmd

    args = argparse.Namespace(poll=0.001)
    rc = ops_cmd._watch(_FakeAzure(), "web", args, sys.stdout, sys.stderr, outputs=True,
                        stale_start="2026-01-01T00:00:00.1234567Z")
    cap = capsys.readouterr()
    assert rc == 1
    assert cap.out.count("waiting for the service to report the new run") == 1
    assert "old" not in cap.out.replace("(on Azure", "")
    assert "[00:00] Running / Customizing\n[10:00] Failed: Failed while waiting for packerizer" in cap.out
    assert "(on Azure the customization log is in the staging resource group's storage account)" in cap.out
    assert "build failed in step 'app': Failed while waiting for packerizer" in cap.err
    assert "SIMULATED" not in cap.err


def test_losing_the_service_while_watching_says_how_to_reattach(tmp_path, tiny, capsys, monkeypatch) -> None:
    from aibtui.arm import local

    state = tmp_path / "state"
    monkeypatch.setenv("AIBTUI_STATE_DIR", str(state))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(local, "LOCAL_RETRY", local.RetryPolicy(attempts=2, backoff=0.01, timeout=2))
    svc = LocalService(state, replace(FAST, step_delay=0.5))
    svc.start()
    from aibtui.arm.watch import RunWatcher

    real_poll = RunWatcher.poll

    def poll_then_stop(self: RunWatcher, wait: float = 0.0):
        update = real_poll(self, wait)
        svc.stop()
        return update

    try:
        with monkeypatch.context() as m:
            m.setattr(RunWatcher, "poll", poll_then_stop)
            assert main(["build", str(tiny), *POLL]) == 1
    finally:
        svc.stop()
    err = capsys.readouterr().err
    assert "lost contact with the service while watching tiny" in err
    assert "re-attach with `aibtui status tiny --watch`" in err and "Traceback" not in err


def test_a_run_whose_answer_was_lost_is_watched_not_started_again(svc, tiny, capsys) -> None:
    """The service accepts POST run, then the connection drops before the answer: the client reads
    lastRunStatus, finds the run and watches it (one run, one POST)."""
    svc.runner.step_delay = 0.03
    _faults(svc, rules=[{"action": "drop-after", "method": "POST", "path": "/run$"}])
    assert main(["build", str(tiny), *POLL]) == 0
    out = capsys.readouterr().out
    assert "the run had started already" in out and "build succeeded" in out
    assert [a.split(" ")[:2] for a in svc.faults.snapshot()["applied"]] == [["drop-after", "POST"]]
    svc.runner.step_delay = 0.3
    assert main(["build", str(tiny), "--no-wait"]) == 0  # a run is now in progress: a real conflict
    capsys.readouterr()
    assert main(["build", str(tiny)]) == 1
    assert "the service refused: Conflict: A run of the image template 'tiny' is already in progress" \
        in capsys.readouterr().err


def test_cancel_wait_says_canceled_or_already_ended(svc, tiny, capsys) -> None:
    svc.runner.step_delay = 0.2
    assert main(["build", str(tiny), "--no-wait"]) == 0
    capsys.readouterr()
    assert main(["cancel", "tiny", "--wait"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("tiny: Canceled (simulated: nothing was executed): canceled during ")
    assert main(["status", "tiny"]) == 0 and "last run: Canceled" in capsys.readouterr().out
    assert main(["cancel", "tiny", "--wait"]) == 0
    assert capsys.readouterr().out == "tiny: the run had already ended (Canceled); nothing to cancel\n"
    assert main(["cancel", "tiny"]) == 1
    assert "no run in progress to cancel" in capsys.readouterr().err


def test_failed_provisioning_is_recreated_and_a_running_template_is_not_replaced(svc, tiny, capsys) -> None:
    assert main(["build", str(tiny), "--no-wait"]) == 0
    assert main(["status", "tiny", "--watch", *POLL]) == 0
    assert svc.store is not None
    with svc.store._tx() as db:  # as if the service had failed to provision it
        db.execute("UPDATE templates SET provisioning_state='Failed', provisioning_error=?",
                   ('{"provisioningErrorCode": "BadPIRSource", "message": "no such image"}',))
    assert main(["status", "tiny"]) == 0
    assert "provisioningError: BadPIRSource: no such image" in capsys.readouterr().out
    assert main(["build", str(tiny), *POLL]) == 0
    out = capsys.readouterr().out
    assert "its earlier provisioning failed; it will be recreated" in out and "deleting template tiny" in out
    svc.runner.step_delay = 0.3
    assert main(["build", str(tiny), "--no-wait"]) == 0
    capsys.readouterr()
    assert main(["build", str(tiny), "--set", "word=changed", "--replace"]) == 1
    cap = capsys.readouterr()
    assert "differs" in cap.out and "has a run in progress; `aibtui cancel tiny` first" in cap.err


def _status_with(execution: dict | None, message: str):  # noqa: ANN202
    from aibtui.arm.watch import RunStatus

    st = {"runState": "Succeeded", "message": message, "startTime": "2026-01-01T00:00:00Z",
          "endTime": "2026-01-01T00:01:00Z"}
    if execution is not None:
        st["aibtuiExecution"] = execution
    status = RunStatus.from_template({"properties": {"lastRunStatus": st}})
    assert status is not None
    return status


def test_simulated_comes_from_the_structured_field_never_from_the_message(capsys) -> None:
    from aibtui.cli import ops_cmd

    class NoOutputs:
        def run_outputs(self, name: str) -> list:
            return []

    # a real run whose message happens to contain the word: not labelled
    real = _status_with({"mode": "executed", "reason": None, "sandbox": "bwrap"}, "step 'simulated-load' passed")
    assert not real.simulated and real.execution is not None and real.execution.sandbox == "bwrap"
    assert ops_cmd._finish(NoOutputs(), "t", real, sys.stdout, sys.stderr, outputs=True) == 0
    out = capsys.readouterr().out
    assert "SIMULATED" not in out and "nothing was executed" not in out
    # a simulated run whose message does not say so: labelled, exit 0, last line says nothing ran
    sim = _status_with({"mode": "simulated", "reason": "no sandbox", "sandbox": None}, "done")
    assert ops_cmd._finish(NoOutputs(), "t", sim, sys.stdout, sys.stderr, outputs=True) == 0
    out = capsys.readouterr().out
    assert "(SIMULATED: no step was executed)" in out
    assert out.splitlines()[-1] == "nothing was executed: this was a simulated run (no sandbox)"
    # Azure never sends the field: a real run
    azure = _status_with(None, "simulated")
    assert azure.execution is None and not azure.simulated
