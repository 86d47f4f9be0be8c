"""The JSON Schema (draft-07) of the ``*.aib.yaml`` dialect, for editors.

``aibtui schema > aib.schema.json`` writes it; a file then starts with
``# yaml-language-server: $schema=aib.schema.json`` and the editor completes keys, shows their
descriptions and flags obvious mistakes (an unknown key, a step that names no kind or two kinds).

The schema follows docs/dialect.md. It is deliberately a little looser than the compiler, which
remains the authority: any string may hold ``{{ variables }}`` (so a pattern-checked string, a
number or a boolean may also be a string that holds a template), partial documents (profiles and
fragments) validate too (no key is required at the top level), and the official property names
are accepted verbatim wherever the dialect accepts them.

Pure data: no imports beyond the standard library, no I/O.
"""

from __future__ import annotations

from typing import Any

from .model import STABLE_API_VERSIONS  # the one list of versions

Schema = dict[str, Any]

SCHEMA_DRAFT = "http://json-schema.org/draft-07/schema#"

# A string holding a `{{ variable }}`: accepted wherever a typed or pattern-checked value is.
_TEMPLATED: Schema = {"type": "string", "pattern": r"\{\{.*\}\}",
                      "description": "a value computed from variables: {{ NAME }}"}

_URN_PATTERN = r"^[^:\s/]+:[^:\s]+:[^:\s]+(:[^:\s]+)?$"
_RESOURCE_ID_PATTERN = r"^/[sS][uU][bB][sS][cC][rR][iI][pP][tT][iI][oO][nN][sS]/"
_DURATION_PATTERN = r"^\s*([0-9]+\s*[hHmM]\s*)+$|^\s*[0-9]+\s*$"
_RESTART_TIMEOUT_PATTERN = r"^\s*[0-9]+\s*[smhSMH]\s*$"
_SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
_NAME_PATTERN = r"^[A-Za-z0-9-_.]{1,64}$"

# The built-in profiles (profiles/*.aib.yaml), offered as completions for `extends:`. A test keeps
# this list equal to the files.
BUILTIN_PROFILES: tuple[str, ...] = (
    "linux-apt-upgrade", "linux-cleanup", "linux-dnf-upgrade",
    "rhel-8", "rhel-9",
    "ubuntu-20.04", "ubuntu-20.04-gen2", "ubuntu-22.04", "ubuntu-22.04-gen2",
    "ubuntu-24.04", "ubuntu-24.04-gen2",
    "windows-10-avd", "windows-11-24h2-avd", "windows-11-avd",
    "windows-cleanup", "windows-defaults",
    "windows-server-2019", "windows-server-2022", "windows-server-2025",
    "windows-update-restart",
)
_URN_EXAMPLES = [
    "Canonical:ubuntu-24_04-lts:server:latest",
    "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest",
    "RedHat:RHEL:9-lvm-gen2:latest",
    "MicrosoftWindowsServer:WindowsServer:2022-datacenter-g2:latest",
    "MicrosoftWindowsDesktop:windows-11:win11-25h2-avd:latest",
]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/definitions/{name}"}


def _doc(schema: Schema, description: str) -> Schema:
    out = dict(schema)
    out["description"] = description
    return out


def _or_template(schema: Schema, description: str | None = None) -> Schema:
    """``schema``, or a string holding a ``{{ }}`` template."""
    out: Schema = {"anyOf": [schema, _TEMPLATED]}
    if description:
        out["description"] = description
    return out


def _string(description: str, pattern: str | None = None) -> Schema:
    if pattern is None:
        return {"type": "string", "description": description}
    return _or_template({"type": "string", "pattern": pattern}, description)


def _integer(description: str, minimum: int | None = None, maximum: int | None = None) -> Schema:
    s: Schema = {"type": "integer"}
    if minimum is not None:
        s["minimum"] = minimum
    if maximum is not None:
        s["maximum"] = maximum
    return _or_template(s, description)


