"""vmProfile (V-01 vmSize, V-02 osDiskSizeGB, V-03 subnet ids) and buildTimeoutInMinutes (B-01, B-03)."""

from __future__ import annotations

import re

from .. import code_ids as C
from .context import RuleContext, as_dict, is_int, is_str
from .resourceids import SUBNET

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

VM: tuple[str, ...] = ("properties", "vmProfile")
# Standard_D2s_v3, Standard_E64-16ds_v4, Standard_NC24ads_A100_v4, Basic_A1, Standard_DS1_v2_Promo ...
_VM_SIZE = re.compile(
    r"^(?:Standard|Basic)_[A-Z]+[0-9]+(?:-[0-9]+)?[a-z]*(?:_[A-Z0-9]+[a-z0-9]*)*$", re.IGNORECASE
)
MAX_OS_DISK_GB = 4095
MIN_LINUX_DISK_GB = 30  # the smallest OS disk of current marketplace images
WINDOWS_DISK_GB = 127  # Windows marketplace images, except the *smalldisk* skus (30 GB)


def check(ctx: RuleContext) -> None:
    vm = as_dict(ctx.props.get("vmProfile"))
    _vm_size(ctx, vm.get("vmSize"), VM + ("vmSize",))
    vnet = as_dict(vm.get("vnetConfig"))
    _vm_size(ctx, vnet.get("proxyVmSize"), VM + ("vnetConfig", "proxyVmSize"))
    for key in ("subnetId", "containerInstanceSubnetId"):
        value = vnet.get(key)
        if is_str(value) and value and not ctx.opaque(value) and not SUBNET.match(value):
            ctx.report(
                C.AIB012,
                f"{key} {value!r} is not a full Microsoft.Network/virtualNetworks/.../subnets resource id",
                VM + ("vnetConfig", key),
            )
    _disk(ctx, vm.get("osDiskSizeGB"))
    _timeout(ctx, ctx.props.get("buildTimeoutInMinutes"))


def _vm_size(ctx: RuleContext, value: Any, path: tuple[str, ...]) -> None:
    if not is_str(value) or not value or ctx.opaque(value) or _VM_SIZE.match(value):
        return
    guess = None
    candidate = value.strip().replace(" ", "_")
    if not candidate.lower().startswith(("standard_", "basic_")):
        candidate = "Standard_" + candidate
    if _VM_SIZE.match(candidate):
        guess = candidate
    ctx.report(
        C.AIB010,
        f"{path[-1]} {value!r} does not look like an Azure VM size",
        path,
        hint=f"did you mean {guess!r}?" if guess else None,
    )


def _disk(ctx: RuleContext, value: Any) -> None:
    if not is_int(value) or value <= 0:
        return  # 0 = the source's size; a negative value is the schema's (minimum 0)
    path = VM + ("osDiskSizeGB",)
    if value > MAX_OS_DISK_GB:
        ctx.report(
            C.AIB011,
            f"osDiskSizeGB {value} is larger than Azure's largest OS disk ({MAX_OS_DISK_GB} GB)",
            path,
        )
        return
    source = as_dict(ctx.props.get("source"))
    sku = source.get("sku")
    small_disk = is_str(sku) and "smalldisk" in sku.lower()
    if (
        ctx.os_family == "windows"
        and source.get("type") == "PlatformImage"
        and not small_disk
        and value < WINDOWS_DISK_GB
    ):
        ctx.report(
            C.AIB011,
            f"osDiskSizeGB {value} is smaller than the {WINDOWS_DISK_GB} GB OS disk of Windows "
            "marketplace images; the disk can only grow",
            path,
            hint=f"use 0 (the image's size) or {WINDOWS_DISK_GB} or more, or a *smalldisk* sku",
        )
    elif value < MIN_LINUX_DISK_GB:
        ctx.report(
            C.AIB011,
            f"osDiskSizeGB {value} is smaller than any marketplace image's OS disk "
            f"({MIN_LINUX_DISK_GB} GB or more); the disk can only grow, never shrink",
            path,
        )


def _timeout(ctx: RuleContext, value: Any) -> None:
    if not is_int(value):
        return
    path = ("properties", "buildTimeoutInMinutes")
    if value == 0:
        ctx.report(C.AIB040, "buildTimeoutInMinutes 0 means the default, 240 minutes", path)
    elif 0 < value < 60 and ctx.os_family == "windows":
        ctx.report(C.AIB041, f"buildTimeoutInMinutes {value} is below 60 on a Windows image", path)
