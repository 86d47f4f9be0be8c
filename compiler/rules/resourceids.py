"""Shapes of the ARM resource ids that image templates name (structure only, case-insensitive).

A segment is any non-empty text without a slash, so quickstart ids such as
``/subscriptions/{subscription-id}/...`` (the REST examples) pass; ARM expressions and
``<placeholders>`` are skipped by the callers before these are used.
"""

from __future__ import annotations

import functools
import re


class _IdShape:
    """Matches ``/subscriptions/S/resourceGroups/G/providers/<tail>`` where the tail is given as
    fixed words and ``*`` (any one segment); case-insensitive, segments without whitespace.

    Plain string work instead of re.IGNORECASE patterns: compiling those cost ~10 ms at import,
    on every cold `aibtui compile`.
    """

    __slots__ = ("tail", "open_ended")

    def __init__(self, tail: str, open_ended: bool = False) -> None:
        self.tail = tuple(t.lower() for t in tail.split("/"))
        self.open_ended = open_ended  # the last `*` stands for one or more segments

    def match(self, value: str) -> bool:
        return _match(self.tail, self.open_ended, value)


_SPACE = re.compile(r"\s")


@functools.lru_cache(maxsize=4096)  # pure; the same ids recur across steps, targets and recompiles
def _match(tail: tuple[str, ...], open_ended: bool, value: str) -> bool:
    if not value.startswith("/") or _SPACE.search(value):
        return False
    parts = value[1:].split("/")
    want = ("subscriptions", "*", "resourcegroups", "*", "providers", *tail)
    if len(parts) < len(want) if open_ended else len(parts) != len(want):
        return False
    for i, part in enumerate(parts):
        if not part:
            return False
        w = want[i] if i < len(want) else "*"
        if w != "*" and part.lower() != w:
            return False
    return True


USER_ASSIGNED_IDENTITY = _IdShape("Microsoft.ManagedIdentity/userAssignedIdentities/*")
MANAGED_IMAGE = _IdShape("Microsoft.Compute/images/*")
GALLERY_IMAGE_DEFINITION = _IdShape("Microsoft.Compute/galleries/*/images/*")
GALLERY_IMAGE_VERSION = _IdShape("Microsoft.Compute/galleries/*/images/*/versions/*")
SUBNET = _IdShape("Microsoft.Network/virtualNetworks/*/subnets/*")
ANY_RESOURCE = _IdShape("*/*", open_ended=True)

# Gallery image version names: Major.Minor.Patch, each a 32-bit integer.
GALLERY_VERSION_NAME = re.compile(r"^\d{1,10}\.\d{1,10}\.\d{1,10}$")


def resource_type_of(value: str) -> str | None:
    """'Microsoft.Compute/images' for a resource id (the provider and the type segments), else None."""
    parts = value.strip("/").split("/")
    low = [p.lower() for p in parts]
    if "providers" not in low:
        return None
    i = len(low) - 1 - low[::-1].index("providers")
    rest = parts[i + 1 :]
    if len(rest) < 3:
        return None
    types = [rest[0]] + rest[1::2]
    return "/".join(types)
