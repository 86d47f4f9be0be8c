"""`optimize:`, image optimization: `{vmBoot: true}` for `{vmBoot: {state: Enabled}}`."""

from __future__ import annotations

from ..model import JsonPath
from ..nodes import Node, Scalar
from . import Section
from .common import LowererBase
from .shaping import ShaperBase

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

SECTION = Section(
    name="optimize", keys=("optimize",), official=("properties.optimize",), heading="optimize",
    doc_terms=("vmBoot", "state: Enabled"),
    codes=(), inverse="Shaper.optimize",
    examples=(("optimize: {vmBoot: true}", {"vmBoot": {"state": "Enabled"}}),),
)


class OptimizeLowering(LowererBase):
    """Lowering of this section: dialect node -> official JSON, with spans."""

    def optimize(self, node: Node) -> Any:
        path: JsonPath = ("properties", "optimize")
        m = self.mapping(node, "optimize")
        if m is None:
            return None
        out = self.verbatim(path, m)
        vb = m.items.get("vmBoot")
        if isinstance(vb, Scalar) and isinstance(vb.value, bool):
            out["vmBoot"] = {"state": "Enabled" if vb.value else "Disabled"}
            self.mark(path + ("vmBoot", "state"), vb)
        return out


def schema() -> dict[str, Any]:
    """This section's fragment of the editor schema (`aibtui schema`, docs/dialect.md)."""
    from ..dialect_schema import _boolean, _enum, _obj

    _OPTIMIZE = _obj({
                "vmBoot": {"anyOf": [_boolean("true → {state: Enabled}"),
                                     _obj({"state": _enum("optimize for a faster VM boot", "Enabled", "Disabled")})]},
            }, description="image optimization; {vmBoot: true} → {vmBoot: {state: Enabled}}")
    return _OPTIMIZE


class OptimizeShaping(ShaperBase):
    """The import inverse: official JSON -> this section's short form (exact, or left official)."""

    def optimize(self, opt: Any) -> Any:
        if not isinstance(opt, dict):
            return opt
        vb = opt.get("vmBoot")
        if isinstance(vb, dict) and set(vb) == {"state"} and vb["state"] in ("Enabled", "Disabled"):
            return {**opt, "vmBoot": vb["state"] == "Enabled"}
        return opt
