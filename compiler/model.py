"""The canonical image-template model that checking and emitting work on.

Lowering (dialect files) and JSON input (existing templates) both produce a :class:`TemplateModel`:
the resource-shaped document as plain JSON values, plus a map from JSON paths to source spans, so
the schema validator and the seed rules can report file:line:col without knowing where the value
came from.
"""

from __future__ import annotations

import re

from .diagnostics import Span
from .nodes import Mapping, Node, Scalar, Sequence
from .records import dataclass, field

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

JsonPath = tuple[str | int, ...]

RESOURCE_TYPE = "Microsoft.VirtualMachineImages/imageTemplates"
STABLE_API_VERSIONS: tuple[str, ...] = (
    "2020-02-14",
    "2021-10-01",
    "2022-02-14",
    "2022-07-01",
    "2023-07-01",
    "2024-02-01",
    "2025-10-01",
)
DEFAULT_API_VERSION = "2024-02-01"

_PLACEHOLDER = re.compile(r"<[^<>\"\n]{1,80}>")


def is_expression(value: Any) -> bool:
    """An ARM template expression: a string in brackets (``[[`` escapes a literal bracket)."""
    return isinstance(value, str) and len(value) >= 2 and value[0] == "[" and value[-1] == "]" \
        and not value.startswith("[[")


def placeholders(value: Any) -> list[str]:
    """Quickstart-style ``<placeholder>`` tokens in a string (``<region>``, ``<image location>``)."""
    if not isinstance(value, str) or "<" not in value:
        return []
    return _PLACEHOLDER.findall(value)


def is_opaque(value: Any) -> bool:
    """True when a value cannot be checked literally: an ARM expression or a placeholder."""
    if not isinstance(value, str):  # (is_expression and placeholders inlined: the rules ask often)
        return False
    if len(value) >= 2 and value[0] == "[" and value[-1] == "]" and not value.startswith("[["):
        return True
    return "<" in value and bool(_PLACEHOLDER.search(value))


@dataclass
class TemplateModel:
    doc: dict[str, Any]  # resource shape: type, apiVersion, name, location, tags, identity, dependsOn, properties
    spans: dict[JsonPath, Span] = field(default_factory=dict)  # path -> span of the value
    key_spans: dict[JsonPath, Span] = field(default_factory=dict)  # path -> span of its key
    api_version: str = DEFAULT_API_VERSION
    os_family: str | None = None  # "linux" | "windows" | None when unknown
    generation: str | None = None  # "V1" | "V2" | None when unknown
    file: str = "<input>"
    origin: str = "dialect"  # "dialect" (compiled from *.aib.yaml) or "json" (an existing template)
    dependencies: list[str] = field(default_factory=list)  # every local file read to build it
    # False when the resource name is not part of the document (a REST body; a dialect file, whose
    # name the resource/arm formats check when they emit)
    name_required: bool = True
    # spans of plain YAML scalars that YAML 1.1 read as non-strings: span -> (raw text, what it became)
    coerced: dict[Span, tuple[str, str]] = field(default_factory=dict)
    # ARM evaluation (compiler/armeval): path -> (ARM expression, reason, parameter without a value or
    # None) for each value known only at deployment; the doc holds "[expression]" there
    unknowns: dict[JsonPath, tuple[str, str, str | None]] = field(default_factory=dict)
    # ... and the ARM parameters those expressions use, as declarations ({"type": ..., "defaultValue": ...})
    arm_parameters: dict[str, dict[str, str]] = field(default_factory=dict)

    def span_at(self, path: JsonPath, *, key: bool = False) -> Span | None:
        """Span of the value (or its key) at ``path``, else of the nearest ancestor that has one."""
        p = tuple(path)
        if key and p in self.key_spans:
            return self.key_spans[p]
        while True:
            if p in self.spans:
                return self.spans[p]
            if not p:
                return None
            p = p[:-1]

    def get(self, path: JsonPath, default: Any = None) -> Any:
        cur: Any = self.doc
        for part in path:
            if isinstance(part, int):
                if not isinstance(cur, list) or part >= len(cur):
                    return default
            elif not isinstance(cur, dict) or part not in cur:
                return default
            cur = cur[part]
        return cur

    @property
    def properties(self) -> dict[str, Any]:
        props = self.doc.get("properties")
        return props if isinstance(props, dict) else {}


def record_spans(node: Node, path: JsonPath, spans: dict[JsonPath, Span],
                 key_spans: dict[JsonPath, Span]) -> None:
    """Record the span of ``node`` and all its descendants under ``path`` (iterative)."""
    work: list[tuple[Node, JsonPath]] = [(node, path)]
    while work:
        n, p = work.pop()
        spans[p] = n.span
        if isinstance(n, Mapping):
            for k, v in n.items.items():
                key_spans[p + (k,)] = n.key_spans.get(k, v.span)
                work.append((v, p + (k,)))
        elif isinstance(n, Sequence):
            for i, v in enumerate(n.items):
                work.append((v, p + (i,)))


def model_from_node(node: Node, file: str, **kw: Any) -> TemplateModel:
    """A model from a resource-shaped node tree (a template read from JSON or YAML), spans kept."""
    from .nodes import to_plain

    doc = to_plain(node)
    if not isinstance(doc, dict):
        doc = {}
    model = TemplateModel(doc=doc, file=file, **kw)
    record_spans(node, (), model.spans, model.key_spans)
    return model


__all__ = [
    "DEFAULT_API_VERSION",
    "JsonPath",
    "Mapping",
    "RESOURCE_TYPE",
    "STABLE_API_VERSIONS",
    "Scalar",
    "TemplateModel",
    "is_expression",
    "is_opaque",
    "model_from_node",
    "placeholders",
    "record_spans",
]
