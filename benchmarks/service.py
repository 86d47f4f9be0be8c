"""Benchmark of build operations on the local provider (reproducible; not a timed test).

1. Wall time of ``aibtui build tiny.aib.yaml`` until the (simulated) run has finished and its outputs
   are printed: cold (the CLI starts the local service) and warm (the service is up, the template
   is reused). Simulated steps take ``--step-delay`` seconds each (0 by default, to measure our
   overhead rather than the simulation's pacing).
2. Display lag: how long after the service changes a run's state the watcher (what `build` and
   `status --watch` print from) shows it: with the log long poll the CLI uses on the local service,
   and with plain polling at ``--poll`` seconds (what it does against Azure, every 15 s there).

3. Load, against ``aibtui serve --start`` (a separate process, as users run it):
   requests/s of a status GET on keep-alive connections (1 and 8 clients), with p50/p99 latency
   (a Nagle delay would show as ~40 ms); p99 of the same GET while 20,000 idle connections are
   open (RLIMIT_NOFILE is raised: soft to hard, and hard too when run as root); and the time of
   the first and the last page of a 2,000-template list.

Usage: .venv/bin/python benchmarks/service.py [--only build|lag|load] [--runs 5] [--step-delay 0]
       [--poll 0.1] [--idle 20000] [--templates 2000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# the in-process service helpers live with the tests (tests/service_support.py), not in the package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

TINY = """\
name: bench
location: westus2
identity: @RG@/Microsoft.ManagedIdentity/userAssignedIdentities/aib
source: Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest
customize:
  - name: hello
    shell: echo hello
distribute:
  - managedImage: @RG@/Microsoft.Compute/images/bench
    runOutputName: bench
