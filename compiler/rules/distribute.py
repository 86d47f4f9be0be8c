"""Distribution targets: at least one (DI-01), unique runOutputName (DI-02), ManagedImage (DI-03),
SharedImage (DI-04), region advice (DI-05) and the VHD note (DI-06). Region names: L-01."""

from __future__ import annotations

from .. import code_ids as C
from ..model import JsonPath
from .context import RuleContext, as_list, is_str
from .regions import is_known_region, normalize_region
from .resourceids import GALLERY_IMAGE_DEFINITION, GALLERY_IMAGE_VERSION, GALLERY_VERSION_NAME, MANAGED_IMAGE
from .skeleton import check_region

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

_PREMIUM_SINCE = "2022-07-01"


def check(ctx: RuleContext) -> None:
    dist = ctx.props.get("distribute")
    if isinstance(dist, list) and not dist:
        ctx.report(
            C.AIB080, "distribute is empty; the build would produce nothing", ("properties", "distribute")
        )
    seen: dict[str, int] = {}
    for path, target in ctx.distributors():
        number = path[-1] + 1 if isinstance(path[-1], int) else 0
        name = target.get("runOutputName")
        if is_str(name) and name and not ctx.opaque(name):
            low = name.lower()  # run outputs are ARM child resources: names compare without case
            if low in seen:
                ctx.report(
                    C.AIB081,
                    f"runOutputName {name!r} is used by targets #{seen[low]} and #{number}",
                    path + ("runOutputName",),
                )
            else:
                seen[low] = number
        kind = target.get("type")
        if kind == "ManagedImage":
            _managed_image(ctx, path, target)
        elif kind == "SharedImage":
            _shared_image(ctx, path, target)
        elif kind == "VHD" and not target.get("uri"):
            ctx.report(
                C.AIB091,
                f"VHD target {name!r} is written to the staging resource group's storage account",
                path + ("type",),
            )


def _template_region(ctx: RuleContext) -> str | None:
    loc = ctx.doc.get("location")
    if is_str(loc) and loc and not ctx.opaque(loc) and is_known_region(loc):
        return normalize_region(loc)
    return None


def _managed_image(ctx: RuleContext, path: JsonPath, target: dict[str, Any]) -> None:
    image = target.get("imageId")
    if is_str(image) and image and not ctx.opaque(image) and not MANAGED_IMAGE.match(image):
        ctx.report(
            C.AIB082,
            f"ManagedImage imageId {image!r} is not a Microsoft.Compute/images resource id",
            path + ("imageId",),
        )
    loc = target.get("location")
    if is_str(loc):
        if not loc.strip():
            ctx.report(C.AIB083, "ManagedImage target has an empty location", path + ("location",))
            return
        if loc != ctx.doc.get("location"):  # the template's own location (the dialect's default) is said once
            check_region(ctx, loc, path + ("location",), "ManagedImage location")
        here = _template_region(ctx)
        if here and not ctx.opaque(loc) and is_known_region(loc) and normalize_region(loc) != here:
            ctx.report(
                C.AIB090,
                f"the managed image is created in {loc!r}, the template builds in "
                f"{ctx.doc.get('location')!r}",
                path + ("location",),
            )


def _shared_image(ctx: RuleContext, path: JsonPath, target: dict[str, Any]) -> None:
    gid = target.get("galleryImageId")
    if is_str(gid) and gid and not ctx.opaque(gid):
        if GALLERY_IMAGE_VERSION.match(gid):
            version = gid.rstrip("/").rsplit("/", 1)[-1]
            if not GALLERY_VERSION_NAME.match(version):
                ctx.report(
                    C.AIB089,
                    f"gallery image version {version!r} is not Major.Minor.Patch",
                    path + ("galleryImageId",),
                )
        elif not GALLERY_IMAGE_DEFINITION.match(gid):
            ctx.report(
                C.AIB084,
                f"galleryImageId {gid!r} is not a gallery image definition or version id",
                path + ("galleryImageId",),
            )
    _storage_type(ctx, target.get("storageAccountType"), path + ("storageAccountType",))
    has_rep = "replicationRegions" in target and target.get("replicationRegions") is not None
    has_tgt = "targetRegions" in target and target.get("targetRegions") is not None
    if has_rep and has_tgt:
        ctx.report(
            C.AIB087,
            "replicationRegions and targetRegions are both set; the service accepts one",
            path + ("replicationRegions",),
            key=True,
        )
    names: list[tuple[Any, JsonPath]] = []
    for i, region in enumerate(as_list(target.get("replicationRegions"))):
        names.append((region, path + ("replicationRegions", i)))
    for i, region in enumerate(as_list(target.get("targetRegions"))):
        if isinstance(region, dict):
            names.append((region.get("name"), path + ("targetRegions", i, "name")))
            _storage_type(
                ctx, region.get("storageAccountType"), path + ("targetRegions", i, "storageAccountType")
            )
    for key in ("replicationRegions", "targetRegions"):
        if isinstance(target.get(key), list) and not target[key]:
            ctx.report(C.AIB088, f"{key} is empty", path + (key,))
    seen: set[str] = set()
    literal: list[str] = []
    # once per region: its second entry says how often it is listed, and an unknown region is named
    # once (L-01)
    counts: dict[str, list[JsonPath]] = {}
    for region, rpath in names:
        if not is_str(region) or not region or ctx.opaque(region):
            continue
        norm = normalize_region(region)
        if norm not in seen:
            check_region(ctx, region, rpath, "replication region")
        counts.setdefault(norm, []).append(rpath)
        seen.add(norm)
        literal.append(norm)
    for paths in counts.values():
        if len(paths) > 1:
            region = ctx.model.get(paths[1])
            times = "twice" if len(paths) == 2 else f"{len(paths)} times"
            ctx.report(C.AIB086, f"region {region!r} is listed {times}", paths[1])
    here = _template_region(ctx)
    if here and literal and here not in seen:
        ctx.report(
            C.AIB090,
            f"the template builds in {ctx.doc.get('location')!r}, which is not among the "
            "replication regions; if the image definition lives elsewhere the build takes longer",
            path + (("targetRegions",) if has_tgt else ("replicationRegions",)),
        )


def _storage_type(ctx: RuleContext, value: Any, path: JsonPath) -> None:
    if (
        value == "Premium_LRS"
        and ctx.api_version < _PREMIUM_SINCE
        and not ctx.schema_reported(path, "Premium_LRS")
    ):
        ctx.report(
            C.AIB085,
            f"storageAccountType 'Premium_LRS' needs apiVersion {_PREMIUM_SINCE} or later "
            f"(this template uses {ctx.api_version})",
            path,
        )
