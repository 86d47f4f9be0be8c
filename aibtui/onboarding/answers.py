"""What the onboarding asks, as data: the same for the TUI wizard and `aibtui init`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_IDENTITY = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/"
                    "Microsoft.ManagedIdentity/userAssignedIdentities/id-aib")
OUTPUT_KINDS = ("managedImage", "gallery", "vhd")


@dataclass
class Output:
    kind: str  # managedImage | gallery | vhd
    target: str = ""  # the image id, the gallery image definition id; "" for a VHD
    regions: list[str] = field(default_factory=list)  # gallery replication regions
    name: str = ""  # runOutputName ("" = derived by the compiler)


@dataclass
class Answers:
    name: str = "my-image"
    profile: str | None = "ubuntu-22.04-gen2"  # a built-in profile (sets source, os, generation)
    source: str | None = None  # a URN or a resource id when no profile is used
    os: str | None = "linux"
    generation: str | None = None
    location: str = "westus2"
    identity: str = DEFAULT_IDENTITY
    vm_size: str | None = None
    timeout: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)

    @property
    def file_name(self) -> str:
        return f"{self.name}.aib.yaml"


def default_outputs(answers: Answers) -> list[Output]:
    """A managed image in the identity's resource group: the output that needs nothing else created."""
    from .resource_ids import IDENTITY_RE

    m = IDENTITY_RE.match(answers.identity or "")
    sub = m.group("sub") if m else "00000000-0000-0000-0000-000000000000"
    rg = m.group("rg") if m else "rg-images"
    return [Output("managedImage", f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/images/"
                                   f"{answers.name}")]


def gallery_image_id(answers: Answers, gallery: str = "gal_images") -> str:
    from .resource_ids import IDENTITY_RE

    m = IDENTITY_RE.match(answers.identity or "")
    sub = m.group("sub") if m else "00000000-0000-0000-0000-000000000000"
    rg = m.group("rg") if m else "rg-images"
    return (f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{gallery}/images/"
            f"{answers.name}")
