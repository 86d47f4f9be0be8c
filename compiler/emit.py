"""Emitting: the model as deterministic JSON in one of three shapes.

- ``resource``: the seed's shape, one image-template resource (type, apiVersion, name, ...).
- ``arm``: a deployment template (``$schema``, ``contentVersion``, ``resources: [resource]``).
- ``body``: the REST PUT body (location, tags, identity, properties).

Bytes are deterministic: the lowering builds dicts in a fixed order, we dump with two-space
indent, UTF-8 (no ASCII escaping) and a trailing newline.
"""

from __future__ import annotations

import json
from functools import lru_cache

from . import code_ids as C
from .diagnostics import DiagnosticBag
from .model import TemplateModel

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("resource", "arm", "body")
ARM_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
_RESOURCE_ORDER = ("type", "apiVersion", "name", "location", "tags", "identity", "dependsOn", "properties")
_BODY_KEYS = ("location", "tags", "identity", "properties")


def shape(model: TemplateModel, fmt: str, diags: DiagnosticBag,
          arm: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The document for ``fmt``; ``arm`` (the dialect's ``arm:`` key: ARM ``parameters`` and
    ``variables`` that kept ARM expressions use) goes into the deployment template only."""
    doc = model.doc
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    if fmt == "body":
        return {k: doc[k] for k in _BODY_KEYS if k in doc}
    resource = {k: doc[k] for k in _RESOURCE_ORDER if k in doc}
    for k, v in doc.items():
        if k not in resource:
            resource[k] = v
    if "name" not in resource:
        diags.add(C.AIB416, f"--format {fmt} needs the template's name", model.span_at(()),
                  hint="add `name: my-template` (the body format does not need it)")
        return None
    if fmt == "resource":
        return resource
    arm = arm or {}
    return {"$schema": ARM_SCHEMA, "contentVersion": "1.0.0.0",
            **{k: arm[k] for k in ("parameters", "variables") if arm.get(k)}, "resources": [resource]}


def dumps(document: Any) -> str:
    """Deterministic JSON text, byte-identical to ``json.dumps(doc, indent=2, ensure_ascii=False)``.

    The stdlib falls back to its pure-Python encoder whenever ``indent`` is set; this writer uses
    the C string encoder (through the public ``JSONEncoder.encode``) and one list of parts, about
    3x faster (a test pins the equality).
    Raises ValueError for values JSON cannot hold (NaN, infinities, dates).
    """
    parts: list[str] = []
    _write(document, parts, "\n")
    parts.append("\n")
    return "".join(parts)


# The public encoder's string fast path (JSONEncoder.encode of a str is the C string encoder),
# memoised: keys and most values recur from template to template, and a hit in the C cache is
# cheaper than the Python-level call (a pure function, so a bounded functools cache).
_encode_str = lru_cache(maxsize=8192)(json.JSONEncoder(ensure_ascii=False).encode)


def _write(value: Any, out: list[str], nl: str) -> None:
    if type(value) is str:  # the common case first, without isinstance's subclass walk
        out.append(_encode_str(value))
        return
    if type(value) is dict:
        if not value:
            out.append("{}")
            return
        inner = nl + "  "
        sep = "," + inner
        out.append("{")
        first = True
        for k, v in value.items():
            if type(k) is not str and not isinstance(k, str):
                raise ValueError(f"key {k!r} is not a string")
            out.append(inner if first else sep)
            first = False
            out.append(_encode_str(k))
            out.append(": ")
            if type(v) is str:
                out.append(_encode_str(v))
            else:
                _write(v, out, inner)
        out.append(nl + "}")
        return
    if isinstance(value, str):
        out.append(_encode_str(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value!r} has no JSON form")
        out.append(float.__repr__(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = nl + "  "
        out.append("{")
        first = True
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"key {k!r} is not a string")
            out.append(inner if first else "," + inner)
            first = False
            out.append(_encode_str(k))
            out.append(": ")
            _write(v, out, inner)
        out.append(nl + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = nl + "  "
        sep = "," + inner
        out.append("[")
        first = True
        for v in value:
            out.append(inner if first else sep)
            first = False
            if type(v) is str:
                out.append(_encode_str(v))
            else:
                _write(v, out, inner)
        out.append(nl + "]")
    else:
        raise ValueError(f"a {type(value).__name__} has no JSON form")
