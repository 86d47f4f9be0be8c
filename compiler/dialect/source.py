"""The image to start from: a marketplace URN, a managed image or gallery image version id, a
URN with a purchase plan, or the official mapping (SRC-01 … SRC-05)."""

from __future__ import annotations

from .. import code_ids as C
from ..model import JsonPath, is_expression, is_opaque
from ..nodes import Node, Scalar
from . import Section
from .common import _URN_PART, LowererBase
from .shaping import ShaperBase, Urn, _in_order, _literal, _str_map

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

SECTION = Section(
    name="source", keys=("source",), official=("properties.source",), heading="Source",
    doc_terms=("publisher:offer:sku:version", "ManagedImage", "SharedImageVersion", "planInfo", "urn", "plan",
               "managedImage", "imageVersion"),
    codes=(C.AIB400, C.AIB403, C.AIB408), inverse="Shaper.source",
    examples=(
        ("source: Canonical:ubuntu-24_04-lts:server:latest",
         {"type": "PlatformImage", "publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server",
          "version": "latest"}),
        ("source: /subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/base",
         {"type": "ManagedImage", "imageId": "/subscriptions/s/resourceGroups/rg/providers"
          "/Microsoft.Compute/images/base"}),
        ("source: /subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0",
         {"type": "SharedImageVersion",
          "imageVersionId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g"
          "/images/d/versions/1.0.0"}),
        ("source: {urn: 'P:O:S:1.2.3', plan: {name: n, product: p, publisher: q}}",
         {"type": "PlatformImage", "publisher": "P", "offer": "O", "sku": "S", "version": "1.2.3",
          "planInfo": {"planName": "n", "planProduct": "p", "planPublisher": "q"}}),
    ),
)


class SourceLowering(LowererBase):
    """Lowering of this section: dialect node -> official JSON, with spans."""

    def source(self, node: Node) -> dict[str, Any] | None:
        path: JsonPath = ("properties", "source")
        if isinstance(node, Scalar):
            text = self.string(node, "source")
            if text is None:
                return None
            out = self.source_from_string(text, node)
            if out is not None:
                self.mark(path, node)
                for k in out:
                    self.mark(path + (k,), node)
            return out
        m = self.mapping(node, "source")
        if m is None:
            return None
        if "type" in m.items or not any(k in m.items for k in ("urn", "managedImage", "imageVersion")):
            out = self.verbatim(path, m)
            if "type" not in out and "publisher" in out:
                out = {"type": "PlatformImage", **out}
                self.mark(path + ("type",), m)
            if "plan" in out:
                self.d.add(C.AIB400, "unknown key 'plan' in an official source", m.key_spans["plan"],
                           hint="use `planInfo: {planName, planProduct, planPublisher}`, or `urn:` with `plan:`")
            return out
        self.unknown_keys(m, ("urn", "plan", "managedImage", "imageVersion"), "source")
        kinds = [k for k in ("urn", "managedImage", "imageVersion") if k in m.items]
        if len(kinds) > 1:
            self.d.add(C.AIB408, f"source has both {kinds[0]} and {kinds[1]}", m.span, hint="keep one of them")
            return None
        kind = kinds[0]
        text = self.string(m.items[kind], f"source.{kind}")
        if text is None:
            return None
        self.mark(path, m)
        if kind == "urn":
            out = self.urn(text, m.items[kind])
        elif kind == "managedImage":
            out = {"type": "ManagedImage", "imageId": text}
        else:
            out = {"type": "SharedImageVersion", "imageVersionId": text}
        if out is None:
            return None
        for k in out:
            self.mark(path + (k,), m.items[kind])
        if "plan" in m.items:
            if kind != "urn":
                self.d.add(C.AIB408, "plan goes with a marketplace (urn) source", m.key_spans["plan"], rule="SRC-03")
            else:
                pm = self.mapping(m.items["plan"], "source.plan")
                if pm is not None:
                    self.unknown_keys(pm, ("name", "product", "publisher"), "source.plan")
                    plan: dict[str, Any] = {}
                    for short, official in (("name", "planName"), ("product", "planProduct"),
                                            ("publisher", "planPublisher")):
                        if short in pm.items:
                            s = self.string(pm.items[short], f"source.plan.{short}")
                            if s is not None:
                                plan[official] = s
                                self.mark(path + ("planInfo", official), pm.items[short], pm.key_spans[short])
                    out["planInfo"] = plan
                    self.mark(path + ("planInfo",), pm, m.key_spans["plan"])
        return out

    def source_from_string(self, text: str, node: Node) -> dict[str, Any] | None:
        low = text.lower()
        if low.startswith("/subscriptions/"):
            if "/providers/microsoft.compute/galleries/" in low:
                if "/versions/" not in low:
                    self.d.add(C.AIB403, "a gallery source names an image version: .../images/IMAGE/versions/VERSION",
                               node.span, rule="SRC-05", hint="append /versions/latest to use the newest version")
                    return None
                return {"type": "SharedImageVersion", "imageVersionId": text}
            if "/providers/microsoft.compute/images/" in low:
                return {"type": "ManagedImage", "imageId": text}
            self.d.add(C.AIB403, "this resource id is neither a managed image nor a gallery image version",
                       node.span, rule="SRC-04",
                       hint="managed image: .../providers/Microsoft.Compute/images/NAME; gallery: "
                            ".../galleries/G/images/I/versions/V")
            return None
        if is_opaque(text):
            self.d.add(C.AIB403, f"source `{text}` is an expression or placeholder; give a URN or an image id",
                       node.span)
            return None
        return self.urn(text, node)

    def urn(self, text: str, node: Node) -> dict[str, Any] | None:
        parts = text.split(":")
        if len(parts) == 3:
            parts.append("latest")
        if len(parts) != 4 or not all(_URN_PART.match(p) for p in parts):
            self.d.add(C.AIB403, f"`{text}` is not a marketplace URN publisher:offer:sku[:version]", node.span,
                       rule="SRC-02", hint="e.g. Canonical:ubuntu-24_04-lts:server:latest, or an image resource id")
            return None
        return {"type": "PlatformImage", "publisher": parts[0], "offer": parts[1], "sku": parts[2],
                "version": parts[3]}


