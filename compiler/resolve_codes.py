"""Diagnostic codes for resolving (AIB2xx: extends, include, profiles) and variables (AIB3xx)."""

from __future__ import annotations

from .codeinfo import CodeInfo

E, W, N = "error", "warning", "note"

RESOLVE_CODES: dict[str, CodeInfo] = {
    # -- resolving -------------------------------------------------------------------------------
    "AIB200": CodeInfo(E, None, "profile not found", "`aibtui profiles` lists the built-in profiles"),
    "AIB201": CodeInfo(E, None, "extends/include cycle"),
    "AIB202": CodeInfo(E, None, "include escapes the project root",
                       "keep fragments under the project root, or pass --allow-outside-root"),
    "AIB203": CodeInfo(E, None, "included file not found"),
    "AIB204": CodeInfo(E, None, "include/extends must be a string or a list of strings"),
    "AIB205": CodeInfo(E, None, "URLs cannot be included", "download the fragment into the project"),
    "AIB206": CodeInfo(E, None, "step removal names a step that does not exist"),
    "AIB207": CodeInfo(E, None, "before/after names a step that does not exist"),
    "AIB208": CodeInfo(E, None, "extends/include nesting too deep"),
    "AIB209": CodeInfo(E, None, "too many files through extends/include",
                       "a document may pull in at most 256 profiles and fragments"),
    "AIB210": CodeInfo(E, None, "bad step placement or removal (`before`, `after`, `remove`)",
                       "write `before: NAME` or `after: NAME`, or `remove: true` next to the `name`"),
    "AIB290": CodeInfo(E, None, "extends reads outside the project root and the profile search path",
                       "move the profile into the project or AIBTUI_PROFILE_PATH, or pass --allow-path DIR"),
    # -- variables -------------------------------------------------------------------------------
    "AIB300": CodeInfo(E, None, "undefined variable",
                       "define it under `vars:` or pass --set NAME=VALUE"),
    "AIB301": CodeInfo(E, None, "template syntax error in a string value"),
    "AIB302": CodeInfo(E, None, "template expression not allowed", "only expressions and filters are allowed"),
    "AIB303": CodeInfo(E, None, "variables refer to each other in a cycle"),
    "AIB304": CodeInfo(E, None, "bad --set argument", "write --set NAME=VALUE"),
    "AIB305": CodeInfo(E, None, "a variable's value cannot be used here"),
    "AIB306": CodeInfo(E, None, "template evaluation failed"),
    "AIB307": CodeInfo(W, None, "variable is defined but never used"),
    "AIB308": CodeInfo(E, None, "`vars` must be a mapping of names to values",
                       "write `vars: {NAME: VALUE, ...}`"),
    "AIB309": CodeInfo(E, None, "a variable declared without a value (a SET ME marker) is used",
                       "give it a value under `vars:` or with --set NAME=VALUE"),
}
