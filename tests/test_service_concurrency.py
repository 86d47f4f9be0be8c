"""20 concurrent builds on one local service all finish, each with its own, complete log."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from service_support import FAST, local_service, sample_body

from aibtui.arm.client import RetryPolicy
from aibtui.arm.local import local_client


def test_twenty_concurrent_builds(tmp_path: Path) -> None:
    with local_service(tmp_path, replace(FAST, step_delay=0.01)) as svc:
        retry = RetryPolicy(attempts=3, backoff=0.01, timeout=10, poll_interval=0.01)

        def build(i: int) -> tuple[str, dict, list[str], list[dict]]:
            c = local_client(tmp_path, api_version="2024-02-01", base_url=svc.base_url, retry=retry)
            name = f"b{i:02d}"
            steps = (f"{name}-one", f"{name}-two", f"{name}-three")
            c.create_template(name, sample_body(steps=steps, outputs=(f"{name}-img", f"{name}-vhd"))).result(10)
            status = c.run(name).wait(timeout=20)
            assert status == "Succeeded"
            log = c.customization_log(name)
            return name, c.get_template(name), [ln["text"] for ln in log["lines"]], c.run_outputs(name)

        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(build, range(20)))

    assert len(results) == 20
    for name, tpl, lines, outputs in results:
        assert tpl["properties"]["lastRunStatus"]["runState"] == "Succeeded"
        mine = [ln for ln in lines if "step '" in ln]
        assert [ln.split("'")[1] for ln in mine] == [f"{name}-one", f"{name}-two", f"{name}-three"]
        others = [ln for ln in lines if "'b" in ln and f"'{name}-" not in ln]
        assert others == [], f"{name} log holds another build's lines: {others}"
        assert len(lines) == 9  # banner, queued, build VM, 3 steps, 2 outputs, the final line
        assert lines[-1].startswith("simulated run finished")
        assert sorted(o["name"] for o in outputs) == [f"{name}-img", f"{name}-vhd"]
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT COUNT(*) FROM runs WHERE state='Succeeded'").fetchone()[0] == 20
