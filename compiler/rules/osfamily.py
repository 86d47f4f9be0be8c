"""Which OS family a template builds, when the dialect's `os:` (or a profile) does not say."""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

_WINDOWS_PUBLISHERS = frozenset(
    p.lower()
    for p in (
        "MicrosoftWindowsServer",
        "MicrosoftWindowsDesktop",
        "MicrosoftWindowsServerHPCPack",
        "MicrosoftVisualStudio",
        "MicrosoftBizTalkServer",
        "MicrosoftDynamicsAX",
        "MicrosoftSharePoint",
        "MicrosoftWindowsServerEssentials",
    )
)
_LINUX_PUBLISHERS = frozenset(
    p.lower()
    for p in (
        "Canonical",
        "RedHat",
        "Debian",
        "credativ",
        "SUSE",
        "OpenLogic",
        "almalinux",
        "Oracle",
        "kinvolk",
        "resf",
        "erockyenterprisesoftwarefoundationinc1653071250513",
        "ntegralinc1586961136942",
        "MicrosoftCBLMariner",
        "microsoftcblmariner",
        "MicrosoftAzureLinux",
        "procomputers",
        "bitnami",
        "center-for-internet-security-inc-linux",
    )
)
# Publishers with both families (SQL Server on Linux, DSVM, CIS-hardened images): decide by offer/sku.
_WINDOWS_WORDS = re.compile(r"windows|win(?:server)?[-_]?\d|\bwin\d|-win|sql20\d\d-ws|datacenter|w2k", re.I)
_LINUX_WORDS = re.compile(
    r"ubuntu|rhel|centos|debian|sles|suse|linux|alma|rocky|oracle|mariner|flatcar", re.I
)

_WINDOWS_STEPS = frozenset(("WindowsRestart", "WindowsUpdate"))


def infer_os_family(doc: Any) -> str | None:
    """'windows' or 'linux' from the source publisher (then offer/sku), then from the step kinds."""
    if not isinstance(doc, dict):
        return None
    props = doc.get("properties")
    props = props if isinstance(props, dict) else {}
    source = props.get("source")
    if isinstance(source, dict):
        publisher = source.get("publisher")
        if isinstance(publisher, str):
            low = publisher.lower()
            if low in _WINDOWS_PUBLISHERS:
                return "windows"
            if low in _LINUX_PUBLISHERS:
                return "linux"
        words = " ".join(str(source.get(k)) for k in ("offer", "sku") if isinstance(source.get(k), str))
        if words:
            if _LINUX_WORDS.search(words):
                return "linux"
            if _WINDOWS_WORDS.search(words):
                return "windows"
    kinds: set[str] = set()
    for key in ("customize",):
        steps = props.get(key)
        if isinstance(steps, list):
            kinds.update(
                str(s["type"]) for s in steps if isinstance(s, dict) and isinstance(s.get("type"), str)
            )
    validate = props.get("validate")
    if isinstance(validate, dict) and isinstance(validate.get("inVMValidations"), list):
        kinds.update(
            str(s["type"])
            for s in validate["inVMValidations"]
            if isinstance(s, dict) and isinstance(s.get("type"), str)
        )
    if kinds & _WINDOWS_STEPS:
        return "windows"
    if "Shell" in kinds:
        return "linux"
    return None
