"""``aibtui serve``: run the embedded local image-builder service in the foreground.

The CLI starts the same service on demand (detached, ``python -m aibtui.service --idle-minutes 15``)
when the provider is local; ``serve`` is for watching its request log or keeping it up.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: a free one)")
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
    from aibtui.config import state_dir
    from aibtui.service.server import AlreadyRunning, LocalService
    from aibtui.service.settings import ServiceSettings

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
    service = LocalService(args.state_dir or state_dir(), settings, port=args.port)
    try:
        service.start()
    except AlreadyRunning as exc:
        sys.stderr.write(f"aibtui serve: {exc}\n")
        return 1
    except OSError as exc:
        sys.stderr.write(f"aibtui serve: cannot listen on 127.0.0.1:{args.port}: {exc}\n")
        return 1

    def _stop(signum: int, frame: object) -> None:
        service.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if not args.quiet and not args.log_file:
        sys.stderr.write(f"aibtui local service on {service.base_url} (state {service.state}); Ctrl-C stops it\n")
        from aibtui.localbuild.limits import StepLimits, describe

        lim = describe(StepLimits(settings.local.pids, settings.local.memory_mb, settings.local.cpu_seconds))
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m aibtui.service")
    add_arguments(parser)
    return run(parser.parse_args(argv))