""".replace("@RG@", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers")


def _build_once(state: Path, file: Path, step_delay: float) -> float:
    env = {**os.environ, "AIBTUI_STATE_DIR": str(state), "AIBTUI_SIM_STEP_DELAY": str(step_delay),
           "AIBTUI_SERVICE_IDLE_MINUTES": "2", "AIBTUI_PROVIDER": "local"}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "aibtui.cli.main", "build", str(file), "--poll", "0.02"],
                         env=env, capture_output=True, text=True, timeout=120)
    took = time.perf_counter() - started
    if out.returncode != 0 or "build succeeded" not in out.stdout:
        raise SystemExit(f"build failed:\n{out.stdout}\n{out.stderr}")
    return took


def _shutdown(state: Path) -> None:
    from aibtui.arm.local import local_client
    from aibtui.service.statefiles import read_discovery

    info = read_discovery(state)
    if info is None:
        return
    try:
        client = local_client(state, api_version="2024-02-01", start=False)
        client.send("POST", f"{client.base_url}/_aibtui/shutdown", ok=(200, 202, 204))
    except Exception:  # noqa: BLE001
        pass


def bench_build(runs: int, step_delay: float) -> None:
    cold, warm = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            state, file = Path(tmp) / "state", Path(tmp) / "bench.aib.yaml"
            file.write_text(TINY)
            try:
                cold.append(_build_once(state, file, step_delay))
                warm.append(_build_once(state, file, step_delay))
            finally:
                _shutdown(state)
    print(f"aibtui build -> finished local run (step delay {step_delay:g}s, {runs} runs)")
    print(f"  cold (starts the service): median {statistics.median(cold) * 1000:7.0f} ms   "
          f"min {min(cold) * 1000:.0f}  max {max(cold) * 1000:.0f}")
    print(f"  warm (service up, reuse):  median {statistics.median(warm) * 1000:7.0f} ms   "
          f"min {min(warm) * 1000:.0f}  max {max(warm) * 1000:.0f}")


def bench_lag(poll: float, step_delay: float, long_poll: bool) -> None:
    from service_support import local_service, sample_body

    from aibtui.arm.local import local_client
    from aibtui.arm.watch import RunWatcher
    from aibtui.service.settings import ServiceSettings
    from aibtui.service.store import Store

    changes: list[tuple[float, str]] = []
    original = Store.set_run
    lock = threading.Lock()

    def recording(self: Store, run_id: str, **kw: object) -> None:
        original(self, run_id, **kw)  # type: ignore[arg-type]
        label = str(kw.get("state") or kw.get("sub_state") or "")
        if label:
            with lock:
                changes.append((time.perf_counter(), label))

    Store.set_run = recording  # type: ignore[method-assign]
    lags: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp, \
                local_service(Path(tmp), ServiceSettings(step_delay=step_delay, provision_delay=0.01,
                                                         retry_after_ms=10)) as svc:
            c = local_client(Path(tmp), api_version="2024-02-01", base_url=svc.base_url)
            steps = tuple(f"s{i}" for i in range(6))
            c.create_template("lag", sample_body(steps=steps)).result(10)
            for _ in range(3):
                changes.clear()
                c.run("lag")
                watcher = RunWatcher(c, "lag")
                seen: dict[str, float] = {}
                while not watcher.done:
                    waits = long_poll and watcher.long_polls
                    upd = watcher.poll(wait=2.0 if waits else 0.0)
                    now = time.perf_counter()
                    if upd.status is not None:
                        label = upd.status.state if upd.status.done else upd.status.sub_state
                        seen.setdefault(str(label), now)
                    if not watcher.done and not waits:
                        time.sleep(poll)
                with lock:
                    for at, label in changes:
                        if label in seen:
                            lags.append(max(0.0, seen[label] - at))
    finally:
        Store.set_run = original  # type: ignore[method-assign]
    how = "long-polling the log, as `aibtui build` does" if long_poll else f"polling every {poll:g}s"
    print(f"state change in the service -> shown by the watcher ({how}; {len(lags)} changes)")
    print(f"  mean {statistics.mean(lags) * 1000:6.1f} ms   median {statistics.median(lags) * 1000:6.1f} ms   "
          f"max {max(lags) * 1000:6.1f} ms")


# -- load ------------------------------------------------------------------------------------
SUB = "/subscriptions/00000000-0000-0000-0000-00000000a1b7"
TPL = SUB + "/resourceGroups/aibtui-local/providers/Microsoft.VirtualMachineImages/imageTemplates"


def _raise_nofile(want: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < want:
        try:  # root may raise the hard limit; the service started below inherits it
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            pass
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class _Client:
    """One keep-alive connection with the token."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=self.auth)
        resp = self.conn.getresponse()
        return resp.status, resp.read()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def bench_load(idle: int, templates: int) -> None:
    from service_support import sample_body

    limit = _raise_nofile(idle + 4096)
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        env = {**os.environ, "AIBTUI_STATE_DIR": str(state), "AIBTUI_SERVICE_READ_TIMEOUT": "600",
               "AIBTUI_SIM_STEP_DELAY": "0.01", "AIBTUI_SERVICE_PAGE_SIZE": "100"}
        started = subprocess.run([sys.executable, "-m", "aibtui.service", "--start", "--output", "json",
                                  "--state-dir", str(state)], env=env, capture_output=True, text=True, timeout=60)
        if started.returncode != 0:
            raise SystemExit(f"the service did not start: {started.stderr}")
        info = json.loads(started.stdout)
        port, token = int(info["port"]), Path(info["tokenFile"]).read_text().strip()
        try:
            c = _Client(port, token)
            status, _ = c.call("PUT", f"{TPL}/status?api-version=2024-02-01", sample_body())
            assert status == 201, status
            path = f"{TPL}/status?api-version=2024-02-01"
            _keepalive(port, token, path)
            _pages(port, token, templates)
            _idle(port, token, path, idle, limit)
        finally:
            subprocess.run([sys.executable, "-m", "aibtui.service", "--stop", "--state-dir", str(state)], env=env,
                           capture_output=True, timeout=60)


def _keepalive_worker(port: int, token: str, path: str, seconds: float, out: list[tuple[int, list[float]]],
                      lock: threading.Lock) -> None:
    c = _Client(port, token)
    n, mine = 0, []
    end = time.perf_counter() + seconds
    while (t0 := time.perf_counter()) < end:
        status, _ = c.call("GET", path)
        mine.append(time.perf_counter() - t0)
        assert status == 200, status
        n += 1
    with lock:
        out.append((n, mine))