def schema() -> dict[str, Any]:
    """This section's fragment of the editor schema (`aibtui schema`, docs/dialect.md)."""
    from ..dialect_schema import _RESOURCE_ID_PATTERN, _URN_EXAMPLES, _URN_PATTERN, _obj, _string

    _PLAN = _obj({
        "name": _string("planName"), "product": _string("planProduct"), "publisher": _string("planPublisher"),
        "planName": _string("official name of `name`"),
        "planProduct": _string("official name of `product`"),
        "planPublisher": _string("official name of `publisher`"),
    }, description="a marketplace purchase plan (SRC-03: all three of name, product, publisher)")
    _SOURCE = {
        "examples": _URN_EXAMPLES,
        "anyOf": [
            _string("a marketplace URN publisher:offer:sku[:version] (version defaults to latest, "
                    "resolved at build time, SRC-02)", _URN_PATTERN),
            _string("a managed image id (…/providers/Microsoft.Compute/images/NAME, SRC-04) or a gallery "
                    "image version id (…/galleries/G/images/I/versions/V, SRC-05)", _RESOURCE_ID_PATTERN),
            _obj({"urn": _string("a marketplace URN", _URN_PATTERN), "plan": _PLAN}, required=["urn"],
                 description="a marketplace image with a purchase plan"),
            _obj({"managedImage": _string("a managed image id", _RESOURCE_ID_PATTERN)},
                 required=["managedImage"]),
            _obj({"imageVersion": _string("a gallery image version id", _RESOURCE_ID_PATTERN)},
                 required=["imageVersion"]),
            _obj({
                "type": {"type": "string", "enum": ["PlatformImage", "ManagedImage", "SharedImageVersion"]},
                "publisher": _string("image publisher"), "offer": _string("image offer"),
                "sku": _string("image SKU"), "version": _string("image version or `latest`"),
                "planInfo": _PLAN,
                "imageId": _string("managed image id"),
                "imageVersionId": _string("gallery image version id"),
            }, description="the official form, verbatim"),
        ],
        "description": "the image to start from: a URN, an image id, or a mapping",
    }
    return _SOURCE


class SourceShaping(ShaperBase):
    """The import inverse: official JSON -> this section's short form (exact, or left official)."""

    def source(self, src: Any) -> Any:
        if not isinstance(src, dict):
            return src
        stype = src.get("type")
        keys = set(src) - {"type"}
        core = {"publisher", "offer", "sku", "version"}
        if stype == "PlatformImage" and core <= keys <= core | {"planInfo"} \
                and self._urn_ok([src[k] for k in ("publisher", "offer", "sku", "version")]):
            urn: Any = ":".join(src[k] for k in ("publisher", "offer", "sku", "version"))
            if not all(_literal(src[k]) for k in core):
                urn = Urn(tuple(src[k] for k in ("publisher", "offer", "sku", "version")))
            if "planInfo" not in src:
                return urn
            plan = src["planInfo"]
            names = {"planName": "name", "planProduct": "product", "planPublisher": "publisher"}
            if _str_map(plan) and set(plan) <= set(names):
                return {"urn": urn, "plan": {names[k]: v for k, v in plan.items()}}
            return _in_order(src, ("type", "publisher", "offer", "sku", "version", "planInfo"))
        if stype == "ManagedImage" and keys == {"imageId"} and isinstance(src["imageId"], str):
            image = src["imageId"]
            low = image.lower()
            if low.startswith("/subscriptions/") and "/providers/microsoft.compute/images/" in low \
                    and "/providers/microsoft.compute/galleries/" not in low:
                return image
            return {"managedImage": image}
        if stype == "SharedImageVersion" and keys == {"imageVersionId"} and isinstance(src["imageVersionId"], str):
            version = src["imageVersionId"]
            low = version.lower()
            if low.startswith("/subscriptions/") and "/providers/microsoft.compute/galleries/" in low \
                    and "/versions/" in low:
                return version
            return {"imageVersion": version}
        return src

    def _urn_ok(self, parts: list[Any]) -> bool:
        """Whether the parts, as they render, make a URN lowering reads back into the same parts."""
        rendered = []
        for part in parts:
            if not isinstance(part, str) or not _URN_PART.match(part):
                return False
            if _literal(part):
                rendered.append(part)
            elif is_expression(part):
                value = self.urn_value(part)
                if value is not None and not _URN_PART.match(value):
                    return False
                rendered.append(part if value is None else value)
            else:
                return False
        return not is_opaque(":".join(rendered))
