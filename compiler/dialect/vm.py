"""`build:`, the build VM's settings and the timeout: `vmProfile` and `buildTimeoutInMinutes`
(V-01 … V-03, B-01, B-02)."""

from __future__ import annotations

from .. import code_ids as C
from ..model import JsonPath, is_opaque
from ..nodes import Node, Scalar, type_name
from . import Section
from .common import _DURATION, LowererBase, _ordered, is_opaque_node
from .shaping import ShaperBase, _str_map, _strs, duration

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

SECTION = Section(
    name="vm", keys=("build",), official=("properties.vmProfile", "properties.buildTimeoutInMinutes"),
    heading="Build",
    doc_terms=("vmSize", "osDiskSizeGB", "timeout", "subnet", "proxyVmSize", "containerInstanceSubnet",
               "identities", "vnetConfig", "userAssignedIdentities"),
    codes=(C.AIB401, C.AIB405, C.AIB408), inverse="Shaper.build",
    examples=(
        ("build: {vmSize: Standard_D4s_v5, osDiskSizeGB: 64}", {"vmSize": "Standard_D4s_v5", "osDiskSizeGB": 64}),
        ("build: {subnet: /subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
         "/subnets/s, proxyVmSize: Standard_A1_v2}",
         {"vnetConfig": {"subnetId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network"
          "/virtualNetworks/v/subnets/s",
                         "proxyVmSize": "Standard_A1_v2"}}),
    ),
)


class BuildLowering(LowererBase):
    """Lowering of this section: dialect node -> official JSON, with spans."""

    def build(self, node: Node, vm: dict[str, Any], props: dict[str, Any]) -> bool:
        m = self.mapping(node, "build")
        if m is None:
            return False
        allowed = ("vmSize", "osDiskSizeGB", "timeout", "subnet", "proxyVmSize", "containerInstanceSubnet",
                   "identities", "vnetConfig", "userAssignedIdentities")
        self.unknown_keys(m, allowed, "build")
        base = ("properties", "vmProfile")
        self.c.spans.setdefault(base, m.span)
        timeout_set = False

        def setleaf(key: str, path: JsonPath, value: Any, vnode: Node) -> None:
            target = vm
            for part in path[:-1]:
                target = target.setdefault(str(part), {})
                if not isinstance(target, dict):
                    return
            if str(path[-1]) in target:
                self.d.add(C.AIB408, f"build.{key} and vmProfile.{'.'.join(map(str, path))} both set "
                           f"{path[-1]}", vnode.span, hint="keep one of them")
                return
            target[str(path[-1])] = value
            self.mark(base + path, vnode, m.key_spans.get(key))

        for key, vnode in m.items.items():
            if key == "timeout":
                minutes = self.duration_minutes(vnode)
                if minutes is not None:
                    props["buildTimeoutInMinutes"] = minutes
                    self.mark(("properties", "buildTimeoutInMinutes"), vnode, m.key_spans.get(key))
                    timeout_set = True
            elif key == "vmSize":
                s = self.string(vnode, "build.vmSize")
                if s is not None:
                    setleaf(key, ("vmSize",), s, vnode)
            elif key == "osDiskSizeGB":
                if isinstance(vnode, Scalar) and isinstance(vnode.value, int) and not isinstance(vnode.value, bool):
                    setleaf(key, ("osDiskSizeGB",), vnode.value, vnode)
                elif is_opaque_node(vnode):
                    setleaf(key, ("osDiskSizeGB",), vnode.value, vnode)
                else:
                    self.d.add(C.AIB401, f"build.osDiskSizeGB must be a whole number of GB, not {type_name(vnode)}",
                               vnode.span, rule="V-02")
            elif key == "subnet":
                s = self.string(vnode, "build.subnet")
                if s is not None:
                    setleaf(key, ("vnetConfig", "subnetId"), s, vnode)
            elif key == "proxyVmSize":
                s = self.string(vnode, "build.proxyVmSize")
                if s is not None:
                    setleaf(key, ("vnetConfig", "proxyVmSize"), s, vnode)
            elif key == "containerInstanceSubnet":
                s = self.string(vnode, "build.containerInstanceSubnet")
                if s is not None:
                    setleaf(key, ("vnetConfig", "containerInstanceSubnetId"), s, vnode)
            elif key in ("identities", "userAssignedIdentities"):
                ids = self.string_list(vnode, base + ("userAssignedIdentities",), f"build.{key}")
                setleaf(key, ("userAssignedIdentities",), ids, vnode)
            elif key == "vnetConfig":
                vc = self.verbatim(base + ("vnetConfig",), vnode, m.key_spans.get(key))
                if isinstance(vc, dict) and isinstance(vm.get("vnetConfig"), dict):
                    for k2, v2 in vc.items():
                        if k2 in vm["vnetConfig"]:
                            self.d.add(C.AIB408, f"build.vnetConfig.{k2} is set twice", vnode.span)
                        else:
                            vm["vnetConfig"][k2] = v2
                else:
                    setleaf(key, ("vnetConfig",), vc, vnode)
        if "vnetConfig" in vm and isinstance(vm["vnetConfig"], dict):
            vm["vnetConfig"] = _ordered(vm["vnetConfig"], ("subnetId", "containerInstanceSubnetId", "proxyVmSize"))
        ordered = _ordered(vm, ("vmSize", "osDiskSizeGB", "userAssignedIdentities", "vnetConfig"))
        vm.clear()
        vm.update(ordered)
        return timeout_set

    def duration_minutes(self, node: Node) -> int | None:
        if isinstance(node, Scalar):
            v = node.value
            if isinstance(v, int) and not isinstance(v, bool):
                return v
            if isinstance(v, str):
                if is_opaque(v):
                    return v  # type: ignore[return-value]
                text = v.strip()
                if text.isdigit():
                    return int(text)
                mt = _DURATION.match(text)
                if mt and (mt.group(1) or mt.group(2)):
                    return int(mt.group(1) or 0) * 60 + int(mt.group(2) or 0)
        self.d.add(C.AIB405, f"build.timeout `{getattr(node, 'raw', '') or type_name(node)}` is not a duration",
                   node.span, rule="B-01")
        return None


