"""`customize:`, the steps: one kind key each (`shell`, `powershell`, `file`, `windowsRestart`,
`windowsUpdate`), with local scripts inlined and local copies checksummed (C-01 … C-05, SH, PS, F,
WR, WU rules)."""

from __future__ import annotations

from .. import code_ids as C
from ..diagnostics import Span
from ..model import JsonPath, is_opaque
from ..nodes import Mapping, Node, Scalar, Sequence, type_name
from . import Section
from .common import _KIND_TYPE, KIND_KEYS, MAX_FILE_STEP_BYTES, LowererBase, _close, _ordered, _split_lines
from .shaping import _KIND_KEY, _PS_OPTS, ShaperBase, _str_map, _strs

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

SECTION = Section(
    name="customize", keys=("customize",), official=("properties.customize",), heading="Steps",
    doc_terms=("shell", "powershell", "file", "windowsRestart", "windowsUpdate", "inline", "script", "uri",
               "sha256", "local", "runElevated", "runAsSystem", "validExitCodes", "from", "to", "checkCommand"),
    codes=(C.AIB401, C.AIB402, C.AIB404, C.AIB405, C.AIB408, C.AIB415, C.AIB417), inverse="Shaper.steps",
    examples=(
        ("customize: [{name: a, shell: 'echo one'}]", [{"type": "Shell", "name": "a", "inline": ["echo one"]}]),
        ("customize: [{name: p, powershell: {uri: 'https://x.example/p.ps1'}, runElevated: true}]",
         [{"type": "PowerShell", "name": "p", "scriptUri": "https://x.example/p.ps1", "runElevated": True}]),
        ("customize: [{name: f, file: {from: 'https://x.example/a.conf', to: /tmp/a.conf}}]",
         [{"type": "File", "name": "f", "sourceUri": "https://x.example/a.conf", "destination": "/tmp/a.conf"}]),
        ("customize: [{name: r, windowsRestart: {timeout: 10m}}]",
         [{"type": "WindowsRestart", "name": "r", "restartTimeout": "10m"}]),
        ("customize: [{name: u, windowsUpdate: {updateLimit: 20}}]",
         [{"type": "WindowsUpdate", "name": "u", "updateLimit": 20}]),
    ),
)


# The keys a step of each kind takes beside its body.
_STEP_LEVEL: dict[str, tuple[str, ...]] = {
    "shell": ("name", "shell"),
    "powershell": ("name", "powershell", "runElevated", "runAsSystem", "validExitCodes"),
    "file": ("name", "file"), "windowsRestart": ("name", "windowsRestart"),
    "windowsUpdate": ("name", "windowsUpdate")}


