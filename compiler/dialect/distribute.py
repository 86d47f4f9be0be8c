"""`distribute:`, the targets: `managedImage`, `gallery` (with `regions`) and `vhd`, each with
a unique `runOutputName` (DI-01 … DI-06)."""

from __future__ import annotations

import re

from .. import code_ids as C
from ..model import STABLE_API_VERSIONS, JsonPath, is_opaque
from ..nodes import Mapping, Node, Scalar, Sequence, to_plain, type_name
from . import Section
from .common import _TARGET_KEYS, TARGET_REGIONS_SINCE, LowererBase, _ordered
from .shaping import ShaperBase, _str_map, _strs, run_output_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

SECTION = Section(
    name="distribute", keys=("distribute",), official=("properties.distribute",), heading="Distribute",
    doc_terms=("managedImage", "gallery", "vhd", "regions", "replicas", "storage", "runOutputName",
               "targetRegions", "replicationRegions", "artifactTags", "excludeFromLatest", "versioning"),
    codes=(C.AIB401, C.AIB402, C.AIB408, C.AIB409), inverse="Shaper.distribute",
    examples=(
        ("distribute: [{managedImage: /subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images"
         "/out, location: eastus}]",
         [{"type": "ManagedImage", "imageId": "/subscriptions/s/resourceGroups/rg/providers"
           "/Microsoft.Compute/images/out", "location": "eastus",
           "runOutputName": "out"}]),
        ("distribute: [{gallery: /subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g"
         "/images/d, regions: [westus2, "
         "{name: eastus, replicas: 2}]}]",
         [{"type": "SharedImage", "galleryImageId": "/subscriptions/s/resourceGroups/rg/providers"
           "/Microsoft.Compute/galleries/g/images/d",
           "runOutputName": "d", "targetRegions": [{"name": "westus2"}, {"name": "eastus", "replicaCount": 2}]}]),
        ("distribute: [{vhd: true, name: disk}]", [{"type": "VHD", "runOutputName": "disk"}]),
    ),
)