def schema() -> dict[str, Any]:
    """This section's fragment of the editor schema (`aibtui schema`, docs/dialect.md)."""
    from ..dialect_schema import (
        _DURATION_PATTERN,
        _RESOURCE_ID_PATTERN,
        _integer,
        _obj,
        _or_template,
        _string,
        _string_list,
    )

    _BUILD = _obj({
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
    return _BUILD


class BuildShaping(ShaperBase):
    """The import inverse: official JSON -> this section's short form (exact, or left official)."""

    def build(self, vm: Any, timeout: Any, has_vm: bool, has_timeout: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        build: dict[str, Any] = {}
        verbatim: dict[str, Any] = {}
        timeout_ok = not has_timeout or (isinstance(timeout, int) and not isinstance(timeout, bool)) \
            or (isinstance(timeout, str) and is_opaque(timeout))
        if not timeout_ok:
            if has_vm:
                verbatim["vmProfile"] = vm
            verbatim["buildTimeoutInMinutes"] = timeout
            return build, verbatim
        if has_vm:
            short = self.vm_profile(vm)
            if short is None:
                verbatim["vmProfile"] = vm
            else:
                build.update(short)
        if has_timeout:
            if isinstance(timeout, int) and not isinstance(timeout, bool):
                build["timeout"] = duration(timeout)
            elif isinstance(timeout, str) and is_opaque(timeout):
                build["timeout"] = timeout
            else:
                verbatim["buildTimeoutInMinutes"] = timeout
        return build, verbatim

    def vm_profile(self, vm: Any) -> dict[str, Any] | None:
        if not isinstance(vm, dict) or not vm:
            return None
        out: dict[str, Any] = {}
        for key, value in vm.items():
            if key == "vmSize" and isinstance(value, str):
                out["vmSize"] = value
            elif key == "osDiskSizeGB" and ((isinstance(value, int) and not isinstance(value, bool))
                                            or (isinstance(value, str) and is_opaque(value))):
                out["osDiskSizeGB"] = value
            elif key == "userAssignedIdentities" and _strs(value):
                out["identities"] = value
            elif key == "vnetConfig" and isinstance(value, dict) and value:
                names = {"subnetId": "subnet", "proxyVmSize": "proxyVmSize",
                         "containerInstanceSubnetId": "containerInstanceSubnet"}
                if set(value) <= set(names) and _str_map(value):
                    out.update({names[k]: v for k, v in value.items()})
                else:
                    out["vnetConfig"] = value
            else:
                return None
        return out
