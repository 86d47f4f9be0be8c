"""Entry point of the `aibtui` command.

Dispatch is lazy: the command table below names a module per command, and only the module of the
command being run is imported. `aibtui compile` therefore never pays for Textual or Azure.
Each command module defines ``add_arguments(parser)`` and ``run(args) -> int``.

Exit codes: 0 success; 1 the input has errors (or --check found a difference, or a build failed);
2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from aibtui.compiler.errors import AibtuiError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "compile": ("aibtui.cli.compile_cmd", "compile *.aib.yaml files to image-template JSON"),
    "check": ("aibtui.cli.check_cmd", "report diagnostics for *.aib.yaml files or existing template JSON"),
    "config": ("aibtui.cli.config_cmd", "print the merged, rendered document with the origin of each value"),
    "schema": ("aibtui.cli.schema_cmd", "print the JSON Schema of the dialect (for yaml-language-server)"),
    "explain": ("aibtui.cli.explain_cmd", "explain a diagnostic code (AIB030): severity, rule, hint, docs"),
    "profiles": ("aibtui.cli.profiles_cmd", "list built-in and user profiles, or show one"),
    "import": ("aibtui.cli.import_cmd", "turn template JSON or an ARM template into *.aib.yaml"),
    "init": ("aibtui.cli.init_cmd", "create a *.aib.yaml with plain prompts"),
    "build": ("aibtui.cli.ops_cmd", "create or replace the template, run it and watch it live"),
    "status": ("aibtui.cli.ops_cmd", "show a template's provisioning and last run state"),
    "cancel": ("aibtui.cli.ops_cmd", "cancel a running build"),
    "outputs": ("aibtui.cli.ops_cmd", "show a template's run outputs"),
    "logs": ("aibtui.cli.ops_cmd", "show (or follow) a build's customization log"),
    "list": ("aibtui.cli.ops_cmd", "list image templates"),
    "delete": ("aibtui.cli.ops_cmd", "delete an image template"),
    "images": ("aibtui.cli.ops_cmd", "browse marketplace images"),
    "doctor": ("aibtui.cli.doctor_cmd", "preflight: sign-in, providers, identity and roles, galleries"),
    "serve": ("aibtui.cli.serve_cmd", "the local image-builder service (foreground, --start, --stop, --status)"),
}


class UsageError(AibtuiError):
    """A mistake in how the command was called (exit code 2)."""


def _columns() -> int:
    """``shutil.get_terminal_size().columns`` without importing shutil (and its compression
    modules) on every start: argparse builds a formatter for each ``add_argument``."""
    import os

    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # None: AttributeError
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # argparse exits 2 on usage errors: keep that, say it our way
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def _available(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the parent package does not exist yet
        return False


def _looks_like_path(arg: str) -> bool:
    from pathlib import Path

    return not arg.startswith("-") and (arg.endswith((".aib.yaml", "/")) or "/" in arg or Path(arg).exists())


def _top_help() -> str:
    lines = ["usage: aibtui [COMMAND] [ARGS...]", "       aibtui [FILE.aib.yaml | FOLDER]   (the TUI)", "",
             "Azure Image Builder templates from a compact YAML dialect; a TUI; build operations.", "",
             "commands:"]
    for name, (module, text) in COMMANDS.items():
        if _available(module):
            lines.append(f"  {name:<10} {text}")
    lines += ["", "`aibtui COMMAND --help` describes a command. Docs: docs/cli.md, docs/dialect.md."]
    return "\n".join(lines) + "\n"


def _load(command: str) -> ModuleType | None:
    """The command's module, imported directly (no find_spec first: it costs `importlib.util` on
    every start); None when this installation does not ship it."""
    module_name = COMMANDS[command][0]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            return None  # the module (or its package) is absent
        raise  # the module exists but an import inside it failed: a real error


def build_parser(command: str, module: ModuleType | None = None) -> argparse.ArgumentParser:
    module_name, text = COMMANDS[command]
    if module is None:
        module = importlib.import_module(module_name)
    parser = _Parser(prog=f"aibtui {command}", description=text)
    if hasattr(module, "add_arguments_for"):
        module.add_arguments_for(command, parser)
    else:
        module.add_arguments(parser)
    parser.set_defaults(_module=module, _command=command)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        if _available("aibtui.tui.app"):
            from aibtui.tui.app import run_tui

            return run_tui()
        sys.stdout.write(_top_help())
        return 0
    if len(argv) == 1 and argv[0] not in COMMANDS and _looks_like_path(argv[0]) and _available("aibtui.tui.app"):
        from aibtui.tui.app import run_tui  # `aibtui FILE` / `aibtui FOLDER`: the TUI on it

        return run_tui(argv)
    if argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(_top_help())
        return 0
    if argv[0] in ("-V", "--version"):
        from importlib.metadata import version

        sys.stdout.write(f"aibtui {version('aibtui')}\n")
        return 0
    command = argv[0]
    loaded = _load(command) if command in COMMANDS else None
    if loaded is None:
        from difflib import get_close_matches

        near = get_close_matches(command, list(COMMANDS), n=1)
        sys.stderr.write(f"aibtui: unknown command '{command}'"
                         + (f"; did you mean '{near[0]}'?" if near else "") + "\n"
                         + "run `aibtui --help` for the list of commands\n")
        return 2
    parser = build_parser(command, loaded)
    args = parser.parse_args(argv[1:])
    try:
        if hasattr(args._module, "run_for"):
            return int(args._module.run_for(command, args) or 0)
        return int(args._module.run(args) or 0)
    except UsageError as exc:
        sys.stderr.write(f"aibtui {command}: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug of ours: say so plainly; the traceback only on request
        import os

        if os.environ.get("AIBTUI_DEBUG"):
            raise
        sys.stderr.write(f"aibtui {command}: internal error: {type(exc).__name__}: {exc}\n"
                         "this is a bug in aibtui; set AIBTUI_DEBUG=1 to see the traceback and please report it\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