class DistributeLowering(LowererBase):
    """Lowering of this section: dialect node -> official JSON, with spans."""

    def distribute(self, node: Node) -> list[Any]:
        path: JsonPath = ("properties", "distribute")
        if not isinstance(node, Sequence):
            self.d.add(C.AIB401, f"distribute must be a list of targets, not {type_name(node)}", node.span,
                       rule="DI-01")
            return []
        self.mark(path, node)
        out: list[Any] = []
        for item in node.items:
            target = self.target(item, path + (len(out),))
            if target is not None:
                out.append(target)
        return out

    def target(self, node: Node, path: JsonPath) -> dict[str, Any] | None:
        m = self.mapping(node, "a distribute target")
        if m is None:
            return None
        present = [k for k in _TARGET_KEYS if k in m.items]
        if "type" in m.items:
            if present:
                self.d.add(C.AIB409, f"a target names both type and `{present[0]}`", m.key_spans[present[0]])
                return None
            if "name" in m.items and "runOutputName" not in m.items:
                named: dict[str, Any] = self.verbatim(
                    path, Mapping(m.span, {k: v for k, v in m.items.items() if k != "name"},
                                  {k: v for k, v in m.key_spans.items() if k != "name"}))
                named["runOutputName"] = self.string(m.items["name"], "name") or ""
                self.mark(path + ("runOutputName",), m.items["name"], m.key_spans["name"])
                return named
            official: dict[str, Any] = self.verbatim(path, m)
            return official
        if len(present) != 1:
            self.d.add(C.AIB409, "a distribute target names exactly one of managedImage, gallery, vhd"
                       + (f" (this one names {', '.join(present)})" if present else ""),
                       m.span, rule="DI-01")
            return None
        kind = present[0]
        self.mark(path, m)
        common = ["name", "runOutputName", "artifactTags", kind]
        extra = {"managedImage": ["location"],
                 "gallery": ["regions", "storageAccountType", "excludeFromLatest", "versioning", "replicationMode",
                             "replicationRegions", "targetRegions"],
                 "vhd": []}[kind]
        self.unknown_keys(m, common + extra, f"a {kind} target")
        body = m.items[kind]
        out: dict[str, Any] = {}
        derived_name: str | None = None
        if kind == "managedImage":
            out["type"] = "ManagedImage"
            image_id = self.string(body, "managedImage")
            if image_id is not None:
                out["imageId"] = image_id
                self.mark(path + ("imageId",), body, m.key_spans[kind])
                derived_name = image_id.rstrip("/").rsplit("/", 1)[-1]
            if "location" in m.items:
                loc = self.string(m.items["location"], "location")
                if loc is not None:
                    out["location"] = loc
                    self.mark(path + ("location",), m.items["location"], m.key_spans["location"])
            elif self.c.location is not None:
                out["location"] = self.c.location
                self.mark(path + ("location",), body)
        elif kind == "gallery":
            out["type"] = "SharedImage"
            gid = self.string(body, "gallery")
            if gid is not None:
                out["galleryImageId"] = gid
                self.mark(path + ("galleryImageId",), body, m.key_spans[kind])
                parts = gid.rstrip("/").split("/")
                low = [p.lower() for p in parts]
                if "images" in low and low.index("images") + 1 < len(parts):
                    derived_name = parts[low.index("images") + 1]
            self.gallery_fields(m, path, out)
        else:
            out["type"] = "VHD"
            if isinstance(body, Mapping):
                self.unknown_keys(body, ("uri",), "vhd")
                if "uri" in body.items:
                    uri = self.string(body.items["uri"], "vhd.uri")
                    if uri is not None:
                        out["uri"] = uri
                        self.mark(path + ("uri",), body.items["uri"], body.key_spans["uri"])
            elif not (isinstance(body, Scalar) and (body.value is True or body.value is None)):
                self.d.add(C.AIB409, "vhd takes `true` or `{uri: ...}`", body.span, rule="DI-06")
            derived_name = "vhd"
        self.mark(path + ("type",), body, m.key_spans[kind])
        names = [k for k in ("runOutputName", "name") if k in m.items]
        if len(names) == 2:
            self.d.add(C.AIB408, "name and runOutputName are the same thing; keep one", m.key_spans["name"])
        if names:
            rn = self.string(m.items[names[0]], names[0])
            if rn is not None:
                out["runOutputName"] = rn
                self.mark(path + ("runOutputName",), m.items[names[0]], m.key_spans[names[0]])
        elif derived_name and not is_opaque(derived_name):
            out["runOutputName"] = re.sub(r"[^A-Za-z0-9\-_.]", "-", derived_name)[:64]
            self.mark(path + ("runOutputName",), body)
        if "artifactTags" in m.items:
            tags = self.tags(m.items["artifactTags"], path + ("artifactTags",), "artifactTags")
            if tags is not None:
                out["artifactTags"] = tags
                self.c.key_spans[path + ("artifactTags",)] = m.key_spans["artifactTags"]
        return out

    def gallery_fields(self, m: Mapping, path: JsonPath, out: dict[str, Any]) -> None:
        new_style = STABLE_API_VERSIONS.index(self.c.api_version) >= STABLE_API_VERSIONS.index(TARGET_REGIONS_SINCE)
        account_node = m.items.get("storageAccountType")
        if "regions" in m.items:
            for verbatim_key in ("replicationRegions", "targetRegions"):
                if verbatim_key in m.items:
                    self.d.add(C.AIB408, f"regions and {verbatim_key} both set the regions; keep one",
                               m.key_spans[verbatim_key])
            rnode = m.items["regions"]
            kspan = m.key_spans["regions"]
            if isinstance(rnode, Scalar) and isinstance(rnode.value, str):
                rnode = Sequence(rnode.span, [rnode])
            if not isinstance(rnode, Sequence):
                self.d.add(C.AIB401, f"regions must be a list, not {type_name(rnode)}", rnode.span, rule="DI-04")
            elif new_style:
                regions: list[Any] = []
                rpath = path + ("targetRegions",)
                self.mark(rpath, rnode, kspan)
                for item in rnode.items:
                    entry = self.region_entry(item, rpath + (len(regions),))
                    if entry is None:
                        continue
                    if account_node is not None and "storageAccountType" not in entry:
                        acct = self.string(account_node, "storageAccountType")
                        if acct is not None:
                            entry["storageAccountType"] = acct
                            self.mark(rpath + (len(regions), "storageAccountType"), account_node)
                    regions.append(entry)
                out["targetRegions"] = regions
                account_node = None  # folded into each region
            else:
                names: list[str] = []
                rpath = path + ("replicationRegions",)
                self.mark(rpath, rnode, kspan)
                for item in rnode.items:
                    if isinstance(item, Mapping):
                        extra = [k for k in item.items if k not in ("name",)]
                        if extra:
                            self.d.add(C.AIB409, f"per-region {', '.join(extra)} need apiVersion "
                                       f"{TARGET_REGIONS_SINCE} or later (this template uses {self.c.api_version})",
                                       item.key_spans[extra[0]], rule="DI-04",
                                       hint="set apiVersion: 2022-07-01 or later, or list region names only")
                        item = item.items.get("name", item)
                    s = self.string(item, "a region")
                    if s is not None:
                        self.mark(rpath + (len(names),), item)
                        names.append(s)
                out["replicationRegions"] = names
        for key in ("replicationRegions", "targetRegions"):
            if key in m.items:
                out[key] = self.verbatim(path + (key,), m.items[key], m.key_spans[key])
        if account_node is not None:
            acct = self.string(account_node, "storageAccountType")
            if acct is not None:
                out["storageAccountType"] = acct
                self.mark(path + ("storageAccountType",), account_node, m.key_spans["storageAccountType"])
        if "excludeFromLatest" in m.items:
            v = self.boolean(m.items["excludeFromLatest"], "excludeFromLatest")
            if v is not None:
                out["excludeFromLatest"] = v
                self.mark(path + ("excludeFromLatest",), m.items["excludeFromLatest"], m.key_spans["excludeFromLatest"])
        if "versioning" in m.items:
            vnode = m.items["versioning"]
            scheme = vnode.value.lower() if isinstance(vnode, Scalar) and isinstance(vnode.value, str) else None
            if scheme in ("latest", "source"):
                out["versioning"] = {"scheme": scheme.capitalize()}
                self.mark(path + ("versioning",), vnode, m.key_spans["versioning"])
                self.mark(path + ("versioning", "scheme"), vnode)
            else:
                out["versioning"] = self.verbatim(path + ("versioning",), vnode, m.key_spans["versioning"])
        if "replicationMode" in m.items:
            out["replicationMode"] = self.verbatim(path + ("replicationMode",), m.items["replicationMode"],
                                                   m.key_spans["replicationMode"])

    def region_entry(self, item: Node, path: JsonPath) -> dict[str, Any] | None:
        if isinstance(item, Scalar):
            s = self.string(item, "a region")
            if s is None:
                return None
            self.mark(path, item)
            self.mark(path + ("name",), item)
            return {"name": s}
        m = self.mapping(item, "a region")
        if m is None:
            return None
        names = {"name": "name", "replicas": "replicaCount", "replicaCount": "replicaCount",
                 "storage": "storageAccountType", "storageAccountType": "storageAccountType"}
        self.unknown_keys(m, list(names), "a region")
        self.mark(path, m)
        entry: dict[str, Any] = {}
        for key, vnode in m.items.items():
            official = names.get(key)
            if official is None:
                continue
            if official in entry:
                self.d.add(C.AIB408, f"{key} is given twice in a region", m.key_spans[key])
                continue
            entry[official] = (self.string(vnode, f"region {key}") if official != "replicaCount"
                               else to_plain(vnode))
            self.mark(path + (official,), vnode, m.key_spans[key])
        if "name" not in entry:
            self.d.add(C.AIB402, "a region needs a name", m.span, rule="DI-04")
            return None
        return _ordered(entry, ("name", "replicaCount", "storageAccountType"))