def _boolean(description: str) -> Schema:
    return _or_template({"type": "boolean"}, description)


def _enum(description: str, *values: str) -> Schema:
    return _or_template({"type": "string", "enum": list(values)}, description)


def _string_list(description: str) -> Schema:
    return {"type": "array", "items": {"type": "string"}, "description": description}


def _string_or_list(description: str) -> Schema:
    return {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            "description": description}


def _obj(properties: dict[str, Schema], *, required: list[str] | None = None,
         description: str | None = None, closed: bool = True) -> Schema:
    s: Schema = {"type": "object", "properties": properties}
    if required:
        s["required"] = required
    if closed:
        s["additionalProperties"] = False
    if description:
        s["description"] = description
    return s


def _string_map(description: str) -> Schema:
    return {"type": "object", "additionalProperties": {"type": "string"}, "description": description}


# -- steps ----------------------------------------------------------------------------------------

_MERGE_KEYS: dict[str, Schema] = {
    "before": _string("place this new step (or target) before the inherited one with this name"),
    "after": _string("place this new step (or target) after the inherited one with this name"),
}

_PS_OPTIONS: dict[str, Schema] = {
    "runElevated": _boolean("PowerShell: run with elevated privileges (PS-01)"),
    "runAsSystem": _boolean("PowerShell: run as the Local System user (needs runElevated)"),
    "validExitCodes": {"type": "array", "items": _integer("an exit code that counts as success"),
                       "description": "PowerShell: exit codes that count as success (default [0])"},
}


def _script_mapping(powershell: bool) -> Schema:
    props: dict[str, Schema] = {
        "inline": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                   "description": "commands: a string (one per line) or a list"},
        "script": _string("a local script file (relative to this file): its lines become `inline` "
                          "(AIB407: inline content is visible in the template, C-05)"),
        "uri": _string("a remote script (C-04); the compiler never downloads it"),
        "scriptUri": _string("official name of `uri`"),
        "sha256": _string("the script's SHA-256 (SH-02)", _SHA256_PATTERN),
        "sha256Checksum": _string("official name of `sha256`", _SHA256_PATTERN),
        "local": _string("a local copy of the remote script: its SHA-256 becomes sha256Checksum "
                         "(AIB414); a given sha256 must match it (AIB415)"),
    }
    if powershell:
        props.update(_PS_OPTIONS)
    return _obj(props, description="the mapping form: exactly one of inline, script, uri")


def _commands(kind: str, powershell: bool) -> Schema:
    return {
        "anyOf": [
            {"type": "string", "description": "commands, one per line (→ inline)"},
            {"type": "array", "items": {"type": "string"}, "description": "a list of commands (→ inline)"},
            _script_mapping(powershell),
        ],
        "description": f"a {kind} step: a string, a list of commands, or a mapping "
                       "{inline | script | uri, sha256, local}",
    }


_FILE_MAPPING: Schema = _obj({
    "from": _string("the file's URI (GitHub, Azure Storage, ...); one file, under 20 MB (F-01, F-04)"),
    "sourceUri": _string("official name of `from`"),
    "to": _string("full destination path and file name; on Linux it must be under /tmp (F-03)"),
    "destination": _string("official name of `to`"),
    "sha256": _string("the file's SHA-256", _SHA256_PATTERN),
    "sha256Checksum": _string("official name of `sha256`", _SHA256_PATTERN),
    "local": _string("a local copy of the file: its SHA-256 becomes sha256Checksum"),
}, description="a File step: {from, to, sha256, local}")

_RESTART: Schema = {
    "anyOf": [
        {"type": "boolean", "const": True},
        _obj({
            "command": _string("restartCommand (default: shutdown /r /f /t 0 /c \"packer restart\")"),
            "checkCommand": _string("restartCheckCommand: a command that shows the restart happened"),
            "timeout": _string("restartTimeout, a duration such as 5m or 2h (default 5m, WR-01)",
                               _RESTART_TIMEOUT_PATTERN),
            "restartCommand": _string("official name of `command`"),
            "restartCheckCommand": _string("official name of `checkCommand`"),
            "restartTimeout": _string("official name of `timeout`", _RESTART_TIMEOUT_PATTERN),
        }),
    ],
    "description": "a WindowsRestart step (Windows only): true, or {command, checkCommand, timeout}",
}

