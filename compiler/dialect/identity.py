"""The user-assigned identity the service runs as: an id, a list of one id, or the official
mapping (I-01 … I-04)."""

from __future__ import annotations

from .. import code_ids as C
from ..nodes import Mapping, Node, Scalar, Sequence, type_name
from . import Section
from .common import LowererBase
from .shaping import ShaperBase

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

SECTION = Section(
    name="identity", keys=("identity",), official=("identity",), heading="Identity",
    doc_terms=("userAssignedIdentities", "UserAssigned"),
    codes=(C.AIB411,), inverse="Shaper.identity",
    examples=(
        ("identity: /subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity"
         "/userAssignedIdentities/other",
         {"type": "UserAssigned",
          "userAssignedIdentities": {"/subscriptions/s/resourceGroups/rg/providers"
          "/Microsoft.ManagedIdentity/userAssignedIdentities/other": {}}}),
    ),
)


class IdentityLowering(LowererBase):
    """Lowering of this section: dialect node -> official JSON, with spans."""

    def identity(self, node: Node) -> Any:
        if isinstance(node, Mapping):
            return self.verbatim(("identity",), node)
        if isinstance(node, Scalar) and isinstance(node.value, str):
            ids: list[Node] = [node]
        elif isinstance(node, Sequence):
            ids = node.items
        else:
            self.d.add(C.AIB411, f"identity must be a resource id, a list of ids or a mapping, not "
                       f"{type_name(node)}", node.span, rule="I-04")
            return None
        uai: dict[str, Any] = {}
        self.mark(("identity",), node)
        self.mark(("identity", "type"), node)
        self.mark(("identity", "userAssignedIdentities"), node)
        for item in ids:
            s = self.string(item, "an identity")
            if s is not None:
                uai[s] = {}
                self.mark(("identity", "userAssignedIdentities", s), item)
                self.c.key_spans[("identity", "userAssignedIdentities", s)] = item.span
        return {"type": "UserAssigned", "userAssignedIdentities": uai}


def schema() -> dict[str, Any]:
    """This section's fragment of the editor schema (`aibtui schema`, docs/dialect.md)."""
    from ..dialect_schema import _RESOURCE_ID_PATTERN, _obj, _string

    _IDENTITY = {
        "anyOf": [
            _string("a user-assigned identity id (…/userAssignedIdentities/NAME, I-04)", _RESOURCE_ID_PATTERN),
            {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1,
             "description": "a list with one identity id (exactly one is supported, I-02)"},
            _obj({"type": {"type": "string", "enum": ["UserAssigned", "None"]},
                  "userAssignedIdentities": {"type": "object", "additionalProperties": {"type": "object"}}},
                 description="the official mapping, verbatim"),
        ],
        "description": "the user-assigned managed identity the service uses (I-01…I-04)",
    }
    return _IDENTITY


class IdentityShaping(ShaperBase):
    """The import inverse: official JSON -> this section's short form (exact, or left official)."""

    def identity(self, ident: Any) -> Any:
        if isinstance(ident, dict) and set(ident) == {"type", "userAssignedIdentities"} \
                and ident["type"] == "UserAssigned":
            uai = ident["userAssignedIdentities"]
            if isinstance(uai, dict) and len(uai) == 1:
                (key, value), = uai.items()
                if value == {}:
                    return key
        return ident
