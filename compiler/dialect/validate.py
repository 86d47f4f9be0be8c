"""`validate:`, in-VM validation: a list of steps or `{steps, continueOnFailure,
sourceValidationOnly}` (needs apiVersion 2022-02-14 or later)."""

from __future__ import annotations

from .. import code_ids as C
from ..model import JsonPath
from ..nodes import Node, Sequence
from . import Section
from .customize import StepsLowering, StepsShaping

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

SECTION = Section(
    name="validate", keys=("validate",), official=("properties.validate",), heading="Validation",
    doc_terms=("steps", "inVMValidations", "continueOnFailure", "continueDistributeOnFailure",
               "sourceValidationOnly"),
    codes=(C.AIB408,), inverse="Shaper.validate",
    examples=(
        ("validate: {continueOnFailure: true, steps: [{name: v, shell: 'test -f /etc/x'}]}",
         {"continueDistributeOnFailure": True,
          "inVMValidations": [{"type": "Shell", "name": "v", "inline": ["test -f /etc/x"]}]}),
    ),
)


class ValidateLowering(StepsLowering):
    """Lowering of this section: dialect node -> official JSON, with spans."""

    def validate(self, node: Node) -> dict[str, Any] | None:
        path: JsonPath = ("properties", "validate")
        vkinds = ("shell", "powershell", "file")
        if isinstance(node, Sequence):
            self.mark(path, node)
            return {"inVMValidations": self.steps(node, path + ("inVMValidations",), vkinds, "validate")}
        m = self.mapping(node, "validate")
        if m is None:
            return None
        self.unknown_keys(m, ("steps", "inVMValidations", "continueOnFailure", "continueDistributeOnFailure",
                              "sourceValidationOnly"), "validate")
        self.mark(path, m)
        out: dict[str, Any] = {}
        for short, official in (("continueOnFailure", "continueDistributeOnFailure"),
                                ("sourceValidationOnly", "sourceValidationOnly")):
            for key in {short, official}:
                if key in m.items:
                    if official in out:
                        self.d.add(C.AIB408, f"{key} is given twice", m.key_spans[key])
                        continue
                    value = self.boolean(m.items[key], f"validate.{key}")
                    if value is not None:
                        out[official] = value
                        self.mark(path + (official,), m.items[key], m.key_spans[key])
        for key in ("steps", "inVMValidations"):
            if key in m.items:
                if "inVMValidations" in out:
                    self.d.add(C.AIB408, "steps and inVMValidations are the same thing; keep one", m.key_spans[key])
                    continue
                out["inVMValidations"] = self.steps(m.items[key], path + ("inVMValidations",), vkinds, "validate")
        return out


def schema() -> dict[str, Any]:
    """This section's fragment of the editor schema (`aibtui schema`, docs/dialect.md)."""
    from ..dialect_schema import _boolean, _obj, _ref

    _VALIDATE = {
        "anyOf": [
            {"type": "array", "items": _ref("validationStep"), "description": "validation steps"},
            _obj({
                "steps": {"type": "array", "items": _ref("validationStep"),
                          "description": "validation steps (→ inVMValidations)"},
                "inVMValidations": {"type": "array", "items": _ref("validationStep"),
                                    "description": "official name of `steps`"},
                "continueOnFailure": _boolean("distribute even when validation fails "
                                              "(→ continueDistributeOnFailure)"),
                "continueDistributeOnFailure": _boolean("official name of `continueOnFailure`"),
                "sourceValidationOnly": _boolean("validate the source image itself, without a build"),
            }),
        ],
        "description": "validation (→ properties.validate): a list of steps, or {steps, continueOnFailure, "
                       "sourceValidationOnly}",
    }
    return _VALIDATE


class ValidateShaping(StepsShaping):
    """The import inverse: official JSON -> this section's short form (exact, or left official)."""

    def validate(self, val: Any) -> Any:
        if not isinstance(val, dict):
            return val
        names = {"inVMValidations": "steps", "continueDistributeOnFailure": "continueOnFailure",
                 "sourceValidationOnly": "sourceValidationOnly"}
        if not set(val) <= set(names):
            return {"steps" if k == "inVMValidations" else k: v for k, v in val.items()}
        steps = self.steps(val["inVMValidations"]) if "inVMValidations" in val else None
        if set(val) == {"inVMValidations"} and isinstance(steps, list):
            return steps
        out = {names[k]: v for k, v in val.items() if k != "inVMValidations"}
        if steps is not None:
            out["steps"] = steps
        return out
