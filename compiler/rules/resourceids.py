"""Shapes of the ARM resource ids that image templates name (structure only, case-insensitive).

A segment is any non-empty text without a slash, so quickstart ids such as
``/subscriptions/{subscription-id}/...`` (the REST examples) pass; ARM expressions and
``<placeholders>`` are skipped by the callers before these are used.
"""

from __future__ import annotations

import re

_SEG = r"[^/\s]+"
_RG = rf"/subscriptions/{_SEG}/resourceGroups/{_SEG}/providers"


def _id(tail: str) -> re.Pattern[str]:
    return re.compile(rf"^{_RG}/{tail}$", re.IGNORECASE)


USER_ASSIGNED_IDENTITY = _id(rf"Microsoft\.ManagedIdentity/userAssignedIdentities/{_SEG}")
MANAGED_IMAGE = _id(rf"Microsoft\.Compute/images/{_SEG}")
GALLERY_IMAGE_DEFINITION = _id(rf"Microsoft\.Compute/galleries/{_SEG}/images/{_SEG}")
GALLERY_IMAGE_VERSION = _id(rf"Microsoft\.Compute/galleries/{_SEG}/images/{_SEG}/versions/{_SEG}")
SUBNET = _id(rf"Microsoft\.Network/virtualNetworks/{_SEG}/subnets/{_SEG}")
ANY_RESOURCE = _id(rf"{_SEG}(?:/{_SEG})+")

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
