"""Diagnostic codes for the official ARM schema and apiVersion gating (AIB5xx)."""

from __future__ import annotations

from .codeinfo import CodeInfo

E, W, N = "error", "warning", "note"

_VERSION_HINT = "set `apiVersion:` in the file or pass --api-version"

SCHEMA_CODES: dict[str, CodeInfo] = {
    "AIB500": CodeInfo(E, None, "value does not match the official schema of the apiVersion"),
    "AIB501": CodeInfo(E, None, "unknown key for the official schema of the apiVersion",
                       "check the spelling; the official property names are case-sensitive"),
    "AIB502": CodeInfo(E, None, "value has the wrong type for the official schema"),
    "AIB503": CodeInfo(E, None, "number out of the allowed range"),
    "AIB504": CodeInfo(E, None, "value is not one of the allowed values"),
    "AIB505": CodeInfo(E, None, "string does not match the required pattern"),
    "AIB506": CodeInfo(E, None, "missing required key"),
    "AIB507": CodeInfo(E, None, "unknown step, source or target type"),
    "AIB508": CodeInfo(E, None, "key or type needs a newer apiVersion", _VERSION_HINT),
    "AIB509": CodeInfo(E, None, "key or type was removed in a later apiVersion", _VERSION_HINT),
    "AIB510": CodeInfo(E, "S-02", "apiVersion is not a stable version of imageTemplates", _VERSION_HINT),
}
