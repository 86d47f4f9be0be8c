"""Step recipes: the kinds of customization step the onboarding and the arranger offer.

A recipe has a one-line explanation, the OS families it fits, and fields (with a default and a form
check); ``make_step`` turns the field values into a dialect step (``{name, shell: ...}`` and so on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RecipeField:
    key: str
    label: str
    default: str = ""
    multiline: bool = False
    required: bool = True
    help: str = ""


@dataclass(frozen=True)
class Recipe:
    key: str
    title: str
    explain: str
    os: tuple[str, ...]  # "linux", "windows"
    fields: tuple[RecipeField, ...] = field(default_factory=tuple)
    default_name: str = "step"

    def fits(self, os_family: str | None) -> bool:
        return os_family is None or os_family in self.os

    def defaults(self, os_family: str | None) -> dict[str, str]:
        out = {f.key: f.default for f in self.fields}
        if self.key == "commands" and os_family == "windows":
            out["commands"] = WINDOWS_COMMANDS
        if self.key == "script" and os_family == "windows":
            out["script"] = "scripts/setup.ps1"
        if self.key == "file" and os_family == "windows":
            out["to"] = r"C:\buildArtifacts\app.conf"
        return out


def _lines(text: str) -> list[str]:
    return [ln.rstrip() for ln in text.strip("\n").splitlines() if ln.strip()]


LINUX_COMMANDS = "sudo apt-get update\nsudo apt-get install -y curl"
WINDOWS_COMMANDS = "New-Item -ItemType Directory -Force -Path C:\\buildArtifacts"

RECIPES: tuple[Recipe, ...] = (
    Recipe("commands", "Run commands",
           "Commands run one per line on the build VM (bash on Linux, PowerShell on Windows); "
           "they land in the template as `inline`.",
           ("linux", "windows"), (RecipeField("commands", "Commands (one per line)", LINUX_COMMANDS, multiline=True),),
           "install"),
    Recipe("script", "Run a local script",
           "A script beside your file: its lines are inlined into the template at compile time, so "
           "nothing has to be uploaded first.",
           ("linux", "windows"), (RecipeField("script", "Script path (relative to the file)", "scripts/setup.sh"),),
           "setup"),
    Recipe("file", "Copy a file",
           "Downloads a file from a URL onto the build VM. On Linux the destination must be under /tmp "
           "(move it later with a command). Pin what is downloaded: its SHA-256, or a local copy of it "
           "(the checksum is computed from the copy at compile time; AIB600).",
           ("linux", "windows"), (RecipeField("from", "From (https URL)", "https://example.com/app.conf"),
                                  RecipeField("to", "To (path on the VM)", "/tmp/app.conf"),
                                  RecipeField("sha256", "SHA-256 of the file (sha256Checksum)", "", required=False,
                                              help="`sha256sum FILE`; or leave empty and name a local copy"),
                                  RecipeField("local", "Local copy (its SHA-256 is used)", "files/app.conf",
                                              required=False, help="a path relative to the file, in the project")),
           "copy-file"),
    Recipe("windowsRestart", "Restart",
           "Restarts the build VM and waits for it to come back (Windows).",
           ("windows",), (RecipeField("timeout", "Timeout (e.g. 10m)", "10m", required=False),), "restart"),
    Recipe("windowsUpdate", "Windows updates",
           "Installs pending Windows updates (preview updates excluded). Put a restart before it: a "
           "pending restart makes it fail.",
           ("windows",), (), "windows-update"),
)

RECIPE_BY_KEY = {r.key: r for r in RECIPES}


def recipes_for(os_family: str | None) -> list[Recipe]:
    return [r for r in RECIPES if r.fits(os_family)]


def _shell_key(os_family: str | None) -> str:
    return "powershell" if os_family == "windows" else "shell"


def check_field(recipe: Recipe, key: str, value: str, os_family: str | None) -> str | None:
    """None when the value is acceptable, else what is wrong (per-field validation as you type)."""
    spec = next((f for f in recipe.fields if f.key == key), None)
    if spec is None:
        return None
    value = value.strip()
    if not value:
        return f"{spec.label.split(' (')[0]} is required" if spec.required else None
    if key == "from" and not value.lower().startswith(("https://", "http://")):
        return "a URL starting with https:// (the build VM downloads it)"
    if key == "to" and os_family != "windows" and not value.startswith("/tmp/"):
        return "on Linux a File step can only write under /tmp (F-03)"
    if key in ("script", "local") and (value.startswith("/") or ".." in value.split("/")):
        return "a path relative to the file, inside the project"
    if key == "sha256" and not (len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)):
        return "64 hexadecimal digits (the output of `sha256sum FILE`)"
    if key == "timeout" and not _is_duration(value):
        return "a duration such as 5m, 1h or 1h30m"
    return None


def _is_duration(value: str) -> bool:
    import re

    return bool(re.fullmatch(r"(?:\d+h)?(?:\d+m)?(?:\d+s)?", value)) and any(c.isdigit() for c in value)


def check_step_name(value: str, taken: set[str]) -> str | None:
    import re

    value = value.strip()
    if not value:
        return "every step needs a name"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
        return "letters, digits, '-', '_' and '.'"
    if value in taken:
        return f"a step named '{value}' exists already (names are unique, C-01)"
    return None


def make_step(recipe: Recipe, name: str, values: dict[str, str], os_family: str | None) -> dict[str, Any]:
    """A dialect step mapping (the shape written into ``customize:``)."""
    step: dict[str, Any] = {"name": name}
    if recipe.key == "commands":
        lines = _lines(values.get("commands", ""))
        step[_shell_key(os_family)] = "\n".join(lines) + "\n" if len(lines) > 1 else (lines[0] if lines else "")
    elif recipe.key == "script":
        step[_shell_key(os_family)] = {"script": values.get("script", "").strip()}
    elif recipe.key == "file":
        body = {"from": values.get("from", "").strip(), "to": values.get("to", "").strip()}
        for key in ("sha256", "local"):
            if values.get(key, "").strip():
                body[key] = values[key].strip()
        step["file"] = body
    elif recipe.key == "windowsUpdate":
        step["windowsUpdate"] = {"searchCriteria": "IsInstalled=0",
                                 "filters": ["exclude:$_.Title -like '*Preview*'", "include:$true"],
                                 "updateLimit": 40}
    elif recipe.key == "windowsRestart":
        timeout = values.get("timeout", "").strip()
        step["windowsRestart"] = {"timeout": timeout} if timeout else True
    return step


def recipe_of_step(step: Any) -> tuple[Recipe | None, dict[str, str]]:
    """Which recipe a dialect step fits, with its field values (for editing in a form)."""
    if not isinstance(step, dict):
        return None, {}
    for kind in ("shell", "powershell"):
        if kind in step:
            body = step[kind]
            if isinstance(body, dict) and "script" in body and len(body) == 1:
                return RECIPE_BY_KEY["script"], {"script": str(body["script"])}
            if isinstance(body, str):
                return RECIPE_BY_KEY["commands"], {"commands": body.rstrip("\n")}
            if isinstance(body, list) and all(isinstance(x, str) for x in body):
                return RECIPE_BY_KEY["commands"], {"commands": "\n".join(body)}
            return None, {}
    if isinstance(step.get("file"), dict):
        f = step["file"]
        keys = set(f)
        if keys <= {"from", "to", "sha256", "sha256Checksum", "local"} and not {"sha256", "sha256Checksum"} <= keys:
            return RECIPE_BY_KEY["file"], {"from": str(f.get("from", "")), "to": str(f.get("to", "")),
                                           "sha256": str(f.get("sha256", f.get("sha256Checksum", "")) or ""),
                                           "local": str(f.get("local", "") or "")}
        return None, {}
    if "windowsUpdate" in step:
        return RECIPE_BY_KEY["windowsUpdate"], {}
    if "windowsRestart" in step:
        wr = step["windowsRestart"]
        if wr is True:
            return RECIPE_BY_KEY["windowsRestart"], {"timeout": ""}
        if isinstance(wr, dict) and set(wr) <= {"timeout"}:
            return RECIPE_BY_KEY["windowsRestart"], {"timeout": str(wr.get("timeout", ""))}
    return None, {}


def step_kind(step: Any) -> str:
    if isinstance(step, dict):
        for kind in ("shell", "powershell", "file", "windowsRestart", "windowsUpdate"):
            if kind in step:
                return kind
        if "type" in step:
            return str(step["type"])
    return "?"


def step_summary(step: Any, width: int = 60) -> str:
    """One line describing a step, for lists."""
    if not isinstance(step, dict):
        return str(step)[:width]
    kind = step_kind(step)
    body = step.get(kind)
    if isinstance(body, str):
        text = body.strip().splitlines()[0] if body.strip() else ""
        more = body.strip().count("\n")
        text += f"  (+{more} lines)" if more else ""
    elif isinstance(body, list):
        text = (str(body[0]) if body else "") + (f"  (+{len(body) - 1} lines)" if len(body) > 1 else "")
    elif isinstance(body, dict):
        if "script" in body:
            text = f"script {body['script']}"
        elif "from" in body or "to" in body:
            text = f"{body.get('from', '?')} -> {body.get('to', '?')}"
        else:
            text = ", ".join(f"{k}={v}" for k, v in body.items() if not isinstance(v, (list, dict)))
    elif body is True:
        text = "defaults"
    else:
        text = ""
    return text[:width]


def stub_scripts(steps: list[dict[str, Any]], os_family: str | None) -> dict[str, str]:
    """Local scripts the steps name, with a starter body: the onboarding writes the missing ones."""
    out: dict[str, str] = {}
    for step in steps:
        body = step.get("file")
        if isinstance(body, dict) and isinstance(body.get("local"), str) and not body.get("sha256"):
            out[body["local"]] = ("# The local copy of what the File step downloads: replace it with the real file.\n"
                                  "# Its SHA-256 becomes the step's sha256Checksum at compile time, so the build\n"
                                  "# fails if the download differs from this copy.\n")
        for kind in ("shell", "powershell"):
            body = step.get(kind)
            if isinstance(body, dict) and isinstance(body.get("script"), str):
                if kind == "powershell" or os_family == "windows":
                    out[body["script"]] = ("# Runs on the build VM (PowerShell). Its lines are inlined at compile "
                                           "time.\nWrite-Output 'hello from the build VM'\n")
                else:
                    out[body["script"]] = "# Runs on the build VM (bash). Its lines are inlined at compile time.\n" \
                                          "echo 'hello from the build VM'\n"
    return out


def free_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``, ... : the first name not in ``taken`` (for a new step)."""
    if base not in taken:
        return base
    i = 2
    while f"{base}-{i}" in taken:
        i += 1
    return f"{base}-{i}"
