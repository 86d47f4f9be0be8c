"""The official Azure SDK (azure-mgmt-imagebuilder, azure-mgmt-compute) against the local service over
HTTPS: the whole image-template lifecycle with the SDK's own pollers, its error types and codes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("azure.mgmt.imagebuilder")

from azure.core.credentials import AccessToken  # noqa: E402
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError  # noqa: E402
from azure.mgmt.imagebuilder import ImageBuilderClient  # noqa: E402
from service_support import FAST, local_service  # noqa: E402

from aibtui.compiler import CompileOptions, compile_file  # noqa: E402
from aibtui.localstate import LOCAL_SUBSCRIPTION  # noqa: E402
from aibtui.service.runner import HOLD_TAG  # noqa: E402
from aibtui.service.server import LocalService  # noqa: E402

RG = "rg-sdk"
SUB0 = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers"
DIALECT = f"""\
name: sdk-web
location: westus2
identity: {SUB0}/Microsoft.ManagedIdentity/userAssignedIdentities/aib
source: Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest
build: {{timeout: 60m}}
customize:
  - name: install
    shell: echo install
  - name: harden
    shell: echo harden
distribute:
  - managedImage: {SUB0}/Microsoft.Compute/images/sdk-web
    runOutputName: img
  - vhd: true
    runOutputName: disk
"""


class StaticToken:
    """A TokenCredential handing out the local service's bearer token (what az or MSAL would do)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[LocalService]:
    with local_service(tmp_path / "state", replace(FAST, hold_runs=True)) as s:
        yield s


@pytest.fixture
def client(svc: LocalService) -> ImageBuilderClient:
    assert svc.tls is not None
    return ImageBuilderClient(StaticToken(svc.token), LOCAL_SUBSCRIPTION, base_url=svc.https_url,
                              connection_verify=str(svc.tls.ca_file), polling_interval=0.01)