def schema() -> dict[str, Any]:
    """This section's fragment of the editor schema (`aibtui schema`, docs/dialect.md)."""
    from ..dialect_schema import (
        _MERGE_KEYS,
        _NAME_PATTERN,
        _RESOURCE_ID_PATTERN,
        _boolean,
        _enum,
        _integer,
        _obj,
        _string,
        _string_list,
        _string_map,
    )

    _REGION = {
        "anyOf": [
            {"type": "string", "description": "a region name"},
            _obj({
                "name": _string("the region"),
                "replicas": _integer("replica count in this region (→ replicaCount)", minimum=1),
                "storage": _enum("storage account type (→ storageAccountType)",
                                 "Standard_LRS", "Standard_ZRS", "Premium_LRS"),
                "replicaCount": _integer("official name of `replicas`", minimum=1),
                "storageAccountType": _enum("official name of `storage`",
                                            "Standard_LRS", "Standard_ZRS", "Premium_LRS"),
            }, required=["name"]),
        ],
    }
    _TARGET_COMMON = {
        "name": _string("the run output name (→ runOutputName, unique, DI-02)", _NAME_PATTERN),
        "runOutputName": _string("official name of `name`", _NAME_PATTERN),
        "artifactTags": _string_map("tags put on the image the target creates"),
        **_MERGE_KEYS,
    }
    _GALLERY_KEYS = {
        "regions": {"type": "array", "items": _REGION,
                    "description": "replication regions: names or {name, replicas, storage}; must include "
                                   "the gallery's region (DI-04)"},
        "replicationRegions": _string_list("official (before 2022-07-01): region names"),
        "targetRegions": {"type": "array", "items": _REGION, "description": "official (2022-07-01+)"},
        "storageAccountType": _enum("storage of the image version",
                                    "Standard_LRS", "Standard_ZRS", "Premium_LRS"),
        "excludeFromLatest": _boolean("keep this version from being `latest` (default false)"),
        "versioning": {"type": "object", "description": "official versioning: {scheme: Latest|Source, major}"},
        "replicationMode": _enum("Full or Shallow replication (2025-10-01+)", "Full", "Shallow"),
    }
    _TARGET = {
        "type": "object",
        "oneOf": [
            _obj({"managedImage": _string("the managed image id to create (DI-03)", _RESOURCE_ID_PATTERN),
                  "location": _string("the image's region (default: the template's)"),
                  **_TARGET_COMMON}, required=["managedImage"],
                 description="a ManagedImage target"),
            _obj({"gallery": _string("an image definition id, or a version id …/versions/X.Y.Z (DI-04)",
                                     _RESOURCE_ID_PATTERN),
                  **_GALLERY_KEYS, **_TARGET_COMMON}, required=["gallery"],
                 description="a SharedImage (Azure Compute Gallery) target"),
            _obj({"vhd": {"anyOf": [{"const": True}, _obj({"uri": _string("where to write the VHD")})],
                          "description": "true, or {uri} (2022-07-01+)"},
                  **_TARGET_COMMON}, required=["vhd"],
                 description="a VHD target (DI-06): copy the VHD away soon"),
            _obj({"type": {"type": "string", "enum": ["ManagedImage", "SharedImage", "VHD"]},
                  "imageId": _string("ManagedImage: the image id"),
                  "location": _string("ManagedImage: the image's region"),
                  "galleryImageId": _string("SharedImage: the image definition or version id"),
                  "uri": _string("VHD: where to write it"),
                  **_GALLERY_KEYS, **_TARGET_COMMON}, required=["type"],
                 description="the official form, verbatim"),
            _obj({"name": _string("the inherited target to remove"),
                  "runOutputName": _string("the inherited target to remove"),
                  "remove": {"const": True}}, required=["remove"],
                 description="{name: NAME, remove: true} removes an inherited target"),
        ],
        "description": "a distribution target: managedImage, gallery or vhd (or the official form)",
    }
    _DISTRIBUTE = {"type": "array", "items": _TARGET,
                   "description": "distribution targets (DI-01); merged by name/runOutputName"}
    return _DISTRIBUTE


