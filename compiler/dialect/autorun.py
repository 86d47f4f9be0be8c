"""`autoRun:`, the build trigger on create or update: `true` / `false` for `{state: Enabled}` /
`{state: Disabled}`, or the official mapping."""

from __future__ import annotations

from ..model import JsonPath
from ..nodes import Node, Scalar
from . import Section
from .common import LowererBase

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

SECTION = Section(
    name="autorun", keys=("autoRun",), official=("properties.autoRun",), heading="autoRun",
    doc_terms=("state: Enabled",),
    codes=(), inverse="Shaper.properties",
    examples=(("autoRun: true", {"state": "Enabled"}), ("autoRun: false", {"state": "Disabled"})),
)


class AutoRunLowering(LowererBase):
    """Lowering of this section: dialect node -> official JSON, with spans."""

    def auto_run(self, node: Node) -> Any:
        path: JsonPath = ("properties", "autoRun")
        if isinstance(node, Scalar) and isinstance(node.value, bool):
            self.mark(path, node)
            self.mark(path + ("state",), node)
            return {"state": "Enabled" if node.value else "Disabled"}
        if isinstance(node, Scalar) and isinstance(node.value, str):
            self.mark(path, node)
            self.mark(path + ("state",), node)
            return {"state": node.value}
        return self.verbatim(path, node)


def schema() -> dict[str, Any]:
    """This section's fragment of the editor schema (`aibtui schema`, docs/dialect.md)."""
    from ..dialect_schema import _boolean, _enum, _obj

    _AUTORUN = {"anyOf": [_boolean("true → {state: Enabled}"),
                                  _obj({"state": _enum("build on create/update", "Enabled", "Disabled")})],
                        "description": "build automatically when the template is created or updated"}
    return _AUTORUN
