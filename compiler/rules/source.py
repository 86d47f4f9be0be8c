"""Source: Gen2 on 2020-02-14 (SRC-01), PlatformImage (SRC-02), planInfo (SRC-03), ids (SRC-04, SRC-05)."""

from __future__ import annotations

import re

from .. import code_ids as C
from .context import RuleContext, is_str
from .resourceids import GALLERY_IMAGE_DEFINITION, GALLERY_IMAGE_VERSION, MANAGED_IMAGE

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

SRC: tuple[str, ...] = ("properties", "source")
# Marketplace SKUs that name generation 2: `22_04-lts-gen2`, `2019-datacenter-gensecond`,
# `win10-22h2-pro-g2`, `9-lvm-gen2`; Arm64 images are generation 2 only.
_GEN2_SKU = re.compile(r"gen-?2|gensecond|(?:^|[-_])g2(?:$|[-_])|arm64", re.IGNORECASE)
# Offers whose default SKUs are generation 2 (the generation 1 SKU then says `gen1`): Ubuntu 24.04 and
# later (`ubuntu-24_04-lts:server`), Windows 11 (generation 2 only).
_GEN2_OFFER = re.compile(
    r"^(?:ubuntu-(?:2[4-9]|[3-9]\d)_\d\d(?:-lts)?(?:-[a-z]+)?|windows-11|office-365)$", re.IGNORECASE
)
_GEN1_SKU = re.compile(r"gen-?1|(?:^|[-_])g1(?:$|[-_])", re.IGNORECASE)


def gen2_sku(offer: object, sku: object) -> bool:
    """True when a marketplace offer/SKU is a Hyper-V generation 2 image, as far as its name tells."""
    if not is_str(sku):
        return False
    if _GEN2_SKU.search(sku):
        return True
    return is_str(offer) and bool(_GEN2_OFFER.match(offer)) and not _GEN1_SKU.search(sku)
_MARKETPLACE_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_PLATFORM_KEYS = ("publisher", "offer", "sku", "version")
_PLAN_KEYS = ("planName", "planProduct", "planPublisher")


def check(ctx: RuleContext) -> None:
    source = ctx.props.get("source")
    if not isinstance(source, dict):
        return
    kind = source.get("type")
    if kind == "PlatformImage":
        _platform(ctx, source)
    elif kind == "ManagedImage":
        value = source.get("imageId")
        if is_str(value) and not ctx.opaque(value) and not MANAGED_IMAGE.match(value):
            ctx.report(
                C.AIB034,
                f"source imageId {value!r} is not a Microsoft.Compute/images resource id",
                SRC + ("imageId",),
            )
    elif kind == "SharedImageVersion":
        _image_version(ctx, source)
    _gen2(ctx, source)


def _platform(ctx: RuleContext, source: dict[str, Any]) -> None:
    missing = [k for k in _PLATFORM_KEYS if k not in source or source.get(k) in ("", None)]
    if missing:
        ctx.report(C.AIB031, f"PlatformImage source lacks {', '.join(missing)}", SRC)
    version = source.get("version")
    if (
        is_str(version)
        and version
        and not ctx.opaque(version)
        and version != "latest"
        and not _MARKETPLACE_VERSION.match(version)
    ):
        hint = "write latest in lower case" if version.lower() == "latest" else None
        ctx.report(
            C.AIB032,
            f"PlatformImage version {version!r} is neither 'latest' nor Major.Minor.Build",
            SRC + ("version",),
            hint=hint,
        )
    plan = source.get("planInfo")
    if isinstance(plan, dict):
        for key in _PLAN_KEYS:
            value = plan.get(key)
            if is_str(value) and not value.strip():
                ctx.report(
                    C.AIB033,
                    f"planInfo.{key} is empty; a marketplace plan needs planName, "
                    "planProduct and planPublisher",
                    SRC + ("planInfo", key),
                )


def _image_version(ctx: RuleContext, source: dict[str, Any]) -> None:
    for key in source:
        if (
            key != "imageVersionId"
            and key.lower() == "imageversionid"
            and not ctx.schema_reported(SRC + (key,), key, key=True)
        ):
            ctx.report(
                C.AIB036,
                f"{key!r} is the seed's spelling; the API reads imageVersionId",
                SRC + (key,),
                key=True,
            )
    value = source.get("imageVersionId")
    if not is_str(value) or ctx.opaque(value) or GALLERY_IMAGE_VERSION.match(value):
        return
    if GALLERY_IMAGE_DEFINITION.match(value):
        ctx.report(
            C.AIB035,
            f"imageVersionId {value!r} names an image definition, not a version",
            SRC + ("imageVersionId",),
            hint="append /versions/X.Y.Z, or /versions/latest for the newest version",
        )
    else:
        ctx.report(
            C.AIB035,
            f"imageVersionId {value!r} is not a gallery image version resource id",
            SRC + ("imageVersionId",),
        )


def _gen2(ctx: RuleContext, source: dict[str, Any]) -> None:
    if ctx.api_version != "2020-02-14":
        return
    sku = source.get("sku")
    by_name = gen2_sku(source.get("offer"), sku)
    if ctx.model.generation == "V2" or by_name:
        what = f"sku {sku!r}" if by_name else "the source"
        ctx.report(
            C.AIB030,
            f"{what} is a Hyper-V generation 2 image; apiVersion 2020-02-14 only supported generation 1",
            SRC + ("sku",) if is_str(sku) else SRC,
        )
