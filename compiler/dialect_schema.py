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

_PLAN: Schema = _obj({
    "name": _string("planName"), "product": _string("planProduct"), "publisher": _string("planPublisher"),
    "planName": _string("official name of `name`"),
    "planProduct": _string("official name of `product`"),
    "planPublisher": _string("official name of `publisher`"),
}, description="a marketplace purchase plan (SRC-03: all three of name, product, publisher)")

_SOURCE: Schema = {
    "examples": _URN_EXAMPLES,
    "anyOf": [
        _string("a marketplace URN publisher:offer:sku[:version] (version defaults to latest, "
                "resolved at build time, SRC-02)", _URN_PATTERN),
        _string("a managed image id (…/providers/Microsoft.Compute/images/NAME, SRC-04) or a gallery "
                "image version id (…/galleries/G/images/I/versions/V, SRC-05)", _RESOURCE_ID_PATTERN),
        _obj({"urn": _string("a marketplace URN", _URN_PATTERN), "plan": _PLAN}, required=["urn"],
             description="a marketplace image with a purchase plan"),
        _obj({"managedImage": _string("a managed image id", _RESOURCE_ID_PATTERN)},
             required=["managedImage"]),
        _obj({"imageVersion": _string("a gallery image version id", _RESOURCE_ID_PATTERN)},
             required=["imageVersion"]),
        _obj({
            "type": {"type": "string", "enum": ["PlatformImage", "ManagedImage", "SharedImageVersion"]},
            "publisher": _string("image publisher"), "offer": _string("image offer"),
            "sku": _string("image SKU"), "version": _string("image version or `latest`"),
            "planInfo": _PLAN,
            "imageId": _string("managed image id"),
            "imageVersionId": _string("gallery image version id"),
        }, description="the official form, verbatim"),
    ],
    "description": "the image to start from: a URN, an image id, or a mapping",
}

_REGION: Schema = {
    "anyOf": [
        {"type": "string", "description": "a region name"},
        _obj({
            "name": _string("the region"),
            "replicas": _integer("replica count in this region (→ replicaCount)", minimum=1),
            "storage": _enum("storage account type (→ storageAccountType)",
                             "Standard_LRS", "Standard_ZRS", "Premium_LRS"),
            "replicaCount": _integer("official name of `replicas`", minimum=1),
            "storageAccountType": _enum("official name of `storage`",
                                        "Standard_LRS", "Standard_ZRS", "Premium_LRS"),
        }, required=["name"]),
    ],
}

_TARGET_COMMON: dict[str, Schema] = {
    "name": _string("the run output name (→ runOutputName, unique, DI-02)", _NAME_PATTERN),
    "runOutputName": _string("official name of `name`", _NAME_PATTERN),
    "artifactTags": _string_map("tags put on the image the target creates"),
    **_MERGE_KEYS,
}

_GALLERY_KEYS: dict[str, Schema] = {
    "regions": {"type": "array", "items": _REGION,
                "description": "replication regions: names or {name, replicas, storage}; must include "
                               "the gallery's region (DI-04)"},
    "replicationRegions": _string_list("official (before 2022-07-01): region names"),
    "targetRegions": {"type": "array", "items": _REGION, "description": "official (2022-07-01+)"},
    "storageAccountType": _enum("storage of the image version",
                                "Standard_LRS", "Standard_ZRS", "Premium_LRS"),
    "excludeFromLatest": _boolean("keep this version from being `latest` (default false)"),
    "versioning": {"type": "object", "description": "official versioning: {scheme: Latest|Source, major}"},
    "replicationMode": _enum("Full or Shallow replication (2025-10-01+)", "Full", "Shallow"),
}

