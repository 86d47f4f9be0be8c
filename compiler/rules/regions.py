"""Azure region names (programmatic `name` as `az account list-locations` prints it), as data.

Public cloud, Azure Government and Azure China (21Vianet). A region missing here is only a
warning (L-01), so a new region never blocks a build; add it to this table.
"""

from __future__ import annotations

PUBLIC_REGIONS: frozenset[str] = frozenset(
    (
        # Americas
        "eastus",
        "eastus2",
        "centralus",
        "northcentralus",
        "southcentralus",
        "westcentralus",
        "westus",
        "westus2",
        "westus3",
        "canadacentral",
        "canadaeast",
        "brazilsouth",
        "brazilsoutheast",
        "mexicocentral",
        "chilecentral",
        # Europe
        "northeurope",
        "westeurope",
        "uksouth",
        "ukwest",
        "francecentral",
        "francesouth",
        "germanywestcentral",
        "germanynorth",
        "switzerlandnorth",
        "switzerlandwest",
        "norwayeast",
        "norwaywest",
        "swedencentral",
        "swedensouth",
        "polandcentral",
        "italynorth",
        "spaincentral",
        "austriaeast",
        "belgiumcentral",
        "denmarkeast",
        # Asia Pacific
        "eastasia",
        "southeastasia",
        "japaneast",
        "japanwest",
        "koreacentral",
        "koreasouth",
        "centralindia",
        "southindia",
        "westindia",
        "jioindiacentral",
        "jioindiawest",
        "australiaeast",
        "australiasoutheast",
        "australiacentral",
        "australiacentral2",
        "newzealandnorth",
        "indonesiacentral",
        "malaysiawest",
        "taiwannorth",
        "taiwannorthwest",
        # Middle East and Africa
        "uaenorth",
        "uaecentral",
        "qatarcentral",
        "israelcentral",
        "southafricanorth",
        "southafricawest",
        # Canary (early-access) regions
        "eastus2euap",
        "centraluseuap",
    )
)

SOVEREIGN_REGIONS: frozenset[str] = frozenset(
    (
        # Azure Government
        "usgovvirginia",
        "usgovarizona",
        "usgovtexas",
        "usdodeast",
        "usdodcentral",
        # Azure Government Secret / Top Secret
        "usseceast",
        "ussecwest",
        "ussecwestcentral",
        "usnateast",
        "usnatwest",
        # Azure China (21Vianet)
        "chinaeast",
        "chinaeast2",
        "chinaeast3",
        "chinanorth",
        "chinanorth2",
        "chinanorth3",
    )
)

ALL_REGIONS: frozenset[str] = PUBLIC_REGIONS | SOVEREIGN_REGIONS

# The regions the seed page (2020, preview) lists; advice only, never a diagnostic on its own.
SEED_PREVIEW_REGIONS: tuple[str, ...] = (
    "eastus",
    "eastus2",
    "westcentralus",
    "westus",
    "westus2",
    "northeurope",
    "westeurope",
)

_SORTED = sorted(ALL_REGIONS)


def normalize_region(value: str) -> str:
    """ARM accepts display names too ('West US 2'): compare without case, spaces, '-' or '_'."""
    return value.lower().replace(" ", "").replace("-", "").replace("_", "")


def is_known_region(value: str) -> bool:
    return normalize_region(value) in ALL_REGIONS


def suggest_region(value: str) -> str | None:
    """The closest known region name, or None when nothing is close."""
    norm = normalize_region(value)
    import difflib  # lazily: only error paths need it

    found = difflib.get_close_matches(norm, _SORTED, n=1, cutoff=0.75)
    if found:
        return found[0]
    # 'westus 2', 'us west 2' and similar word orders
    for name in _SORTED:
        if sorted(name) == sorted(norm) and len(name) == len(norm):
            return name
    return None