_UPDATE: Schema = {
    "anyOf": [
        {"type": "boolean", "const": True},
        _obj({
            "searchCriteria": _string("Windows Update search criteria (default "
                                      "`BrowseOnly=0 and IsInstalled=0`, WU-01)"),
            "filters": _string_list("include/exclude filter expressions, e.g. "
                                    "\"exclude:$_.Title -like '*Preview*'\""),
            "updateLimit": _integer("the most updates to install (default 1000)", minimum=0),
        }),
    ],
    "description": "a WindowsUpdate step (Windows only): true, or {searchCriteria, filters, updateLimit}; "
                   "put a WindowsRestart before it (WU-02)",
}

_STEP_KINDS: dict[str, Schema] = {
    "shell": _commands("Shell (Linux)", powershell=False),
    "powershell": _commands("PowerShell", powershell=True),
    "file": _FILE_MAPPING,
    "windowsRestart": _RESTART,
    "windowsUpdate": _UPDATE,
}

_VALIDATION_KINDS = ("shell", "powershell", "file")

_OFFICIAL_CUSTOMIZER_TYPES = ("Shell", "PowerShell", "File", "WindowsRestart", "WindowsUpdate")
_OFFICIAL_VALIDATOR_TYPES = ("Shell", "PowerShell", "File")


def _official_step(types: tuple[str, ...]) -> Schema:
    props: dict[str, Schema] = {
        "name": _string("the step's unique name (C-01)"),
        "type": {"type": "string", "enum": list(types), "description": "the official step type"},
        "inline": {"type": "array", "items": {"type": "string"}, "description": "commands"},
        "scriptUri": _string("a remote script"),
        "sha256Checksum": _string("SHA-256 of the script or file", _SHA256_PATTERN),
        "sourceUri": _string("File: the file's URI"),
        "destination": _string("File: the destination path"),
        **_PS_OPTIONS,
        **_MERGE_KEYS,
    }
    if "WindowsRestart" in types:
        props.update({
            "restartCommand": _string("WindowsRestart: the restart command"),
            "restartCheckCommand": _string("WindowsRestart: a command that checks the restart"),
            "restartTimeout": _string("WindowsRestart: a duration such as 5m", _RESTART_TIMEOUT_PATTERN),
            "searchCriteria": _string("WindowsUpdate: search criteria"),
            "filters": _string_list("WindowsUpdate: include/exclude filters"),
            "updateLimit": _integer("WindowsUpdate: the most updates to install", minimum=0),
        })
    return _obj(props, required=["name", "type"],
                description="the official form, as in the template JSON: {name, type, ...}")


def _step_variants(kinds: tuple[str, ...]) -> list[Schema]:
    variants: list[Schema] = []
    for kind in kinds:
        props: dict[str, Schema] = {
            "name": _string("the step's unique name (C-01); steps merge by name across profiles"),
            kind: _STEP_KINDS[kind],
            **_MERGE_KEYS,
        }
        if kind == "powershell":
            props.update(_PS_OPTIONS)
        variants.append(_obj(props, required=["name", kind]))
    return variants


_REMOVE_STEP: Schema = _obj({
    "name": _string("the inherited step to remove"),
    "remove": {"const": True, "description": "remove the inherited step with this name"},
}, required=["name", "remove"], description="{name: NAME, remove: true} removes an inherited step")


def _step(kinds: tuple[str, ...], official: tuple[str, ...], what: str) -> Schema:
    return {
        "type": "object",
        "required": ["name"],
        "oneOf": [*_step_variants(kinds), _official_step(official), _REMOVE_STEP],
        "description": f"a {what} step: a unique `name` and exactly one kind key ("
                       + ", ".join(kinds) + "), or the official form with `type:`",
    }