def _keepalive(port: int, token: str, path: str, seconds: float = 3.0) -> None:
    for clients in (1, 8):
        out: list[tuple[int, list[float]]] = []
        lock = threading.Lock()
        threads = [threading.Thread(target=_keepalive_worker, args=(port, token, path, seconds, out, lock))
                   for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        lat = [x for _, mine in out for x in mine]
        print(f"status GET on keep-alive, {clients} client(s): {sum(n for n, _ in out) / seconds:7.0f} req/s   "
              f"p50 {_pct(lat, 0.5):5.1f} ms   p99 {_pct(lat, 0.99):5.1f} ms")


def _hold(port: int, count: int, conn: Any) -> None:
    """(a child process) Open ``count`` idle connections, report, hold them until told to stop."""
    _raise_nofile(count + 1024)
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.settimeout(60)
            s.connect(("127.0.0.1", port))
            socks.append(s)
        conn.send(len(socks))
    except OSError as exc:
        conn.send(f"{len(socks)} opened, then {exc}")
    conn.recv()
    for s in socks:
        s.close()


def _idle(port: int, token: str, path: str, want: int, limit: int) -> None:
    """The service holds at most its RLIMIT_NOFILE minus what it needs itself (SQLite per thread...):
    ask for that many at most; two helper processes hold them (one process could not, either)."""
    import multiprocessing as mp

    count = min(want, limit - 300)
    t0 = time.perf_counter()
    ctx = mp.get_context("fork")
    holders = []
    for part in (count // 2, count - count // 2):
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=_hold, args=(port, part, theirs), daemon=True)
        proc.start()
        holders.append((proc, mine))
    try:
        held = [h.recv() for _, h in holders]
        if not all(isinstance(n, int) for n in held):
            raise SystemExit(f"could not open the idle connections: {held}")
        opened = time.perf_counter() - t0
        c = _Client(port, token)
        lat = []
        for _ in range(1000):
            t = time.perf_counter()
            status, _ = c.call("GET", path)
            lat.append(time.perf_counter() - t)
            assert status == 200, status
        fresh = []
        for _ in range(50):  # new connections are still accepted while the idle ones are held
            t = time.perf_counter()
            status, _ = _Client(port, token).call("GET", path)
            fresh.append(time.perf_counter() - t)
            assert status == 200, status
        print(f"status GET with {sum(held)} idle connections open (opened in {opened:.1f}s): "
              f"p50 {_pct(lat, 0.5):5.1f} ms   p99 {_pct(lat, 0.99):5.1f} ms   "
              f"new connection + GET p99 {_pct(fresh, 0.99):5.1f} ms")
        if count < want:
            print(f"  ({count}, not {want}: the hard RLIMIT_NOFILE here is {limit} and cannot be raised)")
    finally:
        for proc, h in holders:
            h.send("stop")
            proc.join(60)


def _pages(port: int, token: str, templates: int) -> None:
    from service_support import sample_body

    body = sample_body()
    t0 = time.perf_counter()
    errors: list[int] = []

    def put(lo: int, hi: int) -> None:
        c = _Client(port, token)
        for i in range(lo, hi):
            status, _ = c.call("PUT", f"{TPL}/t{i:05d}?api-version=2024-02-01", body)
            if status != 201:
                errors.append(status)

    templates -= 1  # with the "status" template: exactly `templates`, so the last page is a full one
    step = -(-templates // 8)
    threads = [threading.Thread(target=put, args=(i, min(templates, i + step))) for i in range(0, templates, step)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"PUTs failed: {errors[:5]}")
    made = time.perf_counter() - t0
    c = _Client(port, token)
    url = f"{TPL}?api-version=2024-02-01"
    first_url, last_url, pages = url, url, 0
    while url:
        status, data = c.call("GET", url)
        assert status == 200, status
        pages += 1
        last_url = url
        nxt = json.loads(data).get("nextLink")
        url = nxt.split(str(port), 1)[1] if nxt else ""
    runs: dict[str, list[float]] = {"first": [], "last": []}
    for _ in range(50):  # interleaved, so load from elsewhere on the machine hits both alike
        for label, u in (("first", first_url), ("last", last_url)):
            t = time.perf_counter()
            c.call("GET", u)
            runs[label].append(time.perf_counter() - t)
    timing = {label: statistics.median(v) * 1000 for label, v in runs.items()}
    print(f"list of {templates + 1} templates ({pages} pages of 100; {templates} PUTs in {made:.1f}s): "
          f"first page {timing['first']:5.1f} ms   last page {timing['last']:5.1f} ms (medians of 50, interleaved)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--step-delay", type=float, default=0.0)
    ap.add_argument("--poll", type=float, default=0.1, help="watch poll interval (the CLI's local default)")
    ap.add_argument("--only", choices=("build", "lag", "load"), help="run one section")
    ap.add_argument("--idle", type=int, default=20000, help="idle connections held open during the status GETs")
    ap.add_argument("--templates", type=int, default=2000, help="templates in the list-paging measurement")
    args = ap.parse_args()
    if args.only in (None, "build"):
        bench_build(args.runs, args.step_delay)
    if args.only in (None, "lag"):
        bench_lag(args.poll, max(args.step_delay, 0.25), long_poll=True)
        bench_lag(args.poll, max(args.step_delay, 0.25), long_poll=False)
    if args.only in (None, "load"):
        bench_load(args.idle, args.templates)


if __name__ == "__main__":
    main()
