"""Parameter values like ``az deployment group create --parameters``: ARM parameters files and
``name=value`` pairs, repeatable, later ones win.

A file value keeps its position in the parameters file, so a finding about a passed value points
there. ``name=value`` text is converted to the parameter's declared type when the template is
evaluated (``int``, ``bool``; ``array`` and ``object`` take JSON). A Key Vault ``reference`` is a value
known only at deployment.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import code_ids as C
from ..diagnostics import DiagnosticBag, Span
from ..nodes import Mapping, Node
from .values import CliScalar, Unknown

_PAIR = re.compile(r"([A-Za-z_$][A-Za-z0-9_$\-]*)=(.*)", re.DOTALL)
MAX_PARAMETERS_FILE = 4 * 1024 * 1024


def read_parameters(specs: list[str], diags: DiagnosticBag) -> dict[str, Node] | None:
    """The values ``specs`` give, by name; None (and AIB725 errors) when one cannot be read. A spec is
    ``NAME=VALUE``, a parameters file (``@`` before the path is allowed, as az takes it), or the JSON of
    a parameters file inline."""
    out: dict[str, Node] = {}
    ok = True
    for i, spec in enumerate(specs):
        where = Span(f"--parameters #{i + 1}", 1, 1)
        text = spec[1:] if spec.startswith("@") else spec
        if spec.lstrip().startswith("{"):  # inline JSON, as az accepts it
            values = _from_text(spec, f"--parameters #{i + 1}", diags)
            if values is None:
                ok = False
            else:
                out.update(values)
            continue
        m = _PAIR.fullmatch(spec)
        if m and not Path(text).is_file():
            out[m.group(1)] = CliScalar(Span(f"--parameters {m.group(1)}", 1, 1), m.group(2), raw=m.group(2),
                                        plain=False)
            continue
        values = _read_file(Path(text), diags, where)
        if values is None:
            ok = False
            continue
        out.update(values)
    return out if ok else None


def _read_file(path: Path, diags: DiagnosticBag, where: Span) -> dict[str, Node] | None:
    from ..yamlload import decode_text

    file = str(path)
    if path.suffix.lower() == ".bicepparam":
        diags.add(C.AIB725, f"--parameters {file}: a Bicep parameters file is not read", where,
                  hint=f"az bicep build-params --file {path.name}  (writes {path.with_suffix('.json').name})")
        return None
    if not path.is_file():
        hint = "give NAME=VALUE, or the path of an ARM parameters file (JSON)"
        diags.add(C.AIB725, f"--parameters {file}: no such file, and not NAME=VALUE", where, hint=hint)
        return None
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_PARAMETERS_FILE + 1)
    except OSError as exc:
        diags.add(C.AIB725, f"--parameters {file}: cannot read: {exc.strerror or exc}", where)
        return None
    if len(data) > MAX_PARAMETERS_FILE:
        diags.add(C.AIB725, f"--parameters {file}: more than {MAX_PARAMETERS_FILE} bytes", where)
        return None
    text = decode_text(data, file, diags)
    if text is None:
        return None
    return _from_text(text, file, diags)


def _from_text(text: str, file: str, diags: DiagnosticBag) -> dict[str, Node] | None:
    from ..jsonload import load_json

    node = load_json(text, file, diags)
    if node is None:
        return None
    if not isinstance(node, Mapping):
        diags.add(C.AIB725, f"--parameters {file}: an ARM parameters file is a JSON object", node.span)
        return None
    params = node.get("parameters")
    if params is None and "$schema" not in node.items:
        params = node  # az also accepts the bare {"name": {"value": ...}} object
    if not isinstance(params, Mapping):
        diags.add(C.AIB725, f"--parameters {file}: no `parameters` object", node.span,
                  hint='an ARM parameters file is {"$schema": ..., "parameters": {"NAME": {"value": ...}}}')
        return None
    out: dict[str, Node] = {}
    for name, spec in params.items.items():
        if isinstance(spec, Mapping) and "value" in spec.items:
            out[name] = spec.items["value"]
        elif isinstance(spec, Mapping) and "reference" in spec.items:
            out[name] = Unknown(spec.span, f"parameters('{name}')",
                                f"parameter '{name}' is a Key Vault reference, read at deployment", parameter=name)
        else:
            diags.add(C.AIB725, f"--parameters {file}: parameter '{name}' has no `value` (or Key Vault "
                      "`reference`)", params.key_spans.get(name, spec.span),
                      hint=f'write "{name}": {{"value": ...}}')
            return None
    return out


__all__ = ["read_parameters"]
