"""What every section of the dialect shares: the lowering context, constants, small helpers
and :class:`LowererBase` (reading strings, booleans and mappings, marking spans, local files).
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import code_ids as C
from ..diagnostics import DiagnosticBag, Span
from ..model import (
    DEFAULT_API_VERSION,
    JsonPath,
    is_opaque,
    record_spans,
)
from ..nodes import Mapping, Node, Scalar, Sequence, to_plain, type_name
from ..records import dataclass, field
from ..sources import is_within, safe_resolve

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any, TypeGuard

    from ..session import CompileSession

# Official ImageTemplateProperties names across every stable version (a test keeps this in sync
# with compiler/schemas/*.json). Each may be written verbatim at the top level or under properties.
OFFICIAL_PROPERTIES: tuple[str, ...] = (
    "buildTimeoutInMinutes", "vmProfile", "stagingResourceGroup", "source", "customize", "validate",
    "optimize", "distribute", "errorHandling", "autoRun", "managedResourceTags", "additionalDataDisks",
)
# dialect keys that lower to a property (shorthand owner -> properties it writes)
_SHORTHAND_PROPS = {
    "source": ("source",), "customize": ("customize",), "validate": ("validate",),
    "distribute": ("distribute",), "autoRun": ("autoRun",), "errorHandling": ("errorHandling",),
    "optimize": ("optimize",), "build": ("vmProfile", "buildTimeoutInMinutes"),
}
TOP_KEYS: tuple[str, ...] = (
    "description", "apiVersion", "type", "vars", "name", "location", "tags", "identity", "dependsOn",
    "os", "generation", "source", "build", "customize", "validate", "distribute", "autoRun",
    "errorHandling", "optimize", "properties", "arm",
    "buildTimeoutInMinutes", "vmProfile", "stagingResourceGroup", "managedResourceTags", "additionalDataDisks",
)
# keys users put at the wrong level, and where they belong
_MISPLACED = {
    "vmSize": "build.vmSize", "osDiskSizeGB": "build.osDiskSizeGB", "timeout": "build.timeout",
    "subnet": "build.subnet", "subnetId": "build.subnet", "vnetConfig": "build.vnetConfig",
    "steps": "customize", "customizers": "customize", "customizations": "customize",
    "distributions": "distribute", "targets": "distribute", "image": "source", "sourceImage": "source",
    "variables": "vars", "profile": "extends", "profiles": "extends", "region": "location",
    "extends": "the file's top level (profiles are resolved before lowering)",
}
KIND_KEYS = ("shell", "powershell", "file", "windowsRestart", "windowsUpdate")
_KIND_TYPE = {"shell": "Shell", "powershell": "PowerShell", "file": "File",
              "windowsRestart": "WindowsRestart", "windowsUpdate": "WindowsUpdate"}
_TARGET_KEYS = ("managedImage", "gallery", "vhd")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*h(?:ours?)?)?\s*(?:(\d+)\s*m(?:in(?:utes?)?)?)?\s*$")
_URN_PART = re.compile(r"^[^\s:]+$")
MAX_INLINE_BYTES = 512 * 1024
MAX_FILE_STEP_BYTES = 20_000_000  # F-04: "meant for small files, under 20 MB"
TARGET_REGIONS_SINCE = "2022-07-01"


@dataclass
class LowerOptions:
    api_version: str | None = None  # --api-version; wins over the file's apiVersion
    root: Path | None = None  # project root for local files
    allow_outside_root: bool = False
    session: CompileSession | None = None  # caches of one process run (compiler/session.py)


@dataclass
class _Ctx:
    diags: DiagnosticBag
    options: LowerOptions
    spans: dict[JsonPath, Span] = field(default_factory=dict)
    key_spans: dict[JsonPath, Span] = field(default_factory=dict)
    coerced: dict[Span, tuple[str, str]] = field(default_factory=dict)
    deps: list[str] = field(default_factory=list)
    api_version: str = DEFAULT_API_VERSION
    location: str | None = None


def _describe_yaml_value(node: Scalar) -> str:
    v = node.value
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if v is None:
        return "null (an empty value)"
    if isinstance(v, (int, float)):
        return f"the number {v}"
    return f"a {type(v).__name__}"


def _close(word: str, options: Any, n: int = 1, cutoff: float = 0.6) -> list[str]:
    from difflib import get_close_matches  # only on the error path: keeps `compile` start-up lean

    return get_close_matches(word, options, n=n, cutoff=cutoff)


def is_opaque_node(node: Node) -> TypeGuard[Scalar]:
    return isinstance(node, Scalar) and is_opaque(node.value)


def _split_lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _ordered(d: dict[str, Any], order: tuple[str, ...] | list[str]) -> dict[str, Any]:
    out = {k: d[k] for k in order if k in d}
    for k, v in d.items():
        if k not in out:
            out[k] = v
    return out


def inline_outcome(path: Path) -> tuple[str, int | tuple[str, ...] | None]:
    """What inlining the local file ``path`` gives: ("size", bytes) when it is too large,
    ("binary", None), ("encoding", None) when it is not UTF-8, or ("lines", its lines).
    A pure function of the file's content (a session remembers it by the file's stat)."""
    size = path.stat().st_size
    if size > MAX_INLINE_BYTES:
        return "size", size
    data = path.read_bytes()
    if b"\0" in data:
        return "binary", None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "encoding", None
    return "lines", tuple(_split_lines(text))


class LowererBase:
    """The helpers each section's lowering mixin uses (``self.c`` is the context, ``self.d`` the bag)."""

    c: _Ctx
    d: DiagnosticBag

    def mark(self, path: JsonPath, node: Node, key_span: Span | None = None) -> None:
        self.c.spans[path] = node.span
        if key_span is not None:
            self.c.key_spans[path] = key_span

    def verbatim(self, path: JsonPath, node: Node, key_span: Span | None = None) -> Any:
        record_spans(node, path, self.c.spans, self.c.key_spans)
        if key_span is not None:
            self.c.key_spans[path] = key_span
        # Remember plain scalars YAML 1.1 read as non-strings (`sku: no`): if the schema wanted a
        # string there, check_model turns its type error into the "quote it" diagnostic.
        work = [node]
        while work:
            n = work.pop()
            if isinstance(n, Scalar):
                if n.plain and n.value is not None and not isinstance(n.value, str):
                    self.c.coerced[n.span] = (n.raw, _describe_yaml_value(n))
            elif isinstance(n, Mapping):
                work.extend(n.items.values())
            elif isinstance(n, Sequence):
                work.extend(n.items)
        return to_plain(node)

    def string(self, node: Node, what: str) -> str | None:
        """A string value; a YAML 1.1 non-string read from a plain scalar is an error (quote it)."""
        if isinstance(node, Scalar):
            if isinstance(node.value, str):
                return node.value
            if node.plain and node.value is not None:
                self.d.add(C.AIB104, f"`{node.raw}` was read as {_describe_yaml_value(node)}, but {what} "
                           "must be a string", node.span,
                           hint=f"quote the value so it stays a string: '{node.raw}'")
                return None
            if node.value is None:
                self.d.add(C.AIB401, f"{what} is empty", node.span, hint=f"give {what} a value")
                return None
        self.d.add(C.AIB401, f"{what} must be a string, not {type_name(node)}", node.span)
        return None

    def boolean(self, node: Node, what: str) -> bool | None:
        if isinstance(node, Scalar) and isinstance(node.value, bool):
            return node.value
        self.d.add(C.AIB401, f"{what} must be true or false, not {type_name(node)}", node.span)
        return None

    def mapping(self, node: Node, what: str) -> Mapping | None:
        if isinstance(node, Mapping):
            return node
        self.d.add(C.AIB401, f"{what} must be a mapping, not {type_name(node)}", node.span)
        return None

    def unknown_keys(self, node: Mapping, allowed: tuple[str, ...] | list[str], where: str) -> None:
        for key in node.items:
            if key in allowed:
                continue
            near = _close(key, list(allowed), n=1, cutoff=0.6) or [
                a for a in allowed if a.lower() == key.lower()]
            hint = None
            if near:
                hint = f"did you mean '{near[0]}'?"
            elif where == "the top level" and key in _MISPLACED:
                hint = f"did you mean {_MISPLACED[key]}?"
            else:
                hint = "allowed here: " + ", ".join(sorted(allowed))
            self.d.add(C.AIB400, f"unknown key '{key}' in {where}", node.key_spans.get(key, node.span), hint=hint)

    def local_file(self, node: Node, what: str) -> Path | None:
        rel = self.string(node, what)
        if rel is None:
            return None
        if "://" in rel:
            self.d.add(C.AIB406, f"{what} must be a local path, not a URL: {rel}", node.span,
                       hint="the compiler never downloads; use `uri:` for remote scripts")
            return None
        base = Path(node.span.file).parent if node.span.file and not node.span.file.startswith("<") else Path.cwd()
        session = self.c.options.session
        real = session.resolve if session is not None else safe_resolve
        path = real(base / rel)
        root = self.c.options.root
        if root is not None and not self.c.options.allow_outside_root:
            if not is_within(path, real(root)):
                self.d.add(C.AIB412, f"{rel} resolves to {path}, outside the project root {root}", node.span)
                return None
        if not path.is_file():
            self.d.add(C.AIB406, f"local file not found: {rel} (looked at {path})", node.span,
                       hint="paths are relative to the file that names them")
            return None
        self.c.deps.append(str(path))
        return path

    def read_lines(self, node: Node, what: str) -> list[str] | None:
        path = self.local_file(node, what)
        if path is None:
            return None
        session = self.c.options.session
        outcome = session.by_stat(path, "inline", inline_outcome) if session is not None else inline_outcome(path)
        kind, payload = outcome
        if kind == "size":
            self.d.add(C.AIB413, f"{path.name} is {payload} bytes; inlining is limited to {MAX_INLINE_BYTES}",
                       node.span, hint="upload it and use `uri:` with `local:` for the checksum")
            return None
        if kind == "binary":
            self.d.add(C.AIB413, f"{path.name} is a binary file and cannot be inlined", node.span)
            return None
        if kind == "encoding":
            self.d.add(C.AIB413, f"{path.name} is not UTF-8 text", node.span)
            return None
        shown = node.value if isinstance(node, Scalar) else path.name
        self.d.add(C.AIB407, f"the lines of {shown} are inlined into the template", node.span)
        assert isinstance(payload, tuple)
        return list(payload)

    def tags(self, node: Node, path: JsonPath, what: str) -> dict[str, str] | None:
        m = self.mapping(node, what)
        if m is None:
            return None
        out: dict[str, str] = {}
        self.mark(path, m)
        for k, v in m.items.items():
            if is_opaque_node(v):
                out[k] = v.value
            else:
                s = self.string(v, f"the value of {what} '{k}'")
                if s is None:
                    continue
                out[k] = s
            self.mark(path + (k,), v, m.key_spans.get(k))
        return out

    def string_list(self, node: Node, path: JsonPath, what: str) -> list[str]:
        if isinstance(node, Scalar) and isinstance(node.value, str):
            node = Sequence(node.span, [node])
        if not isinstance(node, Sequence):
            self.d.add(C.AIB401, f"{what} must be a list of strings, not {type_name(node)}", node.span)
            return []
        out: list[str] = []
        self.mark(path, node)
        for item in node.items:
            s = self.string(item, f"an entry of {what}")
            if s is not None:
                self.mark(path + (len(out),), item)
                out.append(s)
        return out