class DistributeShaping(ShaperBase):
    """The import inverse: official JSON -> this section's short form (exact, or left official)."""

    def distribute(self, targets: Any) -> Any:
        if not isinstance(targets, list):
            return targets
        return [self.target(t) for t in targets]

    def target(self, t: Any) -> Any:
        if not isinstance(t, dict):
            return t
        ttype = t.get("type")
        if "runOutputName" in t and not isinstance(t["runOutputName"], str):
            return t
        tags = t.get("artifactTags")
        if tags is not None and not _str_map(tags):
            return t
        if ttype == "ManagedImage":
            return self.managed_target(t)
        if ttype == "SharedImage":
            return self.gallery_target(t)
        if ttype == "VHD":
            if not set(t) <= {"type", "runOutputName", "uri", "artifactTags"}:
                return t
            if "uri" in t and not isinstance(t["uri"], str):
                return t
            out: dict[str, Any] = {"vhd": {"uri": t["uri"]} if "uri" in t else True}
            return self.finish_target(t, out, "vhd")
        return t

    def managed_target(self, t: dict[str, Any]) -> Any:
        if not set(t) <= {"type", "imageId", "location", "runOutputName", "artifactTags"} \
                or not isinstance(t.get("imageId"), str):
            return t
        out: dict[str, Any] = {"managedImage": t["imageId"]}
        if "location" in t:
            if not isinstance(t["location"], str):
                return t
            if t["location"] != self.location:
                out["location"] = t["location"]
        elif self.location is not None:
            return t  # lowering would add the template's location
        derived = t["imageId"].rstrip("/").rsplit("/", 1)[-1]
        return self.finish_target(t, out, derived)

    def gallery_target(self, t: dict[str, Any]) -> Any:
        allowed = {"type", "galleryImageId", "runOutputName", "replicationRegions", "targetRegions",
                   "storageAccountType", "excludeFromLatest", "versioning", "replicationMode", "artifactTags"}
        if not set(t) <= allowed or not isinstance(t.get("galleryImageId"), str):
            return t
        gid = t["galleryImageId"]
        out: dict[str, Any] = {"gallery": gid}
        new_style = STABLE_API_VERSIONS.index(self.api) >= STABLE_API_VERSIONS.index(TARGET_REGIONS_SINCE)
        regions = self.regions(t, new_style)
        if regions is not None:
            out["regions"] = regions
        else:
            for key in ("replicationRegions", "targetRegions"):
                if key in t:
                    out[key] = t[key]
        if "storageAccountType" in t:
            if not isinstance(t["storageAccountType"], str):
                return t
            out["storageAccountType"] = t["storageAccountType"]
        if "excludeFromLatest" in t:
            if not isinstance(t["excludeFromLatest"], bool):
                return t
            out["excludeFromLatest"] = t["excludeFromLatest"]
        if "versioning" in t:
            v = t["versioning"]
            if isinstance(v, dict) and set(v) == {"scheme"} and v["scheme"] in ("Latest", "Source"):
                out["versioning"] = v["scheme"].lower()
            elif isinstance(v, str) and v.lower() in ("latest", "source"):
                return t  # lowering would turn the string into {scheme: ...}
            else:
                out["versioning"] = v
        if "replicationMode" in t:
            out["replicationMode"] = t["replicationMode"]
        derived = None
        if gid:
            parts = gid.rstrip("/").split("/")
            low = [p.lower() for p in parts]
            if "images" in low and low.index("images") + 1 < len(parts):
                derived = parts[low.index("images") + 1]
        return self.finish_target(t, out, derived)

    def regions(self, t: dict[str, Any], new_style: bool) -> Any:
        from ..yamlwriter import Flow  # the writer: off the compile path

        if new_style:
            tr = t.get("targetRegions")
            if "replicationRegions" in t or "storageAccountType" in t or not isinstance(tr, list) or not tr:
                return None
            out: list[Any] = []
            for r in tr:
                if not isinstance(r, dict) or not isinstance(r.get("name"), str) \
                        or not set(r) <= {"name", "replicaCount", "storageAccountType"}:
                    return None
                if "storageAccountType" in r and not isinstance(r["storageAccountType"], str):
                    return None
                if set(r) == {"name"}:
                    out.append(r["name"])
                else:
                    entry = {"name": r["name"]}
                    if "replicaCount" in r:
                        entry["replicas"] = r["replicaCount"]
                    if "storageAccountType" in r:
                        entry["storage"] = r["storageAccountType"]
                    out.append(entry)
            return Flow(tuple(out)) if all(isinstance(x, str) for x in out) else out
        rr = t.get("replicationRegions")
        if "targetRegions" in t or not _strs(rr) or not rr:
            return None
        return Flow(tuple(rr))

    def finish_target(self, t: dict[str, Any], out: dict[str, Any], derived: str | None) -> Any:
        rn = t.get("runOutputName")
        if rn is None:
            if derived is not None and not is_opaque(derived):
                return t  # lowering would derive a runOutputName the original does not have
        elif derived is None or is_opaque(derived) or is_opaque(rn) or rn != run_output_name(derived):
            out = {**out, "runOutputName": rn}
        if "artifactTags" in t:
            out["artifactTags"] = t["artifactTags"]
        return out
