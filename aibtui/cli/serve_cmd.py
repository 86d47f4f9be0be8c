"""``aibtui serve``: the embedded local image-builder service, in the foreground or in the background
(``--start`` / ``--stop`` / ``--status [--output json]``). The work is in :mod:`aibtui.service.control`;
this module only plugs it into the CLI (the service never imports the CLI).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from aibtui.service.control import add_arguments as add

    add(parser)


def run(args: argparse.Namespace) -> int:
    from aibtui.service.control import run as run_service

    return run_service(args)
