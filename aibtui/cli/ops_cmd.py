"""Build operations: build, status, cancel, outputs, logs, list, delete, images.

Every command talks ARM through :class:`aibtui.arm.client.ArmClient`, to the embedded local service
(default; started on demand) or to Azure (``--provider azure``: your ``az login``). See
docs/operations.md for a sample session.

Exit codes: 0 success; 1 the input has errors, the service refused, or the build failed/was
canceled; 2 usage error; 130 detached with Ctrl-C (the build goes on).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from aibtui.cli.main import UsageError

SIMULATED_NOTE = ("note: the local provider runs a Linux build's steps for real, in a sandbox, when it has a root "
                  "filesystem for the source (--rootfs, or [local.rootfs] in the config); otherwise it SIMULATES "
                  "builds: no step is executed and no image is made, and the log says why")


# -- arguments -------------------------------------------------------------------------------
def _common(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("target")
    g.add_argument("--provider", choices=("local", "azure"),
                   help="local (embedded service, the default) or azure; default from AIBTUI_PROVIDER or the "
                        "config file")
    g.add_argument("--auth", choices=("cli", "env", "identity", "default"),
                   help="Azure credentials: cli (your az login, the default), env (service principal from "
                        "AZURE_* variables), identity (workload or managed identity), default "
                        "(DefaultAzureCredential); default from AIBTUI_AUTH or the config file")
    g.add_argument("--subscription", help="Azure subscription (default: `az account show`)")
    g.add_argument("--tenant", help="Azure tenant to get the token from (default: the subscription's)")
    g.add_argument("-g", "--resource-group", help="resource group (default: `az configure --defaults group=`)")
    g.add_argument("--api-version", help="image builder API version (default 2024-02-01)")
    g.add_argument("--debug", action="store_true", help="print every request and answer (tokens redacted)")


def add_arguments_for(command: str, parser: argparse.ArgumentParser) -> None:
    if command == "build":
        parser.add_argument("file", type=Path, help="*.aib.yaml (compiled first) or an image template .json")
        parser.add_argument("--name", help="template name (default: the file's `name`, else its stem)")
        parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="set a variable")
        parser.add_argument("--replace", action="store_true",
                            help="replace a deployed template that differs, without asking")
        parser.add_argument("--no-wait", action="store_true", help="start the run and return")
        parser.add_argument("--poll", type=float, help="seconds between status polls")
        parser.add_argument("--rootfs", type=Path, metavar="PATH",
                            help="local provider: run the steps for real in a sandbox on a copy of this root "
                                 "filesystem (a folder or a .tar[.gz|.xz])")
    elif command in ("status", "logs"):
        parser.add_argument("name", help="image template name")
        if command == "status":
            parser.add_argument("--watch", action="store_true", help="follow the run until it ends (re-attach)")
            parser.add_argument("--json", action="store_true", help="print the template resource as JSON")
        else:
            parser.add_argument("-f", "--follow", action="store_true",
                                help="keep printing new lines until the run ends")
            parser.add_argument("--run-id", help="a previous run's id (default: the last run)")
        parser.add_argument("--poll", type=float, help="seconds between polls")
    elif command == "cancel":
        parser.add_argument("name", help="image template name")
        parser.add_argument("--wait", action="store_true", help="wait until the run is Canceled")
    elif command == "outputs":
        parser.add_argument("name", help="image template name")
        parser.add_argument("output", nargs="?", help="one run output (runOutputName)")
        parser.add_argument("--json", action="store_true", help="print JSON")
    elif command == "list":
        parser.add_argument("--all", action="store_true", help="every resource group of the subscription")
        parser.add_argument("--json", action="store_true", help="print JSON")
    elif command == "delete":
        parser.add_argument("name", help="image template name")
        parser.add_argument("--no-wait", action="store_true", help="return once the delete is accepted")
    elif command == "images":
        parser.add_argument("urn", nargs="?", default="",
                            help="PUBLISHER, PUBLISHER:OFFER or PUBLISHER:OFFER:SKU (the source: syntax)")
        parser.add_argument("-l", "--location", help="Azure region (default: `az configure --defaults location=`)")
        parser.add_argument("--json", action="store_true", help="print JSON")
    _common(parser)


# -- entry -----------------------------------------------------------------------------------
def run_for(command: str, args: argparse.Namespace) -> int:
    from aibtui.arm.errors import ArmError, ClientError
    from aibtui.config import ConfigError

    out, err = sys.stdout, sys.stderr
    try:
        return _COMMANDS[command](args, out, err)
    except ConfigError as exc:
        err.write(f"aibtui {command}: error: {exc}\n")
        return 2
    except ArmError as exc:
        err.write(f"aibtui {command}: the service refused: {exc}\n")
        return 1
    except ClientError as exc:
        err.write(f"aibtui {command}: error: {exc}\n")
        return 1


def _client(args: argparse.Namespace, err: TextIO) -> Any:
    from aibtui.arm.provider import Target, open_client

    debug = None
    if args.debug:
        def debug(line: str) -> None:
            err.write(f"debug: {line}\n")
    target = Target(provider=args.provider, subscription=args.subscription, tenant=args.tenant,
                    auth=getattr(args, "auth", None),
                    resource_group=args.resource_group,
                    location=getattr(args, "location", None), api_version=args.api_version, debug=debug)
    return open_client(target)


def _poll_interval(args: argparse.Namespace, client: Any) -> float:
    if getattr(args, "poll", None):
        if args.poll <= 0:
            raise UsageError("--poll must be positive")
        return float(args.poll)
    return 0.1 if client.provider == "local" else 15.0


def _sets(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set expects KEY=VALUE, got {pair!r}")
        out[key.strip()] = value
    return out


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


# -- build -----------------------------------------------------------------------------------
def _build(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from aibtui.arm.deploy import DeployError, apply_deploy, plan_deploy, start_run
    from aibtui.arm.source import load_template

    sets = _sets(args.set)
    loaded = load_template(args.file, api_version=args.api_version, sets=sets)
    for line in loaded.messages:
        err.write(line + "\n")
    if not loaded.ok or loaded.body is None:
        err.write(f"aibtui build: {args.file} has errors; nothing was sent\n")
        return 1
    name = args.name or loaded.name
    assert name is not None
    client = _client(args, err)
    rootfs = getattr(args, "rootfs", None)
    if rootfs is not None:
        if client.provider != "local":
            raise UsageError("--rootfs is for the local provider (Azure builds on its own VMs)")
        if not rootfs.exists():
            raise UsageError(f"--rootfs {rootfs}: no such folder or file")
        out.write(f"note: local build: the steps run in a sandbox on a fresh copy of {rootfs.resolve()}\n")
    elif client.provider == "local":
        out.write(SIMULATED_NOTE + "\n")
    plan = plan_deploy(client, name, loaded.body)
    if not _confirm_plan(plan, args, out, err):
        return 1
    try:
        apply_deploy(client, plan, loaded.body)
    except DeployError as exc:
        err.write(f"aibtui build: {exc}\n")
        return 1
    if plan.action != "reuse":
        out.write(f"template {name}: created (provisioningState Succeeded)\n")
    previous = plan.previous_start
    if start_run(client, name, previous, rootfs=str(rootfs.resolve()) if rootfs is not None else None):
        out.write("the run had started already (the service's first answer was lost); watching it\n")
    if args.no_wait:
        out.write(f"run started for {name}; follow it with `aibtui status {name} --watch` or "
                  f"`aibtui logs {name} --follow`\n")
        return 0
    out.write(f"run started; watching {name} (Ctrl-C detaches, the build goes on)\n")
    return _watch(client, name, args, out, err, outputs=True, stale_start=previous)


def _confirm_plan(plan: Any, args: argparse.Namespace, out: TextIO, err: TextIO) -> bool:
    """Say what deploying will do; for a replace, ask (or require --replace). False: stop, exit 1."""
    name = plan.name
    if plan.action == "reuse":
        out.write(f"template {name}: deployed and identical to {args.file}; reusing it\n")
        return True
    if plan.action == "create":
        out.write(f"creating template {name} ...\n")
        return True
    if plan.failed_before:
        out.write(f"template {name}: its earlier provisioning failed; it will be recreated\n")
    else:
        changes = plan.changes
        out.write(f"template {name}: the deployed template differs from {args.file} "
                  f"({len(changes)} change{'s' if len(changes) != 1 else ''}):\n")
        for ch in changes[:40]:
            out.write(f"  {ch.format()}\n")
        if len(changes) > 40:
            out.write(f"  ... and {len(changes) - 40} more\n")
        out.write("templates cannot be updated in place: replacing means deleting it (and its run outputs, "
                  "VHDs included) and creating it again\n")
    if plan.busy:
        err.write(f"aibtui build: {name} has a run in progress; `aibtui cancel {name}` first, or wait\n")
        return False
    if not plan.failed_before and not args.replace:
        if not sys.stdin.isatty():
            err.write(f"aibtui build: not replacing {name} without confirmation; rerun with --replace\n")
            return False
        if not _confirm(f"delete and recreate {name}?"):
            err.write("aibtui build: kept the deployed template; nothing was run\n")
            return False
    out.write(f"deleting template {name} ...\ncreating template {name} ...\n")
    return True


def _watch(client: Any, name: str, args: argparse.Namespace, out: TextIO, err: TextIO, *, outputs: bool,
           log: bool = True, log_after: int = 0, stale_start: str | None = None) -> int:
    """Print state changes and new log lines until the run ends. ``stale_start``: the startTime of
    the run before ours; until the service reports a newer one (Azure may lag), keep waiting."""
    from aibtui.arm.errors import TransportError
    from aibtui.arm.watch import RunWatcher, format_elapsed

    interval = _poll_interval(args, client)
    watcher = RunWatcher(client, name, follow_log=log, log_after=log_after)
    waiting_said = False
    try:
        while True:
            long_poll = watcher.long_polls
            upd = watcher.poll(wait=max(interval, 2.0) if long_poll and not getattr(args, "poll", None) else
                               interval if long_poll else 0.0)
            st = upd.status
            if upd.log_note:
                out.write(f"({upd.log_note.splitlines()[0]})\n")
            if st is None or (stale_start is not None and watcher.raw_start == stale_start):
                if not waiting_said:
                    out.write("waiting for the service to report the new run ...\n")
                    waiting_said = True
                watcher.reset()
                time.sleep(interval)
                continue
            stale_start = None
            for line in upd.log_lines:
                out.write(f"  | {line}\n")
            if upd.changed:
                sub = f" / {st.sub_state}" if st.sub_state and not st.done else ""
                msg = f": {st.message}" if st.message else ""
                out.write(f"[{format_elapsed(st.elapsed())}] {st.state}{sub}{msg}\n")
            out.flush()
            if watcher.done:
                break
            if not (long_poll and watcher.long_polls):
                time.sleep(interval)
    except KeyboardInterrupt:
        out.write(f"\ndetached: the build goes on. Re-attach with `aibtui status {name} --watch` "
                  f"(or `aibtui logs {name} --follow`); stop it with `aibtui cancel {name}`\n")
        return 130
    except TransportError as exc:
        err.write(f"lost contact with the service while watching {name}: {exc}\n"
                  f"the build may go on; re-attach with `aibtui status {name} --watch`\n")
        return 1
    st = watcher.status
    assert st is not None
    return _finish(client, name, st, out, err, outputs=outputs)


_STEP = re.compile(r"step '([^']+)'")


def _finish(client: Any, name: str, st: Any, out: TextIO, err: TextIO, *, outputs: bool) -> int:
    from aibtui.arm.watch import format_elapsed

    label = " (SIMULATED: no step was executed)" if st.simulated else ""
    if st.state in ("Succeeded", "PartiallySucceeded"):
        out.write(f"build {st.state.lower()} in {format_elapsed(st.elapsed())}{label}\n")
        if outputs:
            _print_outputs(client.run_outputs(name), out)
        if st.simulated:  # exit 0, but the last word is that nothing ran
            out.write(f"{_nothing_executed(st)}\n")
        return 0
    m = _STEP.search(st.message)
    where = f" in step '{m.group(1)}'" if m else ""
    if st.state == "Canceled":
        err.write(f"build canceled{label}: {st.message}\n")
    else:
        err.write(f"build failed{where}{label}: {st.message}\n")
    return 1


def _nothing_executed(st: Any) -> str:
    why = st.execution.reason if st.execution is not None and st.execution.reason else "no reason given"
    return f"nothing was executed: this was a simulated run ({why})"


def _execution_line(st: Any) -> str | None:
    """How the run executes, from lastRunStatus.aibtuiExecution (None on Azure, which always executes)."""
    ex = st.execution
    if ex is None:
        return None
    if st.simulated:
        return f"  execution: SIMULATED, no step is executed ({ex.reason or 'no reason given'})"
    return f"  execution: steps executed in the {ex.sandbox or 'local'} sandbox"


def _print_outputs(outs: list[dict[str, Any]], out: TextIO) -> None:
    if not outs:
        out.write("no run outputs\n")
        return
    out.write("run outputs:\n")
    width = max(len(o.get("name", "")) for o in outs)
    for o in outs:
        p = o.get("properties") or {}
        what = p.get("artifactId") or p.get("artifactUri") or "-"
        kind = "artifactId" if p.get("artifactId") else "artifactUri"
        out.write(f"  {o.get('name', ''):<{width}}  {kind}  {what}\n")


# -- status, cancel, outputs, logs -----------------------------------------------------------
def _status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from aibtui.arm.watch import RunStatus, format_elapsed

    client = _client(args, err)
    tpl = client.get_template(args.name)
    if args.json and not args.watch:
        out.write(json.dumps(tpl, indent=2) + "\n")
        return 0
    props = tpl.get("properties") or {}
    out.write(f"template {tpl.get('name', args.name)} ({client.provider}): provisioningState "
              f"{props.get('provisioningState', '?')}\n")
    perr = props.get("provisioningError")
    if perr:
        out.write(f"  provisioningError: {perr.get('provisioningErrorCode', '')}: {perr.get('message', '')}\n")
    st = RunStatus.from_template(tpl)
    if st is None:
        out.write("  no run yet\n")
        return 0
    if args.watch and not st.done:
        after = _log_end(client, args.name, err)  # re-attach: show the log from here on
        return _watch(client, args.name, args, out, err, outputs=True, log=after is not None,
                      log_after=after or 0)
    sub = f" / {st.sub_state}" if st.sub_state and not st.done else ""
    out.write(f"  last run: {st.state}{sub} ({format_elapsed(st.elapsed())})\n")
    if st.message:
        out.write(f"  message: {st.message}\n")
    line = _execution_line(st)
    if line:
        out.write(line + "\n")
    return 1 if st.state == "Failed" else 0


def _log_end(client: Any, name: str, err: TextIO) -> int | None:
    """Where the customization log ends now (None: it cannot be read; the reason is printed)."""
    from aibtui.arm.errors import ClientError

    try:
        return int(client.customization_log(name).get("next") or 0)
    except ClientError as exc:
        err.write(f"(no live log: {exc})\n")
        return None


def _cancel(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """POST cancel. ``--wait``: until lastRunStatus.runState is Canceled, or the run ended another way
    first (it finished before the cancel took effect); says which."""
    from aibtui.arm.errors import ArmError
    from aibtui.arm.watch import RunStatus

    client = _client(args, err)
    try:
        op = client.cancel(args.name)
    except ArmError as exc:
        if exc.status != 409:
            raise
        st = client.last_run(args.name)
        if args.wait and st.get("runState") in ("Succeeded", "PartiallySucceeded", "Failed", "Canceled"):
            out.write(f"{args.name}: the run had already ended ({st['runState']}); nothing to cancel\n")
            return 0
        err.write(f"aibtui cancel: {exc.message}\n")
        return 1
    if not args.wait:
        out.write(f"cancel requested for {args.name}; the run is Canceling. Watch it: `aibtui status {args.name}"
                  " --watch`\n")
        return 0
    op.wait()
    done = client.watch_run(args.name).wait()
    st = RunStatus.from_template(client.get_template(args.name))
    label = " (simulated: nothing was executed)" if st is not None and st.simulated else ""
    message = st.message if st is not None else ""
    if done == "Canceled":
        out.write(f"{args.name}: Canceled{label}: {message}\n")
    else:
        out.write(f"{args.name}: the run ended {done} before the cancel took effect{label}: {message}\n")
    return 0


def _outputs(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    client = _client(args, err)
    outs = [client.run_output(args.name, args.output)] if args.output else client.run_outputs(args.name)
    if args.json:
        out.write(json.dumps(outs[0] if args.output else outs, indent=2) + "\n")
    else:
        _print_outputs(outs, out)
    return 0


def _logs(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    client = _client(args, err)
    if not args.follow:
        log = client.customization_log(args.name, run_id=args.run_id)
        if log.get("runId") is None:
            out.write(f"{args.name}: no run yet\n")
            return 0
        for ln in log.get("lines") or []:
            out.write(ln["text"] + "\n")
        return 0
    interval = _poll_interval(args, client)
    wait = args.poll or 2.0  # the service answers a waiting read as soon as a line arrives
    after = 0
    try:
        while True:
            log = client.customization_log(args.name, after=after, run_id=args.run_id, wait=wait)
            for ln in log.get("lines") or []:
                out.write(ln["text"] + "\n")
            out.flush()
            after = int(log.get("next") or after)
            if log.get("complete"):
                break
            if client.provider != "local" or (not log.get("lines") and "runState" not in log):
                time.sleep(interval)  # Azure: the log is a blob, read again after the poll interval
    except KeyboardInterrupt:
        out.write("\n(stopped following; the build goes on)\n")
        return 130
    tpl = client.get_template(args.name)
    state = ((tpl.get("properties") or {}).get("lastRunStatus") or {}).get("runState")
    return 1 if state in ("Failed", "Canceled") else 0


# -- list, delete, images --------------------------------------------------------------------
def _list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from aibtui.arm.watch import Execution
    from aibtui.localbuild.model import SIMULATED

    client = _client(args, err)
    items = list(client.list_templates(all_groups=args.all))
    if args.json:
        out.write(json.dumps(items, indent=2) + "\n")
        return 0
    if not items:
        out.write("no image templates\n")
        return 0
    rows = [("NAME", "PROVISIONING", "LAST RUN", "LOCATION")]
    for t in items:
        p = t.get("properties") or {}
        st = p.get("lastRunStatus") or {}
        run = st.get("runState") or "-"
        if run in ("Running", "Canceling") and st.get("runSubState"):
            run += f"/{st['runSubState']}"
        ex = Execution.from_status(st)
        if ex is not None and ex.mode == SIMULATED:
            run += " (simulated)"
        rows.append((t.get("name", "?"), p.get("provisioningState", "?"), run, t.get("location", "")))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        out.write(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}\n")
    return 0


def _delete(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    client = _client(args, err)
    if client.find_template(args.name) is None:
        err.write(f"aibtui delete: no image template named {args.name}\n")
        return 1
    poller = client.delete_template(args.name)
    if args.no_wait:
        out.write(f"delete of {args.name} accepted\n")
        return 0
    poller.result()
    out.write(f"deleted {args.name}\n")
    return 0


def _images(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    client = _client(args, err)
    location = args.location or client.location
    if not location:
        raise UsageError("pass --location (or set `az configure --defaults location=REGION`)")
    parts = [p for p in args.urn.split(":")] if args.urn else []
    if len(parts) > 3 or any(not p for p in parts):
        raise UsageError(f"expected PUBLISHER[:OFFER[:SKU]], got {args.urn!r}")
    if len(parts) == 0:
        items = client.publishers(location)
    elif len(parts) == 1:
        items = client.offers(location, parts[0])
    elif len(parts) == 2:
        items = client.skus(location, parts[0], parts[1])
    else:
        items = client.versions(location, *parts)
    if args.json:
        out.write(json.dumps(items, indent=2) + "\n")
        return 0
    if not items:
        out.write("nothing found\n")
        return 0
    prefix = ":".join(parts)
    for i, item in enumerate(items):
        name = item.get("name", "?")
        full = f"{prefix}:{name}" if prefix else name
        props = item.get("properties") or {}
        extra = []
        if props.get("osFamily"):
            extra.append(props["osFamily"])
        if props.get("hyperVGeneration"):
            extra.append(f"Gen{props['hyperVGeneration'].lstrip('Vv')}")
        if props.get("multiSession"):
            extra.append("multi-session")
        if len(parts) == 3 and i == len(items) - 1:
            extra.append("latest")
        out.write(full + (f"  ({', '.join(extra)})" if extra else "") + "\n")
    if client.provider == "local":
        out.write("(from the local service's bundled catalog of popular images; Azure has many more)\n")
    return 0


_COMMANDS = {"build": _build, "status": _status, "cancel": _cancel, "outputs": _outputs, "logs": _logs,
             "list": _list, "delete": _delete, "images": _images}