def compiled(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    src = tmp_path / "sdk.aib.yaml"
    src.write_text(DIALECT, encoding="utf-8")
    res = compile_file(src, CompileOptions())
    assert res.ok and res.document is not None, [d.message for d in res.errors]
    doc = res.document
    resource = doc["resources"][0] if "resources" in doc else doc
    body = {k: v for k, v in resource.items() if k in ("location", "identity", "properties", "tags")}
    body.update(extra)
    return body


def test_sdk_drives_the_whole_lifecycle_over_https(client: ImageBuilderClient, svc: LocalService,
                                                   tmp_path: Path) -> None:
    body = compiled(tmp_path, tags={"team": "web"})
    created = client.virtual_machine_image_templates.begin_create_or_update(RG, "sdk-web", body).result()
    assert created.name == "sdk-web" and created.properties.provisioning_state == "Succeeded"

    got = client.virtual_machine_image_templates.get(RG, "SDK-WEB")  # ARM is case-insensitive on names
    assert got.id.endswith("/resourceGroups/rg-sdk/providers/Microsoft.VirtualMachineImages/imageTemplates/sdk-web")
    assert [t.name for t in client.virtual_machine_image_templates.list_by_resource_group(RG)] == ["sdk-web"]

    updated = client.virtual_machine_image_templates.begin_update(
        RG, "sdk-web", {"tags": {"team": "web", "stage": "test"}}).result()
    assert updated.tags == {"team": "web", "stage": "test"}
    assert client.virtual_machine_image_templates.get(RG, "sdk-web").tags["stage"] == "test"

    client.virtual_machine_image_templates.begin_run(RG, "sdk-web").result()
    status = client.virtual_machine_image_templates.get(RG, "sdk-web").properties.last_run_status
    assert status.run_state == "Succeeded"
    outputs = {o.name: o for o in client.virtual_machine_image_templates.list_run_outputs(RG, "sdk-web")}
    assert set(outputs) == {"img", "disk"}
    assert outputs["img"].properties.artifact_id.endswith("/images/sdk-web")
    assert outputs["disk"].properties.artifact_uri

    # a changed PUT: the SDK's own error type with ARM's code
    changed = compiled(tmp_path, tags={"team": "other"})
    changed["properties"]["buildTimeoutInMinutes"] = 90
    with pytest.raises(ResourceExistsError) as err:
        client.virtual_machine_image_templates.begin_create_or_update(RG, "sdk-web", changed).result()
    assert err.value.status_code == 409 and err.value.error.code == "Conflict"

    client.virtual_machine_image_templates.begin_delete(RG, "sdk-web").result()
    with pytest.raises(ResourceNotFoundError) as gone:
        client.virtual_machine_image_templates.get(RG, "sdk-web")
    assert gone.value.error.code == "ResourceNotFound"


def test_sdk_cancels_a_run_in_progress(client: ImageBuilderClient, svc: LocalService, tmp_path: Path) -> None:
    ops = client.virtual_machine_image_templates
    ops.begin_create_or_update(RG, "held", compiled(tmp_path, tags={HOLD_TAG: "true"})).result()
    run = ops.begin_run(RG, "held")  # the test hold keeps it Building until canceled
    deadline = time.monotonic() + 10
    while ops.get(RG, "held").properties.last_run_status is None or \
            ops.get(RG, "held").properties.last_run_status.run_sub_state != "Building":
        assert time.monotonic() < deadline, "the run never reached Building"
        time.sleep(0.01)
    assert not run.done()
    ops.begin_cancel(RG, "held").result()
    with pytest.raises(HttpResponseError) as err:  # the run's LRO ends Canceled: the SDK raises
        run.result()
    assert "Canceled" in str(err.value)
    assert ops.get(RG, "held").properties.last_run_status.run_state == "Canceled"
    assert list(ops.list_run_outputs(RG, "held")) == []
    ops.begin_delete(RG, "held").result()


def test_sdk_sees_arm_errors_and_meta_resources(client: ImageBuilderClient, svc: LocalService,
                                                tmp_path: Path) -> None:
    ops = client.virtual_machine_image_templates
    bad = compiled(tmp_path)
    bad["properties"]["buildTimeoutInMinutes"] = 5000
    with pytest.raises(HttpResponseError) as err:
        ops.begin_create_or_update(RG, "bad", bad).result()
    assert err.value.status_code == 400 and err.value.error.code == "InvalidTemplate"
    assert any(d.code.startswith("AIB") for d in err.value.error.details)  # ours, in details
    assert [o.name for o in client.operations.list()][:2] == ["Microsoft.VirtualMachineImages/register/action",
                                                              "Microsoft.VirtualMachineImages/unregister/action"]
    # a script whose host cannot resolve: accepted, then provisioningState Failed with provisioningError
    unreachable = compiled(tmp_path)
    unreachable["properties"]["customize"][0] = {"type": "Shell", "name": "fetch",
                                                 "scriptUri": "https://scripts.example.invalid/setup.sh"}
    with pytest.raises(HttpResponseError) as failed:
        ops.begin_create_or_update(RG, "unreachable", unreachable).result()
    assert "NoCustomizerScript" in str(failed.value)
    tpl = ops.get(RG, "unreachable")
    assert tpl.properties.provisioning_state == "Failed"
    assert tpl.properties.provisioning_error.provisioning_error_code == "NoCustomizerScript"
    assert "scripts.example.invalid" in tpl.properties.provisioning_error.message


def test_sdk_triggers_at_a_version_that_has_them(svc: LocalService, tmp_path: Path) -> None:
    assert svc.tls is not None
    client = ImageBuilderClient(StaticToken(svc.token), LOCAL_SUBSCRIPTION, base_url=svc.https_url,
                                connection_verify=str(svc.tls.ca_file), polling_interval=0.01,
                                api_version="2022-07-01")
    client.virtual_machine_image_templates.begin_create_or_update(RG, "trig", compiled(tmp_path)).result()
    trig = client.triggers.begin_create_or_update(RG, "trig", "source", {"properties": {"kind": "SourceImage"}})
    made = trig.result()
    assert made.name == "source" and made.properties.kind == "SourceImage"
    assert [t.name for t in client.triggers.list_by_image_template(RG, "trig")] == ["source"]
    client.triggers.begin_delete(RG, "trig", "source").result()
    assert list(client.triggers.list_by_image_template(RG, "trig")) == []


def test_sdk_refused_without_the_right_token(svc: LocalService) -> None:
    assert svc.tls is not None
    client = ImageBuilderClient(StaticToken("not-the-token"), LOCAL_SUBSCRIPTION, base_url=svc.https_url,
                                connection_verify=str(svc.tls.ca_file))
    with pytest.raises(HttpResponseError) as err:
        list(client.virtual_machine_image_templates.list())
    assert err.value.status_code == 401


def test_compute_sdk_reads_marketplace_images(svc: LocalService) -> None:
    compute = pytest.importorskip("azure.mgmt.compute")
    assert svc.tls is not None
    client = compute.ComputeManagementClient(StaticToken(svc.token), LOCAL_SUBSCRIPTION, base_url=svc.https_url,
                                             connection_verify=str(svc.tls.ca_file))
    pubs = [p.name for p in client.virtual_machine_images.list_publishers("westus2")]
    assert "Canonical" in pubs
    skus = [s.name for s in client.virtual_machine_images.list_skus("westus2", "Canonical",
                                                                    "0001-com-ubuntu-server-jammy")]
    assert "22_04-lts-gen2" in skus
    versions = client.virtual_machine_images.list("westus2", "Canonical", "0001-com-ubuntu-server-jammy",
                                                  "22_04-lts-gen2")
    image = client.virtual_machine_images.get("westus2", "Canonical", "0001-com-ubuntu-server-jammy",
                                              "22_04-lts-gen2", versions[-1].name)
    assert image.name == versions[-1].name
    json.dumps(image.as_dict())


def test_managed_identity_credential_signs_in_to_the_local_service(svc: LocalService,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    identity = pytest.importorskip("azure.identity")
    assert svc.tls is not None
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{svc.https_url}/_aibtui/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", svc.token)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(svc.tls.ca_file))
    for name in ("MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    cred = identity.ManagedIdentityCredential()
    token = cred.get_token("https://management.azure.com/.default").token
    assert token != svc.token and token.count(".") == 2  # a JWT the service issued, not the token file
    client = ImageBuilderClient(cred, LOCAL_SUBSCRIPTION, base_url=svc.https_url,
                                connection_verify=str(svc.tls.ca_file))
    assert list(client.virtual_machine_image_templates.list()) == []
    monkeypatch.setenv("IDENTITY_HEADER", "wrong")
    with pytest.raises(Exception):  # noqa: B017 - azure-identity's own error type for a refused sign-in
        identity.ManagedIdentityCredential().get_token("https://management.azure.com/.default")


def test_resource_manager_sdk_sees_providers_and_resource_groups(svc: LocalService, tmp_path: Path) -> None:
    res = pytest.importorskip("azure.mgmt.resource.resources")
    assert svc.tls is not None
    kw: dict[str, Any] = {"base_url": svc.https_url, "connection_verify": str(svc.tls.ca_file)}
    rm = res.ResourceManagementClient(StaticToken(svc.token), LOCAL_SUBSCRIPTION, **kw)
    prov = rm.providers.get("Microsoft.VirtualMachineImages")
    assert prov.registration_state == "Registered"
    types = {t.resource_type: t.api_versions for t in prov.resource_types}
    assert "2025-10-01" in types["imageTemplates"] and "2022-02-14" not in types["imageTemplates/triggers"]
    made = rm.resource_groups.create_or_update("rg-res", {"location": "westus2", "tags": {"team": "a"}})
    assert made.name == "rg-res" and made.properties.provisioning_state == "Succeeded"
    assert rm.resource_groups.check_existence("RG-RES") and not rm.resource_groups.check_existence("rg-none")
    assert rm.resource_groups.update("rg-res", {"tags": {"team": "b"}}).tags == {"team": "b"}
    assert {"aibtui-local", "rg-res"} <= {g.name for g in rm.resource_groups.list()}
    ImageBuilderClient(StaticToken(svc.token), LOCAL_SUBSCRIPTION, polling_interval=0.01, **kw) \
        .virtual_machine_image_templates.begin_create_or_update("rg-res", "in-rg", compiled(tmp_path)).result()
    assert [r.name for r in rm.resources.list_by_resource_group("rg-res")] == ["in-rg"]
    with pytest.raises(HttpResponseError) as err:  # no cascade: the group still holds a template
        rm.resource_groups.begin_delete("rg-res").result()
    assert err.value.status_code == 409
