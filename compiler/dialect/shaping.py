"""What the import inverse of every section shares: the JSON-shape tests that say when a short
form gives back exactly the official JSON, small helpers, and :class:`ShaperBase`."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..diagnostics import DiagnosticBag
from ..model import TemplateModel, is_opaque
from ..records import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

_URN_PART = re.compile(r"^[^\s:]+$")
_KIND_KEY = {"Shell": "shell", "PowerShell": "powershell", "File": "file", "WindowsRestart": "windowsRestart",
             "WindowsUpdate": "windowsUpdate"}
_PS_OPTS = ("runElevated", "runAsSystem", "validExitCodes")
TARGET_REGIONS_SINCE = "2022-07-01"


@dataclass(frozen=True, slots=True)
class Urn:
    """A marketplace URN whose parts become variables one by one (``{{ publisher }}:...``)."""

    parts: tuple[str, ...]


def _literal(value: Any) -> bool:
    """A string that is neither an ARM expression nor holds a placeholder."""
    return isinstance(value, str) and not is_opaque(value)


def _strs(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def _source_ok(src: Any) -> bool:
    """A source lowering copies as written (a string would be parsed as a URN or an id)."""
    if not isinstance(src, dict) or "plan" in src:
        return False
    if "type" not in src:
        return "publisher" not in src and not any(k in src for k in ("urn", "managedImage", "imageVersion"))
    return True


def _step_ok(step: Any) -> bool:
    return isinstance(step, dict) and isinstance(step.get("type"), str) \
        and not any(k in step for k in _KIND_KEY.values())


def _steps_ok(steps: Any) -> bool:
    return isinstance(steps, list) and all(_step_ok(s) for s in steps)


def _validate_ok(val: Any) -> bool:
    if not isinstance(val, dict) or not set(val) <= {"inVMValidations", "continueDistributeOnFailure",
                                                     "sourceValidationOnly"}:
        return False
    if any(k in val and not isinstance(val[k], bool) for k in ("continueDistributeOnFailure",
                                                                "sourceValidationOnly")):
        return False
    return "inVMValidations" not in val or _steps_ok(val["inVMValidations"])


def _targets_ok(targets: Any) -> bool:
    return isinstance(targets, list) and all(
        isinstance(t, dict) and isinstance(t.get("type"), str) and "name" not in t
        and not any(k in t for k in ("managedImage", "gallery", "vhd")) for t in targets)


def _optimize_ok(opt: Any) -> bool:
    return isinstance(opt, dict) and not isinstance(opt.get("vmBoot"), bool)


def _in_order(d: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    out = {k: d[k] for k in order if k in d}
    out.update((k, v) for k, v in d.items() if k not in out)
    return out


def duration(minutes: int) -> str | int:
    if minutes <= 0:
        return minutes
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def run_output_name(derived: str) -> str:
    return re.sub(r"[^A-Za-z0-9\-_.]", "-", derived)[:64]


class ShaperBase:
    """The state each section's import inverse reads (set by ``import_shape.Shaper``)."""

    api: str
    urn_value: Callable[[str], str | None]
    model: TemplateModel
    diags: DiagnosticBag
    location: str | None
