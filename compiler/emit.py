"""Emitting: the model as deterministic JSON in one of three shapes.

- ``resource``: the seed's shape, one image-template resource (type, apiVersion, name, ...).
- ``arm``: a deployment template (``$schema``, ``contentVersion``, ``resources: [resource]``).
- ``body``: the REST PUT body (location, tags, identity, properties).

Bytes are deterministic: the lowering builds dicts in a fixed order, we dump with two-space
indent, UTF-8 (no ASCII escaping) and a trailing newline.
"""

from __future__ import annotations

import json
from typing import Any

from .diagnostics import DiagnosticBag
from .model import TemplateModel

FORMATS = ("resource", "arm", "body")
ARM_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
_RESOURCE_ORDER = ("type", "apiVersion", "name", "location", "tags", "identity", "dependsOn", "properties")
_BODY_KEYS = ("location", "tags", "identity", "properties")


def shape(model: TemplateModel, fmt: str, diags: DiagnosticBag) -> dict[str, Any] | None:
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
        diags.add("AIB416", f"--format {fmt} needs the template's name", model.span_at(()),
                  hint="add `name: my-template` (the body format does not need it)")
        return None
    if fmt == "resource":
        return resource
    return {"$schema": ARM_SCHEMA, "contentVersion": "1.0.0.0", "resources": [resource]}


def dumps(document: Any) -> str:
    """Deterministic JSON text. Raises ValueError for values JSON cannot hold (NaN, dates)."""
    try:
        return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except TypeError as exc:  # e.g. a YAML date in a place no check covered
        raise ValueError(str(exc)) from exc