_TARGET: Schema = {
    "type": "object",
    "oneOf": [
        _obj({"managedImage": _string("the managed image id to create (DI-03)", _RESOURCE_ID_PATTERN),
              "location": _string("the image's region (default: the template's)"),
              **_TARGET_COMMON}, required=["managedImage"],
             description="a ManagedImage target"),
        _obj({"gallery": _string("an image definition id, or a version id …/versions/X.Y.Z (DI-04)",
                                 _RESOURCE_ID_PATTERN),
              **_GALLERY_KEYS, **_TARGET_COMMON}, required=["gallery"],
             description="a SharedImage (Azure Compute Gallery) target"),
        _obj({"vhd": {"anyOf": [{"const": True}, _obj({"uri": _string("where to write the VHD")})],
                      "description": "true, or {uri} (2022-07-01+)"},
              **_TARGET_COMMON}, required=["vhd"],
             description="a VHD target (DI-06): copy the VHD away soon"),
        _obj({"type": {"type": "string", "enum": ["ManagedImage", "SharedImage", "VHD"]},
              "imageId": _string("ManagedImage: the image id"),
              "location": _string("ManagedImage: the image's region"),
              "galleryImageId": _string("SharedImage: the image definition or version id"),
              "uri": _string("VHD: where to write it"),
              **_GALLERY_KEYS, **_TARGET_COMMON}, required=["type"],
             description="the official form, verbatim"),
        _obj({"name": _string("the inherited target to remove"),
              "runOutputName": _string("the inherited target to remove"),
              "remove": {"const": True}}, required=["remove"],
             description="{name: NAME, remove: true} removes an inherited target"),
    ],
    "description": "a distribution target: managedImage, gallery or vhd (or the official form)",
}

_IDENTITY: Schema = {
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

_BUILD: Schema = _obj({
    "vmSize": _string("the build VM's size (→ vmProfile.vmSize; service default Standard_D1_v2, V-01)"),
    "osDiskSizeGB": _integer("OS disk size (→ vmProfile.osDiskSizeGB); 0 = the source's size (V-02)",
                             minimum=0),
    "timeout": _or_template({"anyOf": [{"type": "integer", "minimum": 0, "maximum": 960},
                                       {"type": "string", "pattern": _DURATION_PATTERN}]},
                            "build timeout (→ buildTimeoutInMinutes): minutes, or 90m, 4h, 1h30m; "
                            "default 240, max 960 (B-01, B-02)"),
    "subnet": _string("an existing subnet id (→ vmProfile.vnetConfig.subnetId, V-03)", _RESOURCE_ID_PATTERN),
    "proxyVmSize": _string("the proxy VM's size when a subnet is used (→ vnetConfig.proxyVmSize)"),
    "containerInstanceSubnet": _string("subnet for the build's container instance "
                                       "(→ vnetConfig.containerInstanceSubnetId)", _RESOURCE_ID_PATTERN),
    "identities": _string_list("identities given to the build VM (→ vmProfile.userAssignedIdentities)"),
    "vnetConfig": {"type": "object", "description": "official vnetConfig, verbatim into vmProfile"},
    "userAssignedIdentities": _string_list("official name of `identities`"),
}, description="the build VM's settings and the timeout")

_VALIDATE: Schema = {
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

_ON_ERROR = ("cleanup", "abort")


def _top_level() -> dict[str, Schema]:
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
        "identity": _IDENTITY,
        "dependsOn": _string_list("ARM deployment dependencies (D-01); dropped by --format body"),
        "os": _enum("the OS family, for OS-specific rules; profiles set it", "linux", "windows"),
        "generation": _enum("Hyper-V generation of the source, for SRC-01; profiles set it", "V1", "V2"),
        "source": _SOURCE,
        "build": _BUILD,
        "customize": {"type": "array", "items": _ref("step"),
                      "description": "customization steps, run in order (C-02); merged by name"},
        "validate": _VALIDATE,
        "distribute": {"type": "array", "items": _TARGET,
                       "description": "distribution targets (DI-01); merged by name/runOutputName"},
        "autoRun": {"anyOf": [_boolean("true → {state: Enabled}"),
                              _obj({"state": _enum("build on create/update", "Enabled", "Disabled")})],
                    "description": "build automatically when the template is created or updated"},
        "errorHandling": _obj({
            "onCustomizerError": _enum("cleanup (default) or abort (keep the build VM)", *_ON_ERROR),
            "onValidationError": _enum("cleanup (default) or abort (keep the build VM)", *_ON_ERROR),
        }, description="what happens to the build VM when a step fails"),
        "optimize": _obj({
            "vmBoot": {"anyOf": [_boolean("true → {state: Enabled}"),
                                 _obj({"state": _enum("optimize for a faster VM boot", "Enabled", "Disabled")})]},
        }, description="image optimization; {vmBoot: true} → {vmBoot: {state: Enabled}}"),
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
