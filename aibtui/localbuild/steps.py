"""Executing customize and validation steps inside the sandbox, with live output.

Every step runs as its own sandboxed command: its script (or the file to place) is written to the
run's control folder on the host, which the sandbox sees read-only at ``/.aibtui``; the host never
writes into the rootfs once steps have started (a step could have planted symlinks there).

The log shows, in order::

    ==> customize 1/3: step 'hello' (Shell)
    [hello] output line
    [hello] ! a line on stderr
    <== step 'hello' (Shell): exit code 0 (0.02s)
"""

from __future__ import annotations

import hashlib
import os
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from .model import StepFailed, stop_error
from .sandbox import CTL_MOUNT, Sandbox

MAX_FETCH = 256 * 1024 * 1024
SMALL_FILE = 20 * 1024 * 1024  # F-04: File steps are meant for files under 20 MB
DEPROVISION_SCRIPT = "/tmp/DeprovisioningScript.sh"
WAAGENT = "/usr/sbin/waagent -force -deprovision+user && export HISTSIZE=0 && sync"
AZURE_ONLY = ("WindowsRestart", "WindowsUpdate")


@dataclass
class StepContext:
    sandbox: Sandbox
    log: Callable[[list[str]], None]  # append lines to the customization log
    should_stop: Callable[[], str | None]  # "canceled" | "timeout" | "interrupted" | None
    fetch_timeout: float = 60.0
    network: bool = True  # False: downloads on a step's behalf go through netguard (public addresses only)


def _open_url(url: str, timeout: float) -> Any:
    """urllib's opener (one place, so tests can route a public-looking URL to a loopback server)."""
    return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - http(s) only, checked by the caller


def _guarded_get(url: str, timeout: float) -> bytes:
    """A download for a step without network: public addresses only, every redirect checked (netguard)."""
    from . import netguard

    return netguard.get(url, timeout, MAX_FETCH)


def fetch(uri: str, sha256: str | None, step: str, kind: str, timeout: float, network: bool = True) -> bytes:
    """The bytes at ``uri`` (https/http, ``file://``, or a local path), checked against ``sha256``.

    With ``network`` false (the steps have no network), an http(s) download must reach a public
    address, checked for every redirect (:mod:`.netguard`): the host's loopback, link-local or
    private services are not the step's to read."""
    parts = urlsplit(uri)
    try:
        if parts.scheme in ("http", "https") and not network:
            data = _guarded_get(uri, timeout)
        elif parts.scheme in ("http", "https"):
            with _open_url(uri, timeout) as resp:
                data = resp.read(MAX_FETCH + 1)
        elif parts.scheme == "file" or (parts.scheme == "" and uri.startswith("/")):
            path = unquote(parts.path) if parts.scheme == "file" else uri
            with open(path, "rb") as fh:
                data = fh.read(MAX_FETCH + 1)
        else:
            raise StepFailed(step, kind, f"cannot fetch {uri!r}: use https://, http://, file:// or an absolute path")
    except OSError as exc:
        why = "refused" if type(exc).__name__ == "Refused" else "could not download"
        raise StepFailed(step, kind, f"{why} {uri}: {exc}") from exc
    if len(data) > MAX_FETCH:
        raise StepFailed(step, kind, f"{uri} is larger than {MAX_FETCH // (1024 * 1024)} MB")
    if sha256:
        got = hashlib.sha256(data).hexdigest()
        if got.lower() != sha256.strip().lower():
            raise StepFailed(step, kind, f"sha256 mismatch for {uri}: expected {sha256.strip().lower()}, got {got}")
    return data


def _write_ctl(ctx: StepContext, name: str, data: bytes, mode: int = 0o644) -> str:
    path = ctx.sandbox.ctl / name
    path.write_bytes(data)
    os.chmod(path, mode)
    return f"{CTL_MOUNT}/{name}"


def sandboxed(ctx: StepContext, name: str, argv: list[str], quiet: bool = False) -> int:
    """Run ``argv`` in the sandbox, streaming its output as lines of step ``name``."""
    def on_lines(stream: str, lines: list[str]) -> None:
        if not quiet:
            mark = "! " if stream == "err" else ""
            ctx.log([f"[{name}] {mark}{line}" for line in lines])

    out = ctx.sandbox.run(argv, on_lines, ctx.should_stop)
    if out.limit is not None:
        ctx.log([f"[{name}] ! stopped by {out.limit}: every process of the step was killed"])
        raise StepFailed(name, "?", f"stopped by {out.limit}")
    if out.stopped is not None:
        raise stop_error(out.stopped)
    assert out.exit_code is not None
    return out.exit_code


def _exit_codes(step: dict[str, Any]) -> list[int]:
    codes = step.get("validExitCodes")
    if isinstance(codes, list) and codes and all(isinstance(c, int) for c in codes):
        return list(codes)
    return [0]


