"""Running the local service: in the foreground, or ``--start`` / ``--stop`` / ``--status``.

The entry point of ``python -m aibtui.service`` and of ``aibtui serve`` (the CLI only delegates
here: the service never imports the CLI). ``--start`` is idempotent: with a healthy service already
running for the state directory it only reports it. Reports name ``url`` (HTTPS), ``pid``,
``caFile``, ``tokenFile`` and ``subscriptionId``; ``--output json`` prints them as one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..config import state_dir
from ..localstate import (
    LOG_FILE,
    Discovery,
    ensure_state_dir,
    pid_alive,
    read_discovery,
    read_or_create_token,
)

START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--start", action="store_true", help="start the service in the background (idempotent)")
    mode.add_argument("--stop", action="store_true", help="stop the background service cleanly")
    mode.add_argument("--status", action="store_true", help="report the running service (exit 1 if none)")
    parser.add_argument("--output", choices=("text", "json"), default="text",
                        help="report format of --start/--stop/--status")
    parser.add_argument("--port", type=int, default=0, help="HTTP port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--https-port", type=int, default=0, help="HTTPS port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--state-dir", type=Path, help="state directory (default: AIBTUI_STATE_DIR or XDG state)")
    parser.add_argument("--idle-minutes", type=float, default=None,
                        help="exit after this many minutes with no request and no running build")
    parser.add_argument("--step-delay", type=float, default=None,
                        help="seconds per simulated build step (default 0.4; AIBTUI_SIM_STEP_DELAY)")
    parser.add_argument("--page-size", type=int, default=None, help="items per page of list answers")
    parser.add_argument("--fault-mode", action="store_true", help=argparse.SUPPRESS)  # test-only
    parser.add_argument("--log-file", type=Path, help="append the request log to this file instead of stderr")
    parser.add_argument("--quiet", action="store_true", help="do not print the request log")


def run(args: argparse.Namespace) -> int:
    state = Path(args.state_dir or state_dir())
    if args.start:
        before = running(state)
        if before is not None:
            return _report(before, args.output, "already running")
        return _report(start_background(state, args), args.output, "started")
    if args.stop:
        return stop_background(state, args.output)
    if args.status:
        info = running(state)
        if info is None:
            _print_none(state, args.output)
            return 1
        return _report(info, args.output, "running")
    return run_foreground(state, args)


# -- foreground --------------------------------------------------------------------------------
def run_foreground(state: Path, args: argparse.Namespace) -> int:
    from .server import AlreadyRunning, LocalService
    from .settings import ServiceSettings

    if args.log_file:
        _rotate(args.log_file)
        handler: logging.Handler = logging.FileHandler(args.log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log = logging.getLogger("aibtui.service")
    log.addHandler(handler)
    log.setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        settings = ServiceSettings.from_env(
            idle_timeout=args.idle_minutes * 60 if args.idle_minutes else None,
            step_delay=args.step_delay, page_size=args.page_size, fault_mode=True if args.fault_mode else None)
    except ValueError as exc:
        sys.stderr.write(f"aibtui serve: error: {exc}\n")
        return 2
    service = LocalService(state, settings, port=args.port, https_port=args.https_port)
    try:
        service.start()
    except AlreadyRunning as exc:
        sys.stderr.write(f"aibtui serve: {exc}\n")
        return 1
    except OSError as exc:
        sys.stderr.write(f"aibtui serve: cannot listen on 127.0.0.1 (ports {args.port}, {args.https_port}): "
                         f"{exc}\n")
        return 1

    def _stop(signum: int, frame: object) -> None:
        service.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if not args.quiet and not args.log_file:
        ca = service.tls.ca_file if service.tls else "?"
        sys.stderr.write(f"aibtui local service on {service.https_url} (HTTPS, CA {ca}) and {service.base_url}; "
                         f"state {service.state}; Ctrl-C stops it\n")
        from aibtui.localbuild.limits import StepLimits, describe

        local = service.settings.local
        lim = describe(StepLimits(local.pids, local.memory_mb, local.cpu_seconds))
        sys.stderr.write(f"limits per local build step ({lim['mechanism']}): pids {lim['pids']}; "
                         f"memory {lim['memory']}; CPU {lim['cpu']}\n")
    while not service.wait(0.5):
        pass
    return 0


def _rotate(path: Path, limit: int = 5 * 1024 * 1024) -> None:
    """Keep one previous log: a log over ``limit`` bytes becomes ``NAME.1`` when the service starts."""
    try:
        if path.stat().st_size > limit:
            path.replace(path.with_name(path.name + ".1"))
    except OSError:
        pass


# -- background --------------------------------------------------------------------------------
def _call(info: Discovery, token: str, method: str, path: str, timeout: float = 2.0) -> tuple[int, bytes] | None:
    conn = http.client.HTTPConnection("127.0.0.1", info.port, timeout=timeout)
    try:
        conn.request(method, path, headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def running(state: Path) -> Discovery | None:
    """The healthy service of this state directory, or None."""
    info = read_discovery(state)
    if info is None or not pid_alive(info.pid):
        return None
    try:
        token = read_or_create_token(state)
    except OSError:
        return None
    got = _call(info, token, "GET", "/_aibtui/health")
    return info if got is not None and got[0] == 200 else None


def start_background(state: Path, args: argparse.Namespace) -> Discovery:
    ensure_state_dir(state)
    info = running(state)
    if info is not None:
        return info
    cmd = [sys.executable, "-m", "aibtui.service", "--state-dir", str(state), "--log-file", str(state / LOG_FILE)]
    for flag, value in (("--port", args.port), ("--https-port", args.https_port),
                        ("--idle-minutes", args.idle_minutes), ("--step-delay", args.step_delay),
                        ("--page-size", args.page_size)):
        if value:
            cmd += [flag, str(value)]
    if args.fault_mode:
        cmd.append("--fault-mode")
    env = {**os.environ, "AIBTUI_STATE_DIR": str(state)}
    log_fd = os.open(state / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(log_fd, "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,  # noqa: S603 - our module
                                env=env, start_new_session=True, close_fds=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            info = running(state)  # lost a race with another start: that one is ours too
            if info is not None:
                return info
            tail = (state / LOG_FILE).read_text(encoding="utf-8", errors="replace")[-600:]
            raise SystemExit(_fail(f"the local service exited at start (code {proc.returncode}); its log "
                                   f"({state / LOG_FILE}) ends with:\n{tail}"))
        info = read_discovery(state)
        if info is not None and info.pid == proc.pid and running(state) is not None:
            return info
        time.sleep(0.02)
    raise SystemExit(_fail(f"the local service did not answer within {START_TIMEOUT:g}s; see {state / LOG_FILE}"))


def stop_background(state: Path, output: str) -> int:
    info = read_discovery(state)
    if info is None or not pid_alive(info.pid):
        _emit(output, {"running": False, "stopped": False, "stateDir": str(state)},
              f"no local service is running for {state}")
        return 0
    try:
        token = read_or_create_token(state)
    except OSError:
        token = ""
    _call(info, token, "POST", "/_aibtui/shutdown", timeout=5.0)
    deadline = time.monotonic() + STOP_TIMEOUT
    signalled = False
    while pid_alive(info.pid) and _is_ours(state, info):
        if time.monotonic() > deadline:
            if signalled:
                return _fail(f"the local service (pid {info.pid}) did not stop within {2 * STOP_TIMEOUT:g}s")
            os.kill(info.pid, signal.SIGTERM)  # it did not take the polite request: ask the process
            signalled, deadline = True, time.monotonic() + STOP_TIMEOUT
        time.sleep(0.02)
    _emit(output, {"running": False, "stopped": True, "pid": info.pid, "stateDir": str(state)},
          f"stopped the local service (pid {info.pid})")
    return 0


def _is_ours(state: Path, info: Discovery) -> bool:
    """The process still holds the state directory (its discovery file names it)."""
    now = read_discovery(state)
    return now is not None and now.pid == info.pid


def _fail(message: str) -> int:
    sys.stderr.write(f"aibtui serve: error: {message}\n")
    return 1


def _report(info: Discovery, output: str, what: str) -> int:
    data = {"running": True, **info.to_json()}
    text = (f"local service {what}: {data['url']} (pid {info.pid})\n"
            f"  caFile:         {info.ca_file}\n  tokenFile:      {info.token_file}\n"
            f"  subscriptionId: {info.subscription_id}\n  httpUrl:        {info.base_url}")
    _emit(output, data, text)
    return 0


def _print_none(state: Path, output: str) -> None:
    _emit(output, {"running": False, "stateDir": str(state)}, f"no local service is running for {state}")


def _emit(output: str, data: dict[str, object], text: str) -> None:
    sys.stdout.write((json.dumps(data, indent=2) if output == "json" else text) + "\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m aibtui.service")
    add_arguments(parser)
    return run(parser.parse_args(argv))