# -- source, distribute, identity -------------------------------------------------------------

def _top_level() -> dict[str, Schema]:
    from .dialect import autorun, customize, distribute, errorhandling, identity, optimize, source, validate, vm

    return {
        "description": _string("what the file (or profile) is for; `aibtui profiles` shows it; not emitted"),
        "apiVersion": {**_enum("the API version of the template (default 2024-02-01; --api-version wins)",
                               *STABLE_API_VERSIONS), "default": "2024-02-01"},
        "extends": {
            "anyOf": [{"type": "string", "examples": list(BUILTIN_PROFILES)},
                      {"type": "array", "items": {"type": "string", "examples": list(BUILTIN_PROFILES)}}],
            "description": "profiles to build on, parent first: built-in names (`aibtui profiles`), user "
                           "profile names, or paths",
        },
        "include": _string_or_list("fragments to merge in, relative to this file, under the project root"),
        "vars": {"type": "object", "description": "variables for {{ NAME }} in string values; "
                                                  "--set NAME=VALUE overrides them"},
        "name": _string("the template's resource name", _NAME_PATTERN),
        "location": _string("the Azure region where the image is built, e.g. westus2 (L-01)"),
        "tags": _string_map("tags of the image template resource (T-01)"),
        "identity": identity.schema(),
        "dependsOn": _string_list("ARM deployment dependencies (D-01); dropped by --format body"),
        "os": _enum("the OS family, for OS-specific rules; profiles set it", "linux", "windows"),
        "generation": _enum("Hyper-V generation of the source, for SRC-01; profiles set it", "V1", "V2"),
        "source": source.schema(),
        "build": vm.schema(),
        "customize": customize.schema(),
        "validate": validate.schema(),
        "distribute": distribute.schema(),
        "autoRun": autorun.schema(),
        "errorHandling": errorhandling.schema(),
        "optimize": optimize.schema(),
        "properties": {"type": "object",
                       "description": "official `properties` of the template, verbatim (a block pasted "
                                      "from real JSON works as is)"},
        "arm": _obj({"parameters": {"type": "object", "description": "ARM parameter declarations"},
                     "variables": {"type": "object", "description": "ARM variables"}},
                    description="ARM parameters and variables that kept ARM expressions use; written into "
                                "--format arm output only"),
        # official properties written at the top level, verbatim
        "buildTimeoutInMinutes": _integer("official: build timeout in minutes (0 = default 240, max 960)",
                                          minimum=0, maximum=960),
        "vmProfile": {"type": "object", "description": "official: the build VM's profile, verbatim"},
        "stagingResourceGroup": _string("official: the staging resource group id"),
        "managedResourceTags": _string_map("official: tags for the resources the service creates"),
        "additionalDataDisks": {"type": "array", "description": "official (2025-10-01+): data disks"},
    }


def dialect_json_schema() -> Schema:
    """The JSON Schema (draft-07) of an ``*.aib.yaml`` document (full, profile or fragment)."""
    customizer_kinds = tuple(_STEP_KINDS)
    return {
        "$schema": SCHEMA_DRAFT,
        "title": "aibtui *.aib.yaml (Azure Image Builder template dialect)",
        "description": "A compact YAML dialect that compiles to a Microsoft.VirtualMachineImages/"
                       "imageTemplates resource. See docs/dialect.md.",
        "type": "object",
        "properties": _top_level(),
        "additionalProperties": False,
        "definitions": {
            "step": _step(customizer_kinds, _OFFICIAL_CUSTOMIZER_TYPES, "customization"),
            "validationStep": _step(_VALIDATION_KINDS, _OFFICIAL_VALIDATOR_TYPES, "validation"),
        },
    }


__all__ = ["BUILTIN_PROFILES", "STABLE_API_VERSIONS", "dialect_json_schema"]