def run_step(ctx: StepContext, step: dict[str, Any], label: str) -> None:
    """Run one customize/validation step; raises StepFailed (or Canceled/TimedOut/Interrupted)."""
    name = str(step.get("name") or "unnamed")
    kind = str(step.get("type") or "?")
    ctx.log([f"==> {label}: step '{name}' ({kind})"])
    started = time.monotonic()
    valid = _exit_codes(step)
    try:
        if kind == "Shell":
            code = _shell(ctx, step, name, kind)
        elif kind == "PowerShell":
            code = _powershell(ctx, step, name, kind)
        elif kind == "File":
            code = _file(ctx, step, name, kind)
        elif kind in AZURE_ONLY:
            raise StepFailed(name, kind, f"a {kind} step needs a Windows build VM: it cannot run in a local build")
        else:
            raise StepFailed(name, kind, f"unknown step type {kind!r}: not executed")
    except StepFailed as exc:
        if exc.kind == "?":  # a limit stopped the sandboxed command
            exc.kind = kind
            ctx.log([f"<== step '{name}' ({kind}): FAILED, {exc.why} ({time.monotonic() - started:.2f}s)"])
        raise
    took = time.monotonic() - started
    ok = code in valid
    extra = f" (valid: {', '.join(map(str, valid))})" if valid != [0] else ""
    ctx.log([f"<== step '{name}' ({kind}): exit code {code}{extra}{'' if ok else ' FAILED'} ({took:.2f}s)"])
    if not ok:
        raise StepFailed(name, kind, f"exit code {code}{extra}", exit_code=code)


def _script(ctx: StepContext, step: dict[str, Any], name: str, kind: str, suffix: str) -> tuple[str, bool]:
    """Write the step's script into the control folder: (path inside the sandbox, has a shebang)."""
    if "scriptUri" in step and step["scriptUri"]:
        data = fetch(str(step["scriptUri"]), step.get("sha256Checksum") or None, name, kind, ctx.fetch_timeout,
                     ctx.network)
    else:
        inline = step.get("inline") or []
        if not isinstance(inline, list):
            raise StepFailed(name, kind, "inline must be a list of commands")
        data = ("\n".join(str(c) for c in inline) + "\n").encode("utf-8")
    return _write_ctl(ctx, f"step{suffix}", data, 0o755), data.startswith(b"#!")


def _shell(ctx: StepContext, step: dict[str, Any], name: str, kind: str) -> int:
    path, shebang = _script(ctx, step, name, kind, ".sh")
    if shebang and step.get("scriptUri"):
        return sandboxed(ctx, name, [path])
    # inline commands run like Packer's inline shell: /bin/sh -e, so the first failing command fails the step
    return sandboxed(ctx, name, ["/bin/sh", "-e", path] if not step.get("scriptUri") else ["/bin/sh", path])


def _powershell(ctx: StepContext, step: dict[str, Any], name: str, kind: str) -> int:
    if sandboxed(ctx, name, ["/bin/sh", "-c", "command -v pwsh"], quiet=True) != 0:
        raise StepFailed(name, kind, "PowerShell steps need pwsh in the root filesystem and it is not installed "
                         "there (install it in an earlier Shell step, or build on Azure); not executed")
    path, _ = _script(ctx, step, name, kind, ".ps1")
    return sandboxed(ctx, name, ["pwsh", "-NoLogo", "-NoProfile", "-NonInteractive", "-File", path])


def _file(ctx: StepContext, step: dict[str, Any], name: str, kind: str) -> int:
    dest = str(step.get("destination") or "")
    uri = str(step.get("sourceUri") or "")
    if not dest or not uri:
        raise StepFailed(name, kind, "a File step needs sourceUri and destination")
    norm = os.path.normpath(dest)
    if not norm.startswith("/tmp/"):
        raise StepFailed(name, kind, f"destination {dest} is outside /tmp: on Linux, Image Builder can write only "
                         "under /tmp (F-03); place it in /tmp and move it with a Shell step (sudo mv)")
    data = fetch(uri, step.get("sha256Checksum") or None, name, kind, ctx.fetch_timeout, ctx.network)
    if len(data) > SMALL_FILE:
        ctx.log([f"[{name}] note: {len(data) // (1024 * 1024)} MB; File steps are meant for files under 20 MB "
                 "(F-04), download large files in a script"])
    src = _write_ctl(ctx, "file", data)
    ctx.log([f"[{name}] {uri} ({len(data)} bytes) -> {dest}"])
    # placed from inside the sandbox: the destination resolves in the rootfs, never on the host
    place = ('d=$(dirname "$1"); if [ ! -d "$d" ]; then echo "destination folder $d does not exist (F-02)" >&2; '
             'exit 1; fi; cp "$2" "$1"')
    return sandboxed(ctx, name, ["/bin/sh", "-c", place, "place", norm, src])


def run_deprovision(ctx: StepContext) -> None:
    """G-04: the user's /tmp/DeprovisioningScript.sh runs if present; the default waagent step is skipped."""
    present = sandboxed(ctx, "deprovision", ["/bin/sh", "-c", f"test -f {DEPROVISION_SCRIPT}"], quiet=True) == 0
    if not present:
        ctx.log([f"skipped: deprovision `{WAAGENT}`: the Azure VM agent generalizes a VM; a local root "
                 f"filesystem has no agent to deprovision (write {DEPROVISION_SCRIPT} in a step to run your own)"])
        return
    run_step(ctx, {"type": "Shell", "name": "deprovision", "inline": [f"/bin/sh {DEPROVISION_SCRIPT}"]},
             f"deprovision ({DEPROVISION_SCRIPT})")
