"""The form of the Azure resource ids the onboarding asks for, and the `az` commands for the identity.

Only the *form* is checked (segments, names): whether the resource exists is for Azure to say.
Each check returns None when the value is well formed, else one sentence saying what is wrong.
"""

from __future__ import annotations

import re

_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_RG = r"[-\w.()]{1,90}"
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}"
_PREFIX = rf"/subscriptions/(?P<sub>{_GUID})/resourceGroups/(?P<rg>{_RG})/providers/"

IDENTITY_RE = re.compile(_PREFIX + rf"Microsoft\.ManagedIdentity/userAssignedIdentities/(?P<name>{_NAME})$",
                         re.IGNORECASE)
MANAGED_IMAGE_RE = re.compile(_PREFIX + rf"Microsoft\.Compute/images/(?P<name>{_NAME})$", re.IGNORECASE)
GALLERY_IMAGE_RE = re.compile(_PREFIX + rf"Microsoft\.Compute/galleries/(?P<gallery>{_NAME})/images/(?P<name>{_NAME})"
                              r"(?:/versions/(?P<version>\d+\.\d+\.\d+))?$", re.IGNORECASE)
GALLERY_VERSION_RE = re.compile(_PREFIX + rf"Microsoft\.Compute/galleries/(?P<gallery>{_NAME})/images/"
                                rf"(?P<name>{_NAME})/versions/(?P<version>\d+\.\d+\.\d+|latest)$", re.IGNORECASE)
SUBNET_RE = re.compile(_PREFIX + rf"Microsoft\.Network/virtualNetworks/{_NAME}/subnets/{_NAME}$", re.IGNORECASE)
LOCATION_RE = re.compile(r"^[a-z][a-z0-9]{2,39}$")
TEMPLATE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
URN_RE = re.compile(r"^[^:\s]+:[^:\s]+:[^:\s]+(?::[^:\s]+)?$")

EXAMPLE_SUB = "00000000-0000-0000-0000-000000000000"


def _check(value: str, pattern: re.Pattern[str], what: str, shape: str) -> str | None:
    value = value.strip()
    if not value:
        return f"enter the {what}"
    if not value.startswith("/subscriptions/"):
        return f"a {what} starts with /subscriptions/ (the form is {shape})"
    m = re.match(r"/subscriptions/([^/]*)", value)
    if m and not re.fullmatch(_GUID, m.group(1)):
        return f"the subscription id '{m.group(1)}' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
    if "/resourceGroups/" not in value and "/resourcegroups/" not in value.lower():
        return f"the id has no /resourceGroups/NAME/ segment (the form is {shape})"
    if not pattern.match(value):
        return f"not a {what} id; the form is {shape}"
    return None


def check_identity(value: str) -> str | None:
    return _check(value, IDENTITY_RE, "user-assigned identity",
                  "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME")


def check_managed_image(value: str) -> str | None:
    return _check(value, MANAGED_IMAGE_RE, "managed image",
                  "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Compute/images/NAME")


def check_gallery_image(value: str) -> str | None:
    return _check(value, GALLERY_IMAGE_RE, "gallery image definition",
                  "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Compute/galleries/G/images/I")


def check_gallery_version(value: str) -> str | None:
    return _check(value, GALLERY_VERSION_RE, "gallery image version",
                  "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Compute/galleries/G/images/I/versions/X.Y.Z")


def check_subnet(value: str) -> str | None:
    return _check(value, SUBNET_RE, "subnet",
                  "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/V/subnets/S")


def check_location(value: str) -> str | None:
    value = value.strip()
    if not value:
        return "enter an Azure region, e.g. westus2"
    if not LOCATION_RE.match(value):
        return "a region name is lower-case letters and digits, e.g. westus2 or westeurope (not 'West US 2')"
    return None


def check_template_name(value: str) -> str | None:
    value = value.strip()
    if not value:
        return "enter a name"
    if not TEMPLATE_NAME_RE.match(value):
        return "letters, digits, '-', '_' and '.', at most 64, starting with a letter or digit"
    return None


def check_urn(value: str) -> str | None:
    if not URN_RE.match(value.strip()):
        return "a marketplace image is PUBLISHER:OFFER:SKU[:VERSION], e.g. Canonical:ubuntu-24_04-lts:server:latest"
    return None


def check_source_id(value: str) -> str | None:
    """A managed image or a gallery image version used as the source."""
    if MANAGED_IMAGE_RE.match(value.strip()) or GALLERY_VERSION_RE.match(value.strip()):
        return None
    if "/galleries/" in value:
        return check_gallery_version(value)
    return check_managed_image(value)


def identity_parts(value: str) -> tuple[str, str, str] | None:
    m = IDENTITY_RE.match(value.strip())
    return (m.group("sub"), m.group("rg"), m.group("name")) if m else None


def identity_id(subscription: str, resource_group: str, name: str) -> str:
    return (f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/"
            f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}")


IDENTITY_EXPLAINED = (
    "AIB builds as a user-assigned managed identity. It needs to read the source image and write "
    "the output (managed image, gallery version or VHD) in your resource group: the built-in "
    "'Contributor' role on that group is the simple choice; a custom role with only the "
    "Microsoft.Compute/images and galleries actions is the tight one."
)


def az_commands(resource_group: str = "rg-images", name: str = "id-aib", location: str = "westus2",
                subscription: str | None = None) -> list[str]:
    """The `az` commands that create the identity and give it the role AIB needs on the group."""
    sub = subscription or "$(az account show --query id -o tsv)"
    scope = f"/subscriptions/{sub}/resourceGroups/{resource_group}"
    return [
        f"az group create -n {resource_group} -l {location}",
        f"az identity create -g {resource_group} -n {name}",
        f"az role assignment create --assignee-object-id $(az identity show -g {resource_group} -n {name} "
        f"--query principalId -o tsv) --assignee-principal-type ServicePrincipal --role Contributor "
        f"--scope {scope}",
        f"az identity show -g {resource_group} -n {name} --query id -o tsv   # paste this id",
    ]
