"""The local service as an ARM endpoint, request by request (raw HTTP, no client of ours in the way):
routing before api-version, ARM's codes and envelopes, LRO headers, ids, proxy-aware links, case
leniency, PATCH per version, triggers, meta resources, Failed provisioning, limits and timeouts."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from service_support import FAST, local_service, sample_body

from aibtui.localstate import LOCAL_SUBSCRIPTION
from aibtui.service.server import LocalService

SUB = f"/subscriptions/{LOCAL_SUBSCRIPTION}"
T = SUB + "/resourceGroups/rg-arm/providers/Microsoft.VirtualMachineImages/imageTemplates"


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[LocalService]:
    with local_service(tmp_path / "state", replace(FAST, page_size=3, request_read_timeout=0.5)) as s:
        yield s


class Conn:
    def __init__(self, svc: LocalService) -> None:
        self.svc = svc

    def __call__(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                 raw: bytes | None = None) -> tuple[int, dict[str, str], Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.svc.port, timeout=10)
        try:
            data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
            conn.request(method, path, body=data, headers={"Authorization": f"Bearer {self.svc.token}",
                                                           "Content-Type": "application/json", **(headers or {})})
            resp = conn.getresponse()
            text = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(text) if text else None
        finally:
            conn.close()

    def wait_state(self, path: str, state: str) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while True:
            status, _, body = self(path=path, method="GET")
            if status == 200 and body["properties"]["provisioningState"] == state:
                return body
            assert time.monotonic() < deadline, body
            time.sleep(0.005)


@pytest.fixture
def call(svc: LocalService) -> Conn:
    return Conn(svc)


def test_meta_routes_are_routed_before_the_version_is_checked(call: Conn) -> None:
    status, _, body = call("GET", "/subscriptions?api-version=2022-12-01")
    assert status == 200 and body["value"][0]["subscriptionId"] == LOCAL_SUBSCRIPTION
    assert call("GET", f"{SUB}?api-version=2020-01-01")[0] == 200
    status, _, prov = call("GET", f"{SUB}/providers/Microsoft.VirtualMachineImages?api-version=2021-04-01")
    assert status == 200 and prov["registrationState"] == "Registered"
    types = {t["resourceType"]: t["apiVersions"] for t in prov["resourceTypes"]}
    assert "2020-02-14" in types["imageTemplates"] and "2025-10-01" in types["imageTemplates"]
    assert min(types["imageTemplates/triggers"]) == "2022-07-01"
    status, _, ops = call("GET", "/providers/Microsoft.VirtualMachineImages/operations?api-version=2024-02-01")
    assert status == 200 and "Microsoft.VirtualMachineImages/imageTemplates/read" in [o["name"] for o in ops["value"]]
    status, _, err = call("GET", "/subscriptions")
    assert status == 400 and err["error"]["code"] == "MissingApiVersionParameter"


def test_unknown_version_is_no_registered_provider_listing_the_supported_ones(call: Conn) -> None:
    status, _, err = call("GET", f"{T}/x?api-version=2019-05-01-preview")
    assert status == 400 and err["error"]["code"] == "NoRegisteredProviderFound"
    assert "'2020-02-14, 2021-10-01, 2022-02-14, 2022-07-01, 2023-07-01, 2024-02-01, 2025-10-01'" in \
        err["error"]["message"]
    status, _, err = call("GET", f"{T}/x/triggers?api-version=2022-02-14")  # triggers came with 2022-07-01
    assert status == 400 and err["error"]["code"] == "NoRegisteredProviderFound"
    assert "'2022-07-01, 2023-07-01, 2024-02-01, 2025-10-01'" in err["error"]["message"]


def test_resource_groups_and_arm_error_envelopes(call: Conn) -> None:
    status, _, err = call("GET", f"{SUB}/resourcegroups/nope?api-version=2021-04-01")
    assert status == 404 and err["error"]["code"] == "ResourceGroupNotFound"
    status, _, rg = call("PUT", f"{SUB}/resourcegroups/Team-A?api-version=2021-04-01", {"location": "westus2"})
    assert status == 201 and rg["name"] == "Team-A" and rg["properties"]["provisioningState"] == "Succeeded"
    assert call("PUT", f"{SUB}/resourcegroups/team-a?api-version=2021-04-01", {"location": "westus2"})[0] == 200
    names = [g["name"] for g in call("GET", f"{SUB}/resourcegroups?api-version=2021-04-01")[2]["value"]]
    assert "Team-A" in names and "aibtui-local" in names
    # 2020-02-14 answers the flat ApiError; later versions wrap it in {"error": ...}
    status, _, flat = call("GET", f"{SUB}/resourceGroups/Team-A/providers/Microsoft.VirtualMachineImages/"
                                  "imageTemplates/missing?api-version=2020-02-14")
    assert status == 404 and flat["code"] == "ResourceNotFound" and "error" not in flat and flat["target"]
    status, _, wrapped = call("GET", f"{SUB}/resourceGroups/Team-A/providers/Microsoft.VirtualMachineImages/"
                                     "imageTemplates/missing?api-version=2024-02-01")
    assert status == 404 and wrapped["error"]["code"] == "ResourceNotFound"


def test_lro_headers_ids_and_links_that_follow_host_and_forwarded_proto(call: Conn) -> None:
    proxy = {"Host": "aib.proxy.example:8443", "X-Forwarded-Proto": "https",
             "x-ms-correlation-request-id": "corr-1", "x-ms-client-request-id": "client-1"}
    status, h, _ = call("PUT", f"{T}/t1?api-version=2024-02-01", sample_body(), proxy)
    assert status == 201
    for name in ("azure-asyncoperation", "location"):
        assert h[name].startswith("https://aib.proxy.example:8443/subscriptions/"), h[name]
    assert int(h["retry-after"]) >= 1
    assert h["x-ms-correlation-request-id"] == "corr-1" and h["x-ms-client-request-id"] == "client-1"
    assert len(h["x-ms-request-id"]) == 36
    call.wait_state(f"{T}/t1?api-version=2024-02-01", "Succeeded")
    for method, suffix, body in (("PATCH", "", {"tags": {"a": "b"}}), ("POST", "/run", None),
                                 ("POST", "/cancel", None), ("DELETE", "", None)):
        if method == "DELETE":  # after the canceled run has ended
            deadline = time.monotonic() + 10
            while call("GET", f"{T}/t1?api-version=2024-02-01")[2]["properties"]["lastRunStatus"]["runState"] \
                    in ("Running", "Canceling"):
                assert time.monotonic() < deadline
        status, h, _ = call(method, f"{T}/t1{suffix}?api-version=2024-02-01", body)
        if status == 409 and suffix == "/cancel":  # the fast run may have finished already
            continue
        assert status == 202, (method, suffix, status)
        assert h["location"].startswith("http://127.0.0.1:") and "/operationresults/" in h["location"]
        assert "/operations/" in h["azure-asyncoperation"] and h["retry-after"]
        assert h["x-ms-correlation-request-id"] == h["x-ms-request-id"]  # none sent: a new one


def test_names_and_paths_are_case_insensitive(call: Conn) -> None:
    assert call("PUT", f"{T}/MixedCase?api-version=2024-02-01", sample_body())[0] == 201
    upper = (f"/SUBSCRIPTIONS/{LOCAL_SUBSCRIPTION}/RESOURCEGROUPS/RG-ARM/PROVIDERS/MICROSOFT.VIRTUALMACHINEIMAGES/"
             "IMAGETEMPLATES/mixedcase?api-version=2024-02-01")
    status, _, body = call("GET", upper)
    assert status == 200 and body["name"] == "MixedCase"
    assert call("PUT", f"{T}/MIXEDCASE?api-version=2024-02-01", sample_body())[0] == 200  # the same resource


def test_patch_follows_each_versions_update_parameters(call: Conn) -> None:
    call("PUT", f"{T}/p?api-version=2024-02-01", sample_body())
    call.wait_state(f"{T}/p?api-version=2024-02-01", "Succeeded")
    assert call("PATCH", f"{T}/p?api-version=2020-02-14", {"tags": {"env": "test"}})[0] == 202
    status, _, err = call("PATCH", f"{T}/p?api-version=2023-07-01", {"properties": {"vmProfile": {"vmSize": "X"}}})
    assert status == 400 and err["error"]["code"] == "InvalidParameter" and err["error"]["target"] == \
        "properties.vmProfile"
    status, h, _ = call("PATCH", f"{T}/p?api-version=2024-02-01",
                        {"properties": {"vmProfile": {"vmSize": "Standard_D4s_v3"}}})
    assert status == 202 and h["location"]
    body = call("GET", f"{T}/p?api-version=2024-02-01")[2]
    assert body["properties"]["vmProfile"]["vmSize"] == "Standard_D4s_v3" and body["tags"] == {"env": "test"}
    assert call("PATCH", f"{T}/p?api-version=2024-02-01", {"location": "eastus"})[0] == 400


def test_triggers_where_the_version_has_them(call: Conn) -> None:
    call("PUT", f"{T}/tr?api-version=2024-02-01", sample_body())
    call.wait_state(f"{T}/tr?api-version=2024-02-01", "Succeeded")
    status, h, trig = call("PUT", f"{T}/tr/triggers/source?api-version=2022-07-01",
                           {"properties": {"kind": "SourceImage"}})
    assert status == 201 and trig["properties"]["status"]["code"] == "Healthy" and h["location"]
    assert call("PUT", f"{T}/tr/triggers/x?api-version=2022-07-01", {"properties": {"kind": "Other"}})[0] == 400
    assert [t["name"] for t in call("GET", f"{T}/tr/triggers?api-version=2025-10-01")[2]["value"]] == ["source"]
    assert call("DELETE", f"{T}/tr/triggers/source?api-version=2022-07-01")[0] == 202
    assert call("GET", f"{T}/tr/triggers/source?api-version=2022-07-01")[0] == 404


def test_unresolvable_script_host_ends_provisioning_failed(call: Conn) -> None:
    body = sample_body()
    body["properties"]["customize"] = [{"type": "Shell", "name": "fetch",
                                        "scriptUri": "https://no-such-host.invalid/install.sh"}]
    status, h, created = call("PUT", f"{T}/bad?api-version=2024-02-01", body)
    assert status == 201 and created["properties"]["provisioningState"] == "Creating"
    failed = call.wait_state(f"{T}/bad?api-version=2024-02-01", "Failed")
    err = failed["properties"]["provisioningError"]
    assert err["provisioningErrorCode"] == "NoCustomizerScript" and "no-such-host.invalid" in err["message"]
    op = h["azure-asyncoperation"].split("127.0.0.1:", 1)[1].split("/", 1)[1]
    status, _, op_body = call("GET", "/" + op)
    assert op_body["status"] == "Failed" and op_body["error"]["code"] == "NoCustomizerScript"
    status, _, err = call("POST", f"{T}/bad/run?api-version=2024-02-01")
    assert status == 409


def test_deeply_nested_body_is_400_not_500(call: Conn) -> None:
    raw = b'{"location": "westus2", "properties": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, _, err = call("PUT", f"{T}/deep?api-version=2024-02-01", raw=raw)
    assert status == 400 and err["error"]["code"] == "InvalidRequestContent" and "nested" in err["error"]["message"]
    status, _, _ = call("GET", "/subscriptions?api-version=2022-12-01")  # still serving
    assert status == 200


def test_template_pages_follow_a_cursor_to_the_end(call: Conn) -> None:
    for i in range(8):
        call("PUT", f"{T}/p{i:02d}?api-version=2024-02-01", sample_body())
    seen: list[str] = []
    url: str | None = f"{T}?api-version=2024-02-01"
    pages = 0
    while url:
        status, _, page = call("GET", url)
        assert status == 200 and len(page["value"]) <= 3
        seen += [t["name"] for t in page["value"]]
        url = page.get("nextLink", "").replace(f"http://127.0.0.1:{call.svc.port}", "") or None
        pages += 1
    assert seen == [f"p{i:02d}" for i in range(8)] and pages == 3
    assert call("GET", f"{T}?api-version=2024-02-01&$skipToken=%%%")[0] == 400


def test_a_slow_client_is_cut_off_and_does_not_block_others(call: Conn, svc: LocalService) -> None:
    slow = socket.create_connection(("127.0.0.1", svc.port))
    try:
        slow.sendall(b"GET /subscriptions?api-version=2022-12-01 HTTP/1.1\r\nHost: x\r\n")  # headers never end
        assert call("GET", "/subscriptions?api-version=2022-12-01")[0] == 200  # others are served meanwhile
        slow.settimeout(10)
        started = time.monotonic()
        assert slow.recv(1024) == b""  # closed by the service's read deadline (0.5 s here)
        assert time.monotonic() - started < 9
    finally:
        slow.close()


def test_a_burst_of_fifty_new_connections_is_served(call: Conn) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        status = call("GET", "/subscriptions?api-version=2022-12-01")[0]
        with lock:
            results.append(status)

    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [200] * 50
