"""The ARM client for ``Microsoft.VirtualMachineImages/imageTemplates`` (and Compute's vmimage listings).

Retries: 429 and 5xx answers and requests that got no answer are retried with exponential backoff,
honouring ``retry-after-ms`` / ``Retry-After``. Every attempt of one logical operation carries the
same ``x-ms-client-request-id``, so a POST ``run`` whose answer was lost is recognised by the service
instead of starting a second build.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

from .errors import ArmError, ClientError, TransportError, parse_error
from .http import HttpRequest, HttpResponse, Transport
from .lro import Poller
from .redact import redact_headers, redact_text

RP = "Microsoft.VirtualMachineImages"
COMPUTE_API_VERSION = "2024-07-01"
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # total tries of one request
    backoff: float = 0.8  # first backoff in seconds, doubled each retry
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    timeout: float = 60.0  # seconds to wait for an answer
    poll_interval: float = 10.0  # LRO poll interval when the service gives no Retry-After


def retry_after_seconds(resp: HttpResponse) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001)):
        v = resp.header(name)
        if v:
            try:
                return max(0.0, float(v) * scale)
            except ValueError:
                pass
    v = resp.header("retry-after")
    if not v:
        return None
    try:
        return max(0.0, float(v))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(v).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class ArmClient:
    def __init__(self, base_url: str, transport: Transport, auth: Callable[[], dict[str, str]], *,
                 subscription: str, resource_group: str | None, api_version: str,
                 retry: RetryPolicy | None = None, debug: Callable[[str], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep, user_agent: str = "aibtui/0.1",
                 provider: str = "local", location: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.auth = auth
        self.subscription = subscription
        self.resource_group = resource_group
        self.api_version = api_version
        self.retry = retry or RetryPolicy()
        self.debug = debug
        self.sleep = sleep
        self.user_agent = user_agent
        self.provider = provider
        self.location = location
        self._netloc = urlsplit(self.base_url).netloc.lower()

    # -- plumbing ----------------------------------------------------------------------------
    def url(self, path: str, api_version: str | None = None, extra: str = "") -> str:
        return f"{self.base_url}{quote(path)}?api-version={api_version or self.api_version}{extra}"

    def _check_host(self, url: str) -> None:
        if urlsplit(url).netloc.lower() != self._netloc:
            raise ClientError(f"refusing to follow a link to another host: {redact_text(url)}")

    def send(self, method: str, url: str, *, body: Any = None, ok: tuple[int, ...] = (200,),
             request_id: str | None = None) -> HttpResponse:
        """One logical request, retried on 429/5xx/no answer; raises ArmError on other statuses."""
        self._check_host(url)
        rid = request_id or str(uuid.uuid4())
        data = None if body is None else json.dumps(body).encode("utf-8")
        pol = self.retry
        for attempt in range(1, pol.attempts + 1):
            headers = {"Accept": "application/json", "User-Agent": self.user_agent, "x-ms-client-request-id": rid}
            if data is not None:
                headers["Content-Type"] = "application/json; charset=utf-8"
            headers.update(self.auth())
            req = HttpRequest(method, url, headers, data)
            self._trace(f"> {method} {redact_text(url)} (attempt {attempt})", headers)
            started = time.monotonic()
            backoff = min(pol.max_backoff, pol.backoff * (2 ** (attempt - 1)))
            try:
                resp = self.transport.send(req, pol.timeout)
            except TransportError as exc:
                self._trace(f"< no answer: {exc}")
                if attempt == pol.attempts:
                    raise TransportError(f"{method} {redact_text(url)}: {exc} (gave up after {attempt} tries)") from exc
                self.sleep(backoff)
                continue
            ms = (time.monotonic() - started) * 1000
            self._trace(f"< {resp.status} ({ms:.0f} ms)", resp.headers)
            if resp.status in ok:
                return resp
            if resp.status in RETRY_STATUS and attempt < pol.attempts:
                wait = retry_after_seconds(resp)
                wait = backoff if wait is None else min(wait, pol.max_retry_after)
                self._trace(f"  retrying in {wait:.2f}s")
                self.sleep(wait)
                continue
            if resp.body and self.debug:
                self._trace("< " + redact_text(resp.body.decode("utf-8", "replace"))[:2000])
            raise parse_error(resp.status, resp.body, resp.header("x-ms-request-id"))
        raise AssertionError("unreachable")  # pragma: no cover

    def _trace(self, line: str, headers: dict[str, str] | None = None) -> None:
        if self.debug is None:
            return
        self.debug(line)
        for k, v in sorted(redact_headers(headers or {}).items()):
            self.debug(f"    {k}: {redact_text(v)}")

    @staticmethod
    def json(resp: HttpResponse) -> Any:
        if not resp.body:
            return None
        try:
            return json.loads(resp.body)
        except ValueError as exc:
            raise ClientError(f"the service answered with invalid JSON: {exc}") from exc

    def get_json(self, url: str) -> Any:
        return self.json(self.send("GET", url))

    def pages(self, url: str) -> Iterator[dict[str, Any]]:
        """Items of a pageable list, following nextLink."""
        next_url: str | None = url
        seen: set[str] = set()
        while next_url:
            if next_url in seen:
                raise ClientError("the service returned the same nextLink twice")
            seen.add(next_url)
            page = self.get_json(next_url) or {}
            yield from page.get("value") or []
            next_url = page.get("nextLink")

    def begin(self, method: str, url: str, *, body: Any = None, ok: tuple[int, ...], final_via: str,
              resource_url: str | None = None) -> Poller:
        rid = str(uuid.uuid4())
        resp = self.send(method, url, body=body, ok=ok, request_id=rid)
        return Poller(self, resp, final_via=final_via, resource_url=resource_url)

    # -- image templates ---------------------------------------------------------------------
    def _rg(self, resource_group: str | None) -> str:
        rg = resource_group or self.resource_group
        if not rg:
            raise ClientError("no resource group: pass --resource-group, or set a default with "
                              "`az configure --defaults group=NAME`")
        return rg

    def template_path(self, name: str, resource_group: str | None = None) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self._rg(resource_group)}"
                f"/providers/{RP}/imageTemplates/{name}")

    def get_template(self, name: str) -> dict[str, Any]:
        return self.get_json(self.url(self.template_path(name)))

    def find_template(self, name: str) -> dict[str, Any] | None:
        try:
            return self.get_template(name)
        except ArmError as exc:
            if exc.status == 404:
                return None
            raise

    def create_template(self, name: str, body: dict[str, Any]) -> Poller:
        url = self.url(self.template_path(name))
        return self.begin("PUT", url, body=body, ok=(200, 201), final_via="azure-async-operation",
                          resource_url=url)

    def delete_template(self, name: str) -> Poller:
        return self.begin("DELETE", self.url(self.template_path(name)), ok=(200, 202, 204), final_via="location")

    def run(self, name: str) -> Poller:
        return self.begin("POST", self.url(self.template_path(name) + "/run"), ok=(200, 202, 204),
                          final_via="azure-async-operation")

    def cancel(self, name: str) -> Poller:
        return self.begin("POST", self.url(self.template_path(name) + "/cancel"), ok=(200, 202, 204),
                          final_via="azure-async-operation")

    def list_templates(self, all_groups: bool = False) -> Iterator[dict[str, Any]]:
        if all_groups or not self.resource_group:
            path = f"/subscriptions/{self.subscription}/providers/{RP}/imageTemplates"
        else:
            path = (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                    f"/providers/{RP}/imageTemplates")
        return self.pages(self.url(path))

    def run_outputs(self, name: str) -> list[dict[str, Any]]:
        return list(self.pages(self.url(self.template_path(name) + "/runOutputs")))

    def run_output(self, name: str, output: str) -> dict[str, Any]:
        return self.get_json(self.url(self.template_path(name) + f"/runOutputs/{output}"))

    def customization_log(self, name: str, after: int = 0, run_id: str | None = None,
                          wait: float = 0.0) -> dict[str, Any]:
        """The local service's log endpoint (docs/local-service.md); Azure keeps the log in storage."""
        if self.provider != "local":
            raise ClientError("on Azure the customization log is in the staging resource group's storage "
                              "account (container 'packerlogs'); `aibtui logs` reads it from the local "
                              "service only for now")
        extra = f"&after={after}" + (f"&runId={quote(run_id)}" if run_id else "") + (f"&wait={wait:g}" if wait else "")
        return self.get_json(self.url(self.template_path(name) + "/customizationLog", extra=extra))

    # -- marketplace images ------------------------------------------------------------------
    def _images(self, location: str, tail: str = "") -> str:
        path = f"/subscriptions/{self.subscription}/providers/Microsoft.Compute/locations/{location}/publishers{tail}"
        return self.url(path, COMPUTE_API_VERSION)

    def publishers(self, location: str) -> list[dict[str, Any]]:
        return self.get_json(self._images(location)) or []

    def offers(self, location: str, publisher: str) -> list[dict[str, Any]]:
        return self.get_json(self._images(location, f"/{publisher}/artifacttypes/vmimage/offers")) or []

    def skus(self, location: str, publisher: str, offer: str) -> list[dict[str, Any]]:
        return self.get_json(self._images(location, f"/{publisher}/artifacttypes/vmimage/offers/{offer}/skus")) or []

    def versions(self, location: str, publisher: str, offer: str, sku: str) -> list[dict[str, Any]]:
        tail = f"/{publisher}/artifacttypes/vmimage/offers/{offer}/skus/{sku}/versions"
        return self.get_json(self._images(location, tail)) or []

    def image_version(self, location: str, publisher: str, offer: str, sku: str, version: str) -> dict[str, Any]:
        tail = f"/{publisher}/artifacttypes/vmimage/offers/{offer}/skus/{sku}/versions/{version}"
        return self.get_json(self._images(location, tail)) or {}
