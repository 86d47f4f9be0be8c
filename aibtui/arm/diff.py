"""Deployed template vs compiled body: templates can't be updated in place, so `build` reuses an
identical one and replaces a different one, saying what changed.

Read-only properties the service adds (provisioningState, lastRunStatus, ...) are ignored, so are
identity details it fills in (principalId/clientId) and defaults it writes back (0, "", [], {}).
Location names compare the way ARM does ("West US 2" == "westus2").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

READ_ONLY = frozenset({"provisioningState", "provisioningError", "lastRunStatus", "exactStagingResourceGroup"})
TOP_LEVEL = ("location", "tags", "identity", "properties")
# values the service writes back when the template left them out: absent == this value
SERVICE_DEFAULTS: dict[str, Any] = {
    "properties.autoRun": {"state": "Disabled"},
    "properties.autoRun.state": "Disabled",
    "properties.errorHandling.onCustomizerError": "cleanup",
    "properties.errorHandling.onValidationError": "cleanup",
    "properties.vmProfile.vmSize": "Standard_D1_v2",
    "properties.buildTimeoutInMinutes": 240,
}


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # changed | added | removed
    old: Any = None
    new: Any = None

    def format(self, width: int = 60) -> str:
        def short(v: Any) -> str:
            text = json.dumps(v, sort_keys=True)
            return text if len(text) <= width else text[: width - 1] + "…"

        if self.kind == "added":
            return f"+ {self.path}: {short(self.new)}"
        if self.kind == "removed":
            return f"- {self.path}: {short(self.old)}"
        return f"~ {self.path}: {short(self.old)} -> {short(self.new)}"


def _is_default(v: Any, path: str = "") -> bool:
    if path in SERVICE_DEFAULTS and v == SERVICE_DEFAULTS[path]:
        return True
    if isinstance(v, dict):
        return all(_is_default(x, f"{path}.{k}") for k, x in v.items())
    return v is None or v == "" or v == 0 or v == [] or v is False


def normalize(resource: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in TOP_LEVEL:
        if key not in resource:
            continue
        v = json.loads(json.dumps(resource[key]))
        if key == "location" and isinstance(v, str):
            v = v.replace(" ", "").lower()
        if key == "identity" and isinstance(v, dict):
            uai = v.get("userAssignedIdentities")
            if isinstance(uai, dict):  # ids compare case-insensitively; the service fills in the values
                v["userAssignedIdentities"] = sorted(k.lower() for k in uai)
            if isinstance(v.get("type"), str):
                v["type"] = v["type"].replace(" ", "")
        if key == "properties" and isinstance(v, dict):
            v = {k: x for k, x in v.items() if k not in READ_ONLY}
            if isinstance(v.get("source"), dict):
                v["source"].pop("exactVersion", None)  # read-only: the version "latest" resolved to
        out[key] = v
    return out


def _walk(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new)):
            p = f"{path}.{k}" if path else k
            if k not in new:
                if not _is_default(old[k], p):
                    out.append(Change(p, "removed", old=old[k]))
            elif k not in old:
                if not _is_default(new[k], p):
                    out.append(Change(p, "added", new=new[k]))
            else:
                _walk(old[k], new[k], p, out)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _walk(a, b, f"{path}[{i}]", out)
        return
    if old != new:
        out.append(Change(path, "changed", old, new))


def differences(deployed: dict[str, Any], compiled: dict[str, Any]) -> list[Change]:
    """What would change if ``compiled`` (a PUT body) replaced ``deployed`` (a GET answer)."""
    out: list[Change] = []
    _walk(normalize(deployed), normalize(compiled), "", out)
    return out
