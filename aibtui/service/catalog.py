"""The bundled marketplace catalog (catalog.json beside this file), shaped like the Compute API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class CatalogImage:
    publisher: str
    offer: str
    sku: str
    os_family: str  # Linux | Windows
    generation: str  # V1 | V2
    versions: tuple[str, ...]
    multi_session: bool = False


def load_catalog() -> list[CatalogImage]:
    data = json.loads(resources.files("aibtui.service").joinpath("catalog.json").read_text(encoding="utf-8"))
    return [CatalogImage(publisher=i["publisher"], offer=i["offer"], sku=i["sku"], os_family=i["osFamily"],
                         generation=i["hyperVGeneration"], versions=tuple(i["versions"]),
                         multi_session=bool(i.get("multiSession"))) for i in data["images"]]


def _eq(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for n in names:
        seen.setdefault(n.lower(), n)
    return sorted(seen.values(), key=str.lower)


class Catalog:
    """Answers the Compute API's vmimage listing endpoints from the bundled snapshot."""

    def __init__(self, images: list[CatalogImage] | None = None) -> None:
        self.images = load_catalog() if images is None else images

    def publishers(self) -> list[str]:
        return _unique([i.publisher for i in self.images])

    def offers(self, publisher: str) -> list[str] | None:
        found = [i.offer for i in self.images if _eq(i.publisher, publisher)]
        return _unique(found) if found else None

    def skus(self, publisher: str, offer: str) -> list[CatalogImage] | None:
        found = [i for i in self.images if _eq(i.publisher, publisher) and _eq(i.offer, offer)]
        return found or None

    def image(self, publisher: str, offer: str, sku: str) -> CatalogImage | None:
        for i in self.images:
            if _eq(i.publisher, publisher) and _eq(i.offer, offer) and _eq(i.sku, sku):
                return i
        return None