class StepsLowering(LowererBase):
    """Lowering of this section: dialect node -> official JSON, with spans."""

    def steps(self, node: Node, path: JsonPath, kinds: tuple[str, ...], what: str) -> list[Any]:
        if not isinstance(node, Sequence):
            if isinstance(node, Scalar) and node.value is None:
                return []
            self.d.add(C.AIB401, f"{what} must be a list of steps, not {type_name(node)}", node.span)
            return []
        self.mark(path, node)
        out: list[Any] = []
        for item in node.items:
            step = self.step(item, path + (len(out),), kinds, what)
            if step is not None:
                out.append(step)
        return out

    def step(self, node: Node, path: JsonPath, kinds: tuple[str, ...], what: str) -> dict[str, Any] | None:
        m = self.mapping(node, f"a step in {what}")
        if m is None:
            return None
        present = [k for k in KIND_KEYS if k in m.items]
        if "type" in m.items:
            if present:
                self.d.add(C.AIB404, f"a step names both type and `{present[0]}`", m.key_spans[present[0]])
                return None
            official: dict[str, Any] = self.verbatim(path, m)
            return official
        if len(present) != 1:
            if present:
                msg = f"step names {len(present)} kinds ({', '.join(present)}); a step does exactly one thing"
                span = m.key_spans[present[1]]
            else:
                name = m.items.get("name")
                label = f" '{name.value}'" if isinstance(name, Scalar) else ""
                msg = f"step{label} names no kind"
                span = m.span
            near = None
            if not present:
                for k in m.items:
                    cand = _close(k, list(kinds), n=1, cutoff=0.6)
                    if cand:
                        near = f"did you mean '{cand[0]}' instead of '{k}'?"
                        break
            self.d.add(C.AIB404, msg, span, hint=near)
            return None
        kind = present[0]
        if kind not in kinds:
            self.d.add(C.AIB404, f"`{kind}` steps are not allowed in {what}", m.key_spans[kind],
                       hint="validation steps are shell, powershell or file")
            return None
        self.mark(path, m)
        out: dict[str, Any] = {"type": _KIND_TYPE[kind]}
        self.mark(path + ("type",), m.items[kind], m.key_spans[kind])
        if "name" in m.items:
            step_name = self.string(m.items["name"], "a step name")
            if step_name is not None:
                out["name"] = step_name
                self.mark(path + ("name",), m.items["name"], m.key_spans["name"])
        self.unknown_keys(m, _STEP_LEVEL[kind], f"a {kind} step")
        body = m.items[kind]
        if kind in ("shell", "powershell"):
            self.script_step(kind, body, m, path, out)
        elif kind == "file":
            self.file_step(body, path, out)
        elif kind == "windowsRestart":
            self.restart_step(body, path, out)
        else:
            self.update_step(body, path, out)
        return out

    def script_step(self, kind: str, body: Node, step: Mapping, path: JsonPath, out: dict[str, Any]) -> None:
        ps_opts = ("runElevated", "runAsSystem", "validExitCodes")
        fields: dict[str, Any] = {}
        if isinstance(body, Scalar):
            if isinstance(body.value, str):
                fields["inline"] = _split_lines(body.value)
                self.mark(path + ("inline",), body)
                self.block_line_spans(body, path + ("inline",), len(fields["inline"]))
            else:
                self.string(body, f"the {kind} script")
        elif isinstance(body, Sequence):
            fields["inline"] = self.string_list(body, path + ("inline",), f"{kind} commands")
        elif isinstance(body, Mapping):
            allowed = ["inline", "script", "uri", "scriptUri", "sha256", "sha256Checksum", "local"]
            if kind == "powershell":
                allowed += list(ps_opts)
            self.unknown_keys(body, allowed, f"a {kind} step")
            sources = [k for k in ("inline", "script", "uri", "scriptUri") if k in body.items]
            if "uri" in body.items and "scriptUri" in body.items:
                self.d.add(C.AIB408, "uri and scriptUri are the same thing; keep one", body.key_spans["scriptUri"])
            if "inline" in body.items and "script" in body.items:
                self.d.add(C.AIB408, "inline and script both give the commands; keep one", body.key_spans["script"],
                           rule="SH-01")
            if not sources:
                self.d.add(C.AIB402, f"a {kind} step needs inline, script or uri", body.span, rule="SH-01")
            for key, vnode in body.items.items():
                kspan = body.key_spans.get(key)
                if key == "inline":
                    if isinstance(vnode, Scalar) and isinstance(vnode.value, str):
                        fields["inline"] = _split_lines(vnode.value)
                        self.mark(path + ("inline",), vnode, kspan)
                        self.block_line_spans(vnode, path + ("inline",), len(fields["inline"]))
                    else:
                        fields["inline"] = self.string_list(vnode, path + ("inline",), f"{kind}.inline")
                elif key == "script":
                    lines = self.read_lines(vnode, f"{kind}.script")
                    if lines is not None:
                        fields["inline"] = lines
                        self.mark(path + ("inline",), vnode, kspan)
                elif key in ("uri", "scriptUri"):
                    s = self.string(vnode, f"{kind}.{key}")
                    if s is not None:
                        fields["scriptUri"] = s
                        self.mark(path + ("scriptUri",), vnode, kspan)
                elif key in ("sha256", "sha256Checksum"):
                    self.checksum_field(vnode, kspan, path, fields, f"{kind}.{key}")
                elif key == "local":
                    pass
                else:  # powershell options inside the mapping
                    fields[key] = self.verbatim(path + (key,), vnode, kspan)
            if "local" in body.items:
                self.local_checksum(body.items["local"], path, fields, f"{kind}.local", "scriptUri" in fields)
        else:
            self.d.add(C.AIB401, f"{kind} must be a script, a list of commands or a mapping", body.span)
        if kind == "powershell":
            for opt in ps_opts:
                if opt in step.items:
                    if opt in fields:
                        self.d.add(C.AIB408, f"{opt} is set at step level and inside powershell",
                                   step.key_spans[opt])
                    else:
                        fields[opt] = self.verbatim(path + (opt,), step.items[opt], step.key_spans[opt])
        order = ("scriptUri", "sha256Checksum", "inline", "runElevated", "runAsSystem", "validExitCodes")
        out.update(_ordered(fields, order))

    def block_line_spans(self, node: Scalar, path: JsonPath, count: int) -> None:
        """Each line of a literal block scalar (`shell: |`) gets its own span, so per-command
        diagnostics (SH-03, C-05) point at the line, not at the `|`."""
        if not node.block_indent:
            return
        file, first = node.span.file, node.span.line + 1
        col = node.block_indent + 1
        for i in range(count):
            self.c.spans[path + (i,)] = Span(file, first + i, col, first + i, col)

    def checksum_field(self, vnode: Node, kspan: Span | None, path: JsonPath, fields: dict[str, Any],
                       what: str) -> None:
        s = self.string(vnode, what)
        if s is not None:
            fields["sha256Checksum"] = s
            self.mark(path + ("sha256Checksum",), vnode, kspan)

    def local_checksum(self, vnode: Node, path: JsonPath, fields: dict[str, Any], what: str, remote: bool) -> None:
        if not remote:
            self.d.add(C.AIB408, f"{what} is a local copy of a remote file, but there is no remote uri",
                       vnode.span, hint="for a local script use `script:`; `local:` goes with `uri:`/`from:`")
            return
        local = self.local_file(vnode, what)
        if local is None:
            return
        from ..session import file_sha256

        session = self.c.options.session
        size, digest = session.sha256(local) if session is not None else file_sha256(local)
        if what == "file.local" and size > MAX_FILE_STEP_BYTES:
            self.d.add(C.AIB417, f"{local.name} is {size / 1e6:.1f} MB; the File step is meant for files "
                       f"under {MAX_FILE_STEP_BYTES // 1_000_000} MB", vnode.span)
        given = fields.get("sha256Checksum")
        if isinstance(given, str) and not is_opaque(given):
            if given.lower() != digest:
                self.d.add(C.AIB415, f"the local copy's sha256 is {digest}, but sha256Checksum says {given}",
                           self.c.spans.get(path + ("sha256Checksum",), vnode.span), rule="SH-02",
                           hint="update sha256Checksum, or the local copy is not the file the URI serves")
            return
        fields["sha256Checksum"] = digest
        self.mark(path + ("sha256Checksum",), vnode)

    def file_step(self, body: Node, path: JsonPath, out: dict[str, Any]) -> None:
        m = self.mapping(body, "file")
        if m is None:
            return
        self.unknown_keys(m, ("from", "sourceUri", "to", "destination", "sha256", "sha256Checksum", "local"),
                          "a file step")
        fields: dict[str, Any] = {}
        for short, official in (("from", "sourceUri"), ("to", "destination")):
            if short in m.items and official in m.items:
                self.d.add(C.AIB408, f"{short} and {official} are the same thing; keep one", m.key_spans[official])
            key = short if short in m.items else official
            if key in m.items:
                s = self.string(m.items[key], f"file.{key}")
                if s is not None:
                    fields[official] = s
                    self.mark(path + (official,), m.items[key], m.key_spans[key])
            else:
                self.d.add(C.AIB402, f"a file step needs `{short}` ({official})", m.span, rule="F-01")
        for key in ("sha256", "sha256Checksum"):
            if key in m.items:
                self.checksum_field(m.items[key], m.key_spans[key], path, fields, f"file.{key}")
        if "local" in m.items:
            self.local_checksum(m.items["local"], path, fields, "file.local", "sourceUri" in fields)
        out.update(_ordered(fields, ("sourceUri", "destination", "sha256Checksum")))

    def restart_step(self, body: Node, path: JsonPath, out: dict[str, Any]) -> None:
        if isinstance(body, Scalar) and (body.value is True or body.value is None):
            return
        m = self.mapping(body, "windowsRestart")
        if m is None:
            return
        names = {"command": "restartCommand", "checkCommand": "restartCheckCommand", "timeout": "restartTimeout"}
        self.unknown_keys(m, list(names) + list(names.values()), "a windowsRestart step")
        fields: dict[str, Any] = {}
        for key, vnode in m.items.items():
            official = names.get(key, key)
            if official in fields:
                self.d.add(C.AIB408, f"{key} and {official} are the same thing; keep one", m.key_spans[key])
                continue
            if official == "restartTimeout" and isinstance(vnode, Scalar) and isinstance(vnode.value, int) \
                    and not isinstance(vnode.value, bool):
                self.d.add(C.AIB405, f"restart timeout {vnode.value} has no unit", vnode.span, rule="WR-01",
                           hint=f"write it with a unit, e.g. {vnode.value}m")
                continue
            s = self.string(vnode, f"windowsRestart.{key}")
            if s is not None:
                fields[official] = s
                self.mark(path + (official,), vnode, m.key_spans[key])
        out.update(_ordered(fields, ("restartCommand", "restartCheckCommand", "restartTimeout")))

    def update_step(self, body: Node, path: JsonPath, out: dict[str, Any]) -> None:
        if isinstance(body, Scalar) and (body.value is True or body.value is None):
            return
        m = self.mapping(body, "windowsUpdate")
        if m is None:
            return
        self.unknown_keys(m, ("searchCriteria", "filters", "updateLimit"), "a windowsUpdate step")
        fields: dict[str, Any] = {}
        for key, vnode in m.items.items():
            kspan = m.key_spans[key]
            if key == "searchCriteria":
                s = self.string(vnode, "windowsUpdate.searchCriteria")
                if s is not None:
                    fields[key] = s
                    self.mark(path + (key,), vnode, kspan)
            elif key == "filters":
                fields[key] = self.string_list(vnode, path + (key,), "windowsUpdate.filters")
                self.c.key_spans[path + (key,)] = kspan
            else:
                fields[key] = self.verbatim(path + (key,), vnode, kspan)
        out.update(_ordered(fields, ("searchCriteria", "filters", "updateLimit")))


