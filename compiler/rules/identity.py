"""Identity: required (I-01), exactly one (I-02), UserAssigned with a full identity id (I-03, I-04)."""

from __future__ import annotations

from .. import code_ids as C
from ..model import JsonPath
from .context import RuleContext, as_list, is_str
from .resourceids import USER_ASSIGNED_IDENTITY

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any


def check(ctx: RuleContext) -> None:
    doc = ctx.doc
    identity = doc.get("identity")
    if identity is None:
        where = ("identity",) if "identity" in doc else ()
        # Quiet when the schema's "needs 'identity'" already said it (check_model runs it first).
        if "identity" in doc or not ctx.schema_reported(where, "'identity'"):
            ctx.report(
                C.AIB020,
                "the template has no identity; Image Builder needs a user-assigned managed "
                "identity to read scripts and write images",
                where,
            )
    elif isinstance(identity, dict):
        _identity(ctx, identity)
    _build_vm_identities(ctx)


def _identity(ctx: RuleContext, identity: dict[str, Any]) -> None:
    kind = identity.get("type")
    if kind is None:
        ctx.report(C.AIB022, "identity has no type", ("identity",))
    elif is_str(kind) and not ctx.opaque(kind) and kind != "UserAssigned":
        if kind == "None":
            ctx.report(
                C.AIB020,
                "identity type None removes the identity the build needs",
                ("identity", "type"),
                hint="set type: UserAssigned and name the identity under userAssignedIdentities",
            )
        else:
            ctx.report(
                C.AIB022,
                f"identity type is {kind!r}; Image Builder supports only UserAssigned",
                ("identity", "type"),
            )
    ids = identity.get("userAssignedIdentities")
    if isinstance(ids, dict):
        if not ids and kind != "None":
            ctx.report(C.AIB020, "userAssignedIdentities is empty", ("identity", "userAssignedIdentities"))
        if len(ids) > 1:
            ctx.report(
                C.AIB021,
                f"{len(ids)} identities are listed; Image Builder supports exactly one",
                ("identity", "userAssignedIdentities"),
                key=True,
            )
        for key in ids:
            _identity_id(ctx, key, ("identity", "userAssignedIdentities", key), key=True)
    elif ids is None and kind == "UserAssigned":
        ctx.report(
            C.AIB020, "identity type is UserAssigned but no userAssignedIdentities are named", ("identity",)
        )


def _identity_id(ctx: RuleContext, value: Any, path: JsonPath, *, key: bool = False) -> None:
    if not is_str(value) or ctx.opaque(value) or USER_ASSIGNED_IDENTITY.match(value):
        return
    if "." in value and "/" not in value:
        why = " (custom domain names are not supported, I-03)"
    elif "/" not in value:
        why = " (a name alone is not enough)"
    else:
        why = ""
    ctx.report(
        C.AIB023,
        f"{value!r} is not a Microsoft.ManagedIdentity/userAssignedIdentities resource id{why}",
        path,
        key=key,
    )


def _build_vm_identities(ctx: RuleContext) -> None:
    """vmProfile.userAssignedIdentities: identities given to the build VM, same id shape."""
    path = ("properties", "vmProfile", "userAssignedIdentities")
    for i, value in enumerate(as_list(ctx.model.get(path))):
        _identity_id(ctx, value, path + (i,))
