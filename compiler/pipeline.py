"""The compile pipeline: load -> resolve -> render -> lower -> check -> emit.

Pure: no printing, no exiting, no network, no Textual/Azure imports. Front ends (CLI, TUI, the
local service) call :func:`compile_file` / :func:`compile_node` / :func:`check_file` and decide
how to show :class:`CompileResult.diagnostics`.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from pathlib import Path

from . import code_ids as C
from .diagnostics import Diagnostic, DiagnosticBag, Severity, Span
from .model import TemplateModel
from .nodes import Mapping
from .records import dataclass, field
from .sources import load_source, read_source, safe_resolve

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

    from .session import CompileSession

DIALECT_SUFFIXES = (".yaml", ".yml")
JSON_SUFFIXES = (".json", ".jsonc", ".dist")


@dataclass(frozen=True)
class CompileOptions:
    format: str = "resource"  # resource | arm | body
    api_version: str | None = None
    sets: MappingABC[str, str] = field(default_factory=dict)
    root: Path | None = None
    allow_outside_root: bool = False
    profile_path: tuple[Path, ...] = ()
    allow_paths: tuple[Path, ...] = ()  # --allow-path: more folders extends/include may read (AIB290)
    schema_engine: str = "builtin"  # builtin | jsonschema
    max_output: int | None = None  # characters of rendered text and emitted JSON (AIB120); None: the default
    # what the compiles of one process run share (compiler/session.py): the CLI makes one per run;
    # None asks the file system afresh every compile
    session: CompileSession | None = None


@dataclass
class CompileResult:
    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    model: TemplateModel | None = None
    models: list[TemplateModel] = field(default_factory=list)  # check of a JSON file: every template in it
    document: dict[str, Any] | None = None
    text: str | None = None
    dependencies: list[str] = field(default_factory=list)
    resolved: Mapping | None = None  # the merged, rendered dialect document (for `config` and the TUI)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors


def compile_file(path: str | Path, options: CompileOptions | None = None) -> CompileResult:
    """Compile one ``*.aib.yaml`` file."""
    options = options or CompileOptions()
    path = Path(path)
    file = str(path)
    diags = DiagnosticBag()
    result = CompileResult(file=file)
    text = read_source(path, diags, texts=options.session.texts if options.session is not None else None)
    node = load_source(text, file, diags) if text is not None else None
    if node is not None and not isinstance(node, Mapping):
        diags.add(C.AIB105, "the file must be a YAML mapping (key: value lines)", node.span)
        node = None
    if node is None:
        result.diagnostics = diags.sorted()
        return result
    return _compile(node, path, options, diags, result)


def compile_node(node: Mapping, file: str | Path, options: CompileOptions | None = None) -> CompileResult:
    """Compile an already-loaded document (the TUI edits nodes in memory)."""
    return _compile(node, Path(file), options or CompileOptions(), DiagnosticBag(), CompileResult(file=str(file)))


def _compile(node: Mapping, path: Path, options: CompileOptions, diags: DiagnosticBag,
             result: CompileResult) -> CompileResult:
    from .resolve import ResolveOptions, resolve_node

    session = options.session
    top = session.resolve(path) if session is not None else safe_resolve(path)
    ropts = ResolveOptions(root=options.root, allow_outside_root=options.allow_outside_root,
                           profile_path=tuple(options.profile_path), allow_paths=tuple(options.allow_paths),
                           session=session)
    resolved = resolve_node(node, top, diags, ropts)
    result.dependencies = [str(top)]
    if resolved is None:
        result.diagnostics = diags.sorted()
        return result
    result.dependencies = list(dict.fromkeys([str(top), *resolved.dependencies]))
    start = len(diags.items)
    result = _finish(resolved.node, result.file, resolved.root, options, diags, result)
    if resolved.via_profile:
        _from_profiles(result, diags.items[start:], resolved.via_profile)
    return result


def _from_profiles(result: CompileResult, found: list[Diagnostic], via: dict[str, tuple[str, Span]]) -> None:
    """A finding located in a profile (a library file the user does not edit) is shown at the user's
    `extends:` entry that brought the profile in, with a "from profile NAME (where)" note."""
    moved: dict[int, Diagnostic] = {}
    for d in found:
        if d.span is None or d.span.file not in via:
            continue
        name, entry = via[d.span.file]
        moved[id(d)] = Diagnostic(code=d.code, severity=d.severity, span=entry, rule=d.rule, hint=d.hint,
                                  message=f"{d.message} (from profile {name}, {d.span})")
    if moved:
        result.diagnostics = sorted((moved.get(id(d), d) for d in result.diagnostics), key=Diagnostic.sort_key)


def _finish(node: Mapping, file: str, root: Path, options: CompileOptions, diags: DiagnosticBag,
            result: CompileResult) -> CompileResult:
    from .check import check_model
    from .dialect.common import LowerOptions
    from .emit import dumps, shape
    from .lower import lower
    from .render import DEFAULT_MAX_OUTPUT, render

    budget = options.max_output if options.max_output is not None else DEFAULT_MAX_OUTPUT
    rendered = render(node, dict(options.sets), diags, max_output=budget)
    if rendered is None or diags.has_errors:
        result.resolved = rendered
        result.diagnostics = diags.sorted()
        return result
    result.resolved = rendered
    model = lower(rendered, file, diags, LowerOptions(api_version=options.api_version, root=root,
                                                      allow_outside_root=options.allow_outside_root,
                                                      session=options.session))
    if model is not None:
        result.model = model
        result.models = [model]
        result.dependencies = list(dict.fromkeys([*result.dependencies, *model.dependencies]))
        check_model(model, diags, schema_engine=options.schema_engine, placeholders=False)
        if not diags.has_errors:
            document = shape(model, options.format, diags, arm=_arm_section(rendered, options.format, diags))
            if document is not None and not diags.has_errors:
                try:
                    text = dumps(document)
                    if len(text) > budget:
                        diags.add(C.AIB120, f"output budget exceeded: the JSON would be {len(text)} characters; "
                                  f"the limit is {budget}", model.span_at(()),
                                  hint="raise the budget with --max-output CHARS if this is intended")
                    else:
                        result.text = text
                        result.document = document
                except ValueError as exc:
                    diags.add(C.AIB401, f"a value cannot be written as JSON: {exc}", model.span_at(()),
                              hint="NaN, infinities and dates have no JSON form; quote the value")
        from .rules import check_placeholders

        # the emitted text holds every key and string of the document, except in --format body
        whole = result.text if options.format != "body" else None
        check_placeholders(model, diags, whole)
    result.diagnostics = diags.sorted()
    return result


def _arm_section(node: Mapping, fmt: str, diags: DiagnosticBag) -> dict[str, Any] | None:
    """The ``arm:`` key: ARM parameters and variables for ``--format arm`` (kept ARM expressions
    use them); other formats have no place for them and say so."""
    from .nodes import to_plain

    value = node.items.get("arm")
    if value is None:
        return None
    if not isinstance(value, Mapping) or any(
            k not in ("parameters", "variables") or not isinstance(v, Mapping) for k, v in value.items.items()):
        diags.add(C.AIB861, "`arm:` holds `parameters:` and `variables:` mappings, nothing else", value.span)
        return None
    if fmt != "arm":
        diags.add(C.AIB860, f"`arm:` (ARM parameters and variables) is not part of --format {fmt}; ignored",
                  node.key_spans.get("arm", value.span))
        return None
    plain = to_plain(value)
    return plain if isinstance(plain, dict) else None


def is_json_input(path: Path, text: str | None = None) -> bool:
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES or suffix == ".bicep":
        return True
    if suffix in DIALECT_SUFFIXES:
        return False
    if text is not None:
        stripped = text.lstrip("\ufeff \t\r\n")
        return stripped.startswith(("{", "[", "//", "/*"))
    return False


def check_file(path: str | Path, options: CompileOptions | None = None, *,
               parameters: dict[str, Any] | None = None) -> CompileResult:
    """Diagnostics for a dialect file, or for an existing template JSON / ARM template (evaluated
    with ``parameters``: values by name, from ``armeval.params.read_parameters``)."""
    options = options or CompileOptions()
    path = Path(path)
    if path.suffix.lower() in DIALECT_SUFFIXES:
        return compile_file(path, options)
    diags = DiagnosticBag()
    result = CompileResult(file=str(path))
    if path.suffix.lower() == ".bicep" or path.suffix.lower() in JSON_SUFFIXES:
        text = None
    else:
        text = read_source(path, diags)
        if text is None:
            result.diagnostics = diags.sorted()
            return result
    if not is_json_input(path, text):
        return compile_file(path, options)
    from .jsoninput import check_json_file

    result.models = check_json_file(path, diags, schema_engine=options.schema_engine, parameters=parameters)
    result.model = result.models[0] if result.models else None
    result.diagnostics = diags.sorted()
    return result
