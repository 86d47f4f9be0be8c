"""The ARM routes of the local service, and the ARM "meta" resources around the image templates.

``ROUTES`` is matched first (case-insensitively, like ARM); only then is the api-version checked,
against the versions of the matched route's resource type: the resource provider's types
(``imageTemplates``, ``imageTemplates/triggers``...) accept the versions of the reference specs and
answer ``NoRegisteredProviderFound`` (listing them) otherwise; ARM's own resources (subscriptions,
tenants, providers, resource groups) accept any well-formed version, as ARM serves many.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ..localstate import LOCAL_LOCATION, LOCAL_SUBSCRIPTION

RP = "Microsoft.VirtualMachineImages"
TEMPLATE_TYPE = f"{RP}/imageTemplates"
TENANT_ID = "00000000-0000-0000-0000-0000000a1b70"
STABLE_API_VERSIONS = ("2020-02-14", "2021-10-01", "2022-02-14", "2022-07-01", "2023-07-01", "2024-02-01",
                       "2025-10-01")
TRIGGER_API_VERSIONS = tuple(v for v in STABLE_API_VERSIONS if v >= "2022-07-01")
FLAT_ERROR_VERSIONS = ("2020-02-14",)  # ApiError without the {"error": ...} wrapper
PATCH_PROPERTIES = {"distribute": "2023-07-01", "vmProfile": "2024-02-01"}  # properties.X updatable from version
META_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(?:-(?:preview|privatepreview|alpha|beta))?$", re.I)

# resource type -> the api-versions it is served at (the provider's resourceTypes listing)
RESOURCE_TYPES: dict[str, tuple[str, ...]] = {
    "imageTemplates": STABLE_API_VERSIONS,
    "imageTemplates/runOutputs": STABLE_API_VERSIONS,
    "imageTemplates/triggers": TRIGGER_API_VERSIONS,
    "operations": STABLE_API_VERSIONS,
    "locations": STABLE_API_VERSIONS,
    "locations/operations": STABLE_API_VERSIONS,
}
# where the real service runs (display names, as the providers API lists them) and the local pseudo-region
LOCATIONS = ("East US", "East US 2", "West US", "West US 2", "West US 3", "Central US", "North Central US",
             "South Central US", "West Central US", "North Europe", "West Europe", "UK South", "UK West",
             "France Central", "Germany West Central", "Sweden Central", "Switzerland North", "Norway East",
             "Australia East", "Australia Southeast", "Japan East", "Korea Central", "Southeast Asia", "East Asia",
             "Central India", "Brazil South", "Canada Central", "South Africa North", "UAE North", "Qatar Central",
             "Local")

_S = r"/subscriptions/(?P<sub>[^/]+)"
_T = _S + r"/resourcegroups/(?P<rg>[^/]+)/providers/microsoft\.virtualmachineimages/imagetemplates/(?P<name>[^/]+)"


@dataclass(frozen=True)
class Route:
    name: str  # the handler: Api.r_<name>
    pattern: re.Pattern[str]
    methods: tuple[str, ...]
    rtype: str | None  # the provider's resource type (versions checked), None: an ARM meta route
    compute: bool = False  # Microsoft.Compute marketplace routes: any version


def _r(name: str, regex: str, methods: str, rtype: str | None, compute: bool = False) -> Route:
    return Route(name, re.compile(regex + "$", re.I), tuple(methods.split()), rtype, compute)


ROUTES: tuple[Route, ...] = (
    _r("template", _T, "GET PUT PATCH DELETE", "imageTemplates"),
    _r("run", _T + r"/run", "POST", "imageTemplates"),
    _r("cancel", _T + r"/cancel", "POST", "imageTemplates"),
    _r("outputs", _T + r"/runoutputs", "GET", "imageTemplates/runOutputs"),
    _r("output", _T + r"/runoutputs/(?P<out>[^/]+)", "GET", "imageTemplates/runOutputs"),
    _r("triggers", _T + r"/triggers", "GET", "imageTemplates/triggers"),
    _r("trigger", _T + r"/triggers/(?P<trigger>[^/]+)", "GET PUT DELETE", "imageTemplates/triggers"),
    _r("customization_log", _T + r"/customizationlog", "GET", "imageTemplates"),
    _r("list", _S + r"(?:/resourcegroups/(?P<rg>[^/]+))?/providers/microsoft\.virtualmachineimages/imagetemplates",
       "GET", "imageTemplates"),
    _r("operation", _S + r"/providers/microsoft\.virtualmachineimages/locations/(?P<loc>[^/]+)/"
       r"(?P<kind>operations|operationresults)/(?P<id>[^/]+)", "GET", "locations/operations"),
    _r("rp_operations", r"/providers/microsoft\.virtualmachineimages/operations", "GET", "operations"),
    _r("images", _S + r"/providers/microsoft\.compute/locations/(?P<loc>[^/]+)/publishers"
       r"(?:/(?P<pub>[^/]+)/artifacttypes/vmimage/offers(?:/(?P<offer>[^/]+)/skus"
       r"(?:/(?P<sku>[^/]+)/versions(?:/(?P<ver>[^/]+))?)?)?)?", "GET", None, compute=True),
    _r("subscriptions", r"/subscriptions", "GET", None),
    _r("subscription", _S, "GET", None),
    _r("tenants", r"/tenants", "GET", None),
    _r("locations", _S + r"/locations", "GET", None),
    _r("providers", _S + r"/providers", "GET", None),
    _r("provider", r"(?:" + _S + r")?/providers/(?P<ns>microsoft\.virtualmachineimages|microsoft\.compute)",
       "GET", None),
    _r("provider_register", _S + r"/providers/(?P<ns>microsoft\.virtualmachineimages|microsoft\.compute)/register",
       "POST", None),
    _r("groups", _S + r"/resourcegroups", "GET", None),
    _r("group", _S + r"/resourcegroups/(?P<rg>[^/]+)", "GET HEAD PUT PATCH DELETE", None),
    _r("group_resources", _S + r"/resourcegroups/(?P<rg>[^/]+)/resources", "GET", None),
)


def match(path: str) -> tuple[Route, re.Match[str]] | None:
    for route in ROUTES:
        m = route.pattern.match(path)
        if m:
            return route, m
    return None


def versions_for(rtype: str) -> tuple[str, ...]:
    return RESOURCE_TYPES.get(rtype, STABLE_API_VERSIONS)


def no_registered_provider(version: str, rtype: str, location: str | None) -> str:
    supported = ", ".join(versions_for(rtype))
    return (f"No registered resource provider found for location '{location or 'global'}' and API version "
            f"'{version}' for type '{rtype}'. The supported api-versions are '{supported}'. The supported "
            f"locations are '{', '.join(loc.lower().replace(' ', '') for loc in LOCATIONS)}'.")


# -- meta resources ----------------------------------------------------------------------------
def subscription_json(sub: str) -> dict[str, Any]:
    return {"id": f"/subscriptions/{sub}", "subscriptionId": sub, "tenantId": TENANT_ID,
            "displayName": "aibtui local service (simulated subscription)", "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "aibtui-local",
                                     "spendingLimit": "Off"},
            "authorizationSource": "RoleBased", "managedByTenants": [], "tags": {}}


def is_local_subscription(sub: str) -> bool:
    return sub.lower() == LOCAL_SUBSCRIPTION


def tenants_json() -> dict[str, Any]:
    return {"value": [{"id": f"/tenants/{TENANT_ID}", "tenantId": TENANT_ID, "tenantCategory": "Home",
                       "displayName": "aibtui local", "defaultDomain": "aibtui.local", "domains": ["aibtui.local"]}],
            "count": {"type": "Total", "value": 1}}


def locations_json(sub: str) -> dict[str, Any]:
    return {"value": [{"id": f"/subscriptions/{sub}/locations/{_loc(n)}", "name": _loc(n), "displayName": n,
                       "regionalDisplayName": n, "type": "Region",
                       "metadata": {"regionType": "Physical" if n != "Local" else "Logical"}} for n in LOCATIONS]}


def _loc(display: str) -> str:
    return display.lower().replace(" ", "")


def provider_json(sub: str | None, namespace: str) -> dict[str, Any]:
    prefix = f"/subscriptions/{sub}" if sub else ""
    if namespace.lower() == "microsoft.compute":
        types = [{"resourceType": "locations/publishers", "locations": list(LOCATIONS),
                  "apiVersions": ["2024-07-01", "2024-03-01", "2023-09-01", "2023-03-01", "2022-11-01"]}]
        ns = "Microsoft.Compute"
    else:
        types = [{"resourceType": t, "locations": list(LOCATIONS) if t != "operations" else [],
                  "apiVersions": sorted(v, reverse=True), "defaultApiVersion": max(v),
                  "capabilities": "SupportsTags, SupportsLocation" if t == "imageTemplates" else "None"}
                 for t, v in RESOURCE_TYPES.items()]
        ns = RP
    return {"id": f"{prefix}/providers/{ns}", "namespace": ns, "registrationState": "Registered",
            "registrationPolicy": "RegistrationRequired", "resourceTypes": types}


def providers_json(sub: str) -> dict[str, Any]:
    return {"value": [provider_json(sub, RP), provider_json(sub, "Microsoft.Compute")]}


def group_json(group: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": f"/subscriptions/{group['sub']}/resourceGroups/{group['name']}",
                           "name": group["name"], "type": "Microsoft.Resources/resourceGroups",
                           "location": group["location"], "properties": {"provisioningState": "Succeeded"}}
    if group.get("tags"):
        out["tags"] = group["tags"]
    return out


def operations_list() -> dict[str, Any]:
    data = json.loads(resources.files("aibtui.service").joinpath("operations.json").read_text(encoding="utf-8"))
    return {"value": data["value"]}


def default_location() -> str:
    return LOCAL_LOCATION
