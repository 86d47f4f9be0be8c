"""``aibtui doctor [FILE]``: preflight checks, each a pass/fail line and its fix (docs/operations.md).

Exit codes: 0 every check passed; 1 a check failed; 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", type=Path,
                        help="a template (*.aib.yaml or .json): also check its identity, roles and galleries")
    from aibtui.cli.ops_cmd import _common

    _common(parser)


def run(args: argparse.Namespace) -> int:
    from aibtui.arm.doctor import Check, azure_checks, local_checks, run_doctor
    from aibtui.arm.errors import ClientError
    from aibtui.arm.provider import Target, open_client, resolve_provider
    from aibtui.config import ConfigError

    out, err = sys.stdout, sys.stderr

    def write(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    debug = (lambda line: err.write(f"debug: {line}\n")) if args.debug else None
    target = Target(provider=args.provider, subscription=args.subscription, tenant=args.tenant,
                    resource_group=args.resource_group, api_version=args.api_version, auth=args.auth, debug=debug)
    try:
        provider = resolve_provider(target)
    except ConfigError as exc:
        err.write(f"aibtui doctor: error: {exc}\n")
        return 2
    body: dict[str, Any] | None = None
    if args.file is not None:
        from aibtui.arm.source import load_template

        loaded = load_template(args.file, api_version=args.api_version)
        for line in loaded.messages:
            err.write(line + "\n")
        if not loaded.ok or loaded.body is None:
            err.write(f"aibtui doctor: {args.file} has errors\n")
            return 1
        body = loaded.body
    write(f"aibtui doctor ({provider})")
    if provider == "local":
        from aibtui.config import state_dir

        return run_doctor(local_checks(state_dir(), lambda: open_client(target)), write)
    try:
        client = open_client(target)
    except ClientError as exc:
        first, _, rest = str(exc).partition("\n")
        return run_doctor(iter([Check("signed in", False, first, rest.strip().removeprefix("run ") or
                                      "az login, or --auth env|identity|default")]), write)
    return run_doctor(azure_checks(client, body), write)
