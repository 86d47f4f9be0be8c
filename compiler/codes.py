"""Registry of every diagnostic code. Codes are stable: never renumber, only add.

Ranges
  AIB0xx  seed-document rules (compiler/rule_codes.py)
  AIB1xx  loading: YAML/JSON syntax, budgets, value types read by YAML 1.1
  AIB2xx  resolving: extends, include, profiles, cycles, project root (compiler/resolve_codes.py)
  AIB3xx  variables and rendering (compiler/resolve_codes.py)
  AIB4xx  the dialect: unknown keys, shapes, shorthands, local files
  AIB5xx  the official ARM schema and apiVersion gating (compiler/schema_codes.py)
  AIB6xx  lint warnings beyond the seed (compiler/rule_codes.py)
  AIB7xx  existing template JSON / ARM template inputs (compiler/json_codes.py)
"""

from __future__ import annotations

from .codeinfo import CodeInfo

E, W, N = "error", "warning", "note"

_CORE: dict[str, CodeInfo] = {
    # -- loading ---------------------------------------------------------------------------------
    "AIB100": CodeInfo(E, None, "file cannot be read", "check the path and permissions"),
    "AIB101": CodeInfo(E, None, "YAML syntax error"),
    "AIB102": CodeInfo(E, None, "duplicate key in a mapping", "remove one of the two keys"),
    "AIB103": CodeInfo(E, None, "YAML budget exceeded (aliases, size or depth)",
                       "this looks like a YAML bomb or a generated file; simplify it"),
    "AIB104": CodeInfo(E, None, "value was read by YAML 1.1 as a non-string",
                       "quote the value so it stays a string"),
    "AIB105": CodeInfo(E, None, "the file must hold exactly one YAML document that is a mapping"),
    "AIB106": CodeInfo(E, None, "mapping keys must be plain strings"),
    "AIB107": CodeInfo(E, None, "unsupported YAML tag", "remove the tag; only plain YAML is accepted"),
    "AIB108": CodeInfo(E, None, "file is not valid UTF-8 text"),
    # -- budgets and outputs ---------------------------------------------------------------------
    "AIB120": CodeInfo(E, None, "output budget exceeded (rendered text or emitted JSON)",
                       "variables that repeat each other multiply the output; raise it with --max-output"),
    "AIB121": CodeInfo(E, None, "output path refused (not a regular file, or an input of the compile)",
                       "write to a new path or a regular file that is not one of the inputs"),
    "AIB122": CodeInfo(E, None, "output cannot be written",
                       "check the folder exists, is writable, and that the file is not immutable"),
    "AIB123": CodeInfo(E, None, "a command-line argument is not valid text",
                       "pass --set values and paths as UTF-8"),
    # -- dialect ---------------------------------------------------------------------------------
    "AIB400": CodeInfo(E, None, "unknown key"),
    "AIB401": CodeInfo(E, None, "wrong type for a value"),
    "AIB402": CodeInfo(E, None, "missing required key"),
    "AIB403": CodeInfo(E, None, "bad source shorthand"),
    "AIB404": CodeInfo(E, None, "a step must name exactly one kind",
                       "use one of: shell, powershell, file, windowsRestart, windowsUpdate (or type:)"),
    "AIB405": CodeInfo(E, None, "bad duration", "write minutes as a number or a duration like 90m, 4h, 1h30m"),
    "AIB406": CodeInfo(E, None, "local file not found"),
    "AIB407": CodeInfo(N, "C-05", "local script is inlined into the template",
                       "inline content is stored in the template and visible to anyone who can read it"),
    "AIB408": CodeInfo(E, None, "conflicting keys"),
    "AIB409": CodeInfo(E, None, "bad distribute target"),
    "AIB410": CodeInfo(E, "S-02", "unsupported apiVersion",
                       "stable versions: 2020-02-14 2021-10-01 2022-02-14 2022-07-01 2023-07-01 2024-02-01 2025-10-01"),
    "AIB411": CodeInfo(E, None, "bad identity"),
    "AIB412": CodeInfo(E, None, "local file escapes the project root",
                       "keep scripts under the project root, or pass --allow-outside-root"),
    "AIB413": CodeInfo(E, None, "local file too large to inline"),
    "AIB415": CodeInfo(E, None, "local copy does not match the given sha256Checksum"),
    "AIB416": CodeInfo(E, None, "the output format needs a value the document lacks"),
    "AIB417": CodeInfo(W, "F-04", "a File step's local copy is larger than 20 MB",
                       "the File customizer is meant for small files; download larger ones in a Shell or "
                       "PowerShell step (curl, wget, Invoke-WebRequest) and check their sha256 there"),
}


def _build() -> dict[str, CodeInfo]:
    table = dict(_CORE)
    from .import_codes import IMPORT_CODES
    from .json_codes import JSON_CODES
    from .resolve_codes import RESOLVE_CODES
    from .rule_codes import RULE_CODES
    from .schema_codes import SCHEMA_CODES

    for extra in (RESOLVE_CODES, RULE_CODES, SCHEMA_CODES, JSON_CODES, IMPORT_CODES):
        for code, info in extra.items():
            if code in table:
                raise RuntimeError(f"diagnostic code {code} registered twice")
            table[code] = info
    return table


CODES: dict[str, CodeInfo] = _build()