def schema() -> dict[str, Any]:
    """This section's fragment of the editor schema: a list of steps. A step's own schema (one
    variant per kind key, shared with validation steps) is ``definitions.step`` of dialect_schema."""
    from ..dialect_schema import _ref

    return {"type": "array", "items": _ref("step"),
            "description": "customization steps, run in order (C-02); merged by name"}


class StepsShaping(ShaperBase):
    """The import inverse: official JSON -> this section's short form (exact, or left official)."""

    def steps(self, steps: Any) -> Any:
        if not isinstance(steps, list):
            return steps
        return [self.step(s) for s in steps]

    def step(self, step: Any) -> Any:
        if not isinstance(step, dict):
            return step
        stype = step.get("type")
        kind = _KIND_KEY.get(stype) if isinstance(stype, str) else None
        if kind is None or ("name" in step and not isinstance(step["name"], str)):
            return step
        fields = {k: v for k, v in step.items() if k not in ("type", "name")}
        body: Any = None
        extra: dict[str, Any] = {}
        if stype in ("Shell", "PowerShell"):
            allowed = {"scriptUri", "sha256Checksum", "inline"} | (set(_PS_OPTS) if stype == "PowerShell" else set())
            if not set(fields) <= allowed or "inline" in fields and not _strs(fields["inline"]):
                return step
            if not any(k in fields for k in ("scriptUri", "inline")):
                return step
            if not all(isinstance(fields.get(k, ""), str) for k in ("scriptUri", "sha256Checksum")):
                return step
            extra = {k: fields[k] for k in _PS_OPTS if k in fields}
            script: list[str] = fields.get("inline") or []
            if set(fields) - set(_PS_OPTS) == {"inline"}:
                body = self.script(script)
            else:
                body = {}
                if "scriptUri" in fields:
                    body["uri"] = fields["scriptUri"]
                if "sha256Checksum" in fields:
                    body["sha256"] = fields["sha256Checksum"]
                if "inline" in fields:
                    body["inline"] = self.script(script)
                if len(body) + len(extra) <= 2:  # {uri, runElevated} fits on one line
                    body.update(extra)
                    extra = {}
        elif stype == "File":
            if set(fields) - {"sha256Checksum"} != {"sourceUri", "destination"} or not _str_map(fields):
                return step
            body = {"from": fields["sourceUri"], "to": fields["destination"]}
            if "sha256Checksum" in fields:
                body["sha256"] = fields["sha256Checksum"]
        elif stype == "WindowsRestart":
            names = {"restartCommand": "command", "restartCheckCommand": "checkCommand", "restartTimeout": "timeout"}
            if not set(fields) <= set(names) or not _str_map(fields):
                return step
            body = {names[k]: v for k, v in fields.items()} or True
        else:  # WindowsUpdate
            if not set(fields) <= {"searchCriteria", "filters", "updateLimit"}:
                return step
            if "searchCriteria" in fields and not isinstance(fields["searchCriteria"], str):
                return step
            if "filters" in fields and not _strs(fields["filters"]):
                return step
            body = dict(fields) or True
        out: dict[str, Any] = {}
        if "name" in step:
            out["name"] = step["name"]
        out[kind] = body
        out.update(extra)
        return out

    @staticmethod
    def script(lines: list[str]) -> Any:
        from ..yamlwriter import Block, Lines, block_ok  # the writer: off the compile path

        if not lines:
            return []
        return Block(tuple(lines)) if block_ok(lines) else Lines(tuple(lines))
