"""The ARM client for ``Microsoft.VirtualMachineImages/imageTemplates`` (and Compute's vmimage listings).

Transport, retries, token handling and HTTP logging are azure-mgmt-core's (:mod:`aibtui.arm.pipeline`);
long-running operations are azure-mgmt-core's ``ARMPolling`` (``Azure-AsyncOperation``, ``Location``,
the body's ``provisioningState``). What is left here is specific to image templates:

- URLs, api-version, both error envelopes;
- ``run`` never starts a second build: azure-core does not resend a POST whose answer was lost, and
  when that happens this client reads the template's ``lastRunStatus``: a run that started after
  the one it saw before the POST is ours (it is watched, not started again); only when no run
  started is the POST sent again, with the same ``x-ms-client-request-id``;
- :class:`RunStatePolling`: the run's own end (``lastRunStatus.runState``), for a run whose POST
  answer was lost and for ``cancel --wait``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from .errors import ArmError, ClientError, TransportError, parse_error
from .pipeline import ClientSettings, RetryPolicy, make_pipeline_client  # noqa: F401 - RetryPolicy re-exported
from .redact import redact_text

RP = "Microsoft.VirtualMachineImages"
COMPUTE_API_VERSION = "2024-07-01"
TERMINAL_RUN_STATES = ("Succeeded", "PartiallySucceeded", "Failed", "Canceled")
RUN_SENDS = 3  # at most this many POST run, each only after lastRunStatus showed no run of ours
CONFIRM_READS = 3  # reads of lastRunStatus after a lost answer (ARM may report a new run late)


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Identity:
    """Who the client acts as: shown by ``--debug`` and ``aibtui doctor``."""

    kind: str  # cli, env, identity, default, local
    name: str  # a user name, an app id, a managed identity's client id, ...
    tenant: str | None = None
    detail: str = ""
    assignee: str | None = None  # what `az role assignment create --assignee` takes for it

    def describe(self) -> str:
        tenant = f" in tenant {self.tenant}" if self.tenant else ""
        detail = f" ({self.detail})" if self.detail else ""
        how = "" if self.kind == "local" else f" via --auth {self.kind}"
        return f"{self.name}{tenant}{how}{detail}"


def _azure_error(exc: Exception, what: str) -> ClientError:
    """An azure-core exception -> our error types (never a traceback for the user)."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(exc, ClientAuthenticationError):
        return ClientError(f"cannot get an access token: {exc.message}\n  check the sign-in (`aibtui doctor`)")
    if isinstance(exc, ServiceRequestError) and "non-TLS" in str(exc):
        return ClientError(f"refusing to send the bearer token over plain http: {what} (an https:// endpoint is "
                           "required)")
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return TransportError(f"{what}: {type(exc).__name__}: {redact_text(str(exc))[:300]}")
    if isinstance(exc, HttpResponseError) and exc.response is not None:
        resp = exc.response
        try:
            body = resp.body()
        except Exception:  # noqa: BLE001 - a streamed or closed body: the message will do
            body = b""
        status = int(resp.status_code or 0)
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        if status in (200, 201, 202) and isinstance(data, dict):  # an operation that ended Failed/Canceled
            err = data.get("error") or {}
            state = str(data.get("status") or (data.get("properties") or {}).get("provisioningState") or "Failed")
            if not err:
                perr = (data.get("properties") or {}).get("provisioningError") or {}
                err = {"code": perr.get("provisioningErrorCode"), "message": perr.get("message")}
            return ArmError(status, str(err.get("code") or state), str(err.get("message") or f"the operation ended "
                                                                        f"{state}"))
        return parse_error(status, body, resp.headers.get("x-ms-request-id"))
    return ClientError(f"{what}: {exc}")


class Operation:
    """A long-running operation: azure-core's ``LROPoller`` with the answers the CLI and TUI use.

    The poller (and its polling thread) starts only when someone waits: a run nobody waits for (the
    CLI watches lastRunStatus instead) costs no request."""

    def __init__(self, make_poller: Callable[[], Any], preview: Any, *, recovered: bool = False) -> None:
        self._make = make_poller
        self._preview = preview  # the polling method, initialized with the first answer (no request)
        self._poller: Any = None
        self.recovered = recovered  # run: the POST's answer was lost and the run was found started
        self.error: ArmError | None = None

    @property
    def poller(self) -> Any:
        if self._poller is None:
            self._poller = self._make()
        return self._poller

    def _method(self) -> Any:
        return self._preview if self._poller is None else self._poller.polling_method()

    def _initial_header(self, name: str) -> str | None:
        initial = getattr(self._method(), "_initial_response", None)
        return None if initial is None else initial.http_response.headers.get(name)

    @property
    def async_url(self) -> str | None:
        """The ``Azure-AsyncOperation`` link of the first answer (None: polled another way)."""
        return self._initial_header("Azure-AsyncOperation")

    @property
    def initial_status(self) -> int | None:
        initial = getattr(self._method(), "_initial_response", None)
        return None if initial is None else int(initial.http_response.status_code)

    @property
    def location_url(self) -> str | None:
        return self._initial_header("Location")

    @property
    def status(self) -> str:
        return str(self._method().status())

    def done(self) -> bool:
        return bool(self._method().finished()) if self._poller is None else bool(self._poller.done())

    def wait(self, timeout: float | None = None) -> str:
        """Until the operation ends; its final status ('Succeeded', 'Failed', 'Canceled' ...).
        A failed operation sets :attr:`error`; a timeout raises ClientError."""
        from azure.core.exceptions import AzureError, HttpResponseError

        try:
            self.poller.wait(timeout)
        except HttpResponseError as exc:
            self.error = _azure_error(exc, "polling")  # type: ignore[assignment]
            if not isinstance(self.error, ArmError):
                raise self.error from exc
            status = self.status
            return status if status not in ("InProgress", "Running", "Canceling") else "Failed"
        except AzureError as exc:
            raise _azure_error(exc, "polling the operation") from exc
        if not self.done():
            raise ClientError(f"the operation did not finish within {timeout:g}s")
        status = self.status
        if status in ("Failed", "Canceled") and self.error is None:  # ended at once (a 200 saying Failed)
            body = self.poller.result(0) or {}
            props = body.get("properties") or {} if isinstance(body, dict) else {}
            perr = props.get("provisioningError") or {}
            self.error = ArmError(200, str(perr.get("provisioningErrorCode") or status),
                                  str(perr.get("message") or f"the operation ended {status}"))
        return status

    def result(self, timeout: float | None = None) -> Any:
        """The final resource (PUT: the template), or raises the operation's error."""
        self.wait(timeout)
        if self.error is not None:
            raise self.error
        return self.poller.result(0)


class RunStatePolling:
    """A polling method for azure-core's LROPoller: GET the template until ``lastRunStatus.runState``
    is terminal. ``previous_start``: a run whose startTime is this one is an earlier run (ignored)."""

    def __init__(self, client: ArmClient, name: str, *, previous_start: str | None = None) -> None:
        self._client = client
        self._name = name
        self._previous_start = previous_start
        self._template: dict[str, Any] | None = None
        self._state: str | None = None

    def initialize(self, client: Any, initial_response: Any, deserialization_callback: Any) -> None:
        self._read()

    def _read(self) -> None:
        tpl = self._client.get_template(self._name)
        st = (tpl.get("properties") or {}).get("lastRunStatus") or {}
        self._template = tpl
        if self._previous_start is not None and st.get("startTime") == self._previous_start:
            self._state = None  # still the earlier run: ours has not shown up yet
        else:
            self._state = st.get("runState")

    def run(self) -> None:
        while not self.finished():
            self._client.sleep(self._client.settings.poll_interval)
            self._read()

    def status(self) -> str:
        return self._state or "InProgress"

    def finished(self) -> bool:
        return self._state in TERMINAL_RUN_STATES

    def resource(self) -> dict[str, Any] | None:
        return self._template

    def get_continuation_token(self) -> str:
        raise ClientError("a run-state poller cannot be resumed from a token")

    @classmethod
    def from_continuation_token(cls, continuation_token: str, **kwargs: Any) -> Any:
        raise ClientError("a run-state poller cannot be resumed from a token")


@dataclass
class ArmClient:
    pipeline: Any  # azure.mgmt.core.ARMPipelineClient
    subscription: str
    resource_group: str | None
    api_version: str
    settings: ClientSettings = field(default_factory=ClientSettings)
    provider: str = "local"
    location: str | None = None
    identity: Identity | None = None
    debug: Callable[[str], None] | None = None
    options: dict[str, Any] = field(default_factory=dict)  # per-request pipeline options
    credential: Any = None  # the TokenCredential (the staging log's blob client uses it too)
    scopes: tuple[str, ...] = ()  # what the credential's tokens are for

    @property
    def base_url(self) -> str:
        return str(self.pipeline._base_url).rstrip("/")  # noqa: SLF001 - azure-core keeps it there

    @property
    def retry(self) -> ClientSettings:  # the name older callers used
        return self.settings

    def sleep(self, seconds: float) -> None:
        self.pipeline._pipeline._transport.sleep(seconds)  # noqa: SLF001 - the transport's sleep, as azure-core does

    def close(self) -> None:
        self.pipeline.close()

    def _say(self, line: str) -> None:
        if self.debug is not None:
            self.debug(line)

    # -- plumbing ----------------------------------------------------------------------------
    def url(self, path: str, api_version: str | None = None, extra: str = "") -> str:
        return f"{self.base_url}{quote(path)}?api-version={api_version or self.api_version}{extra}"

    def _check_host(self, url: str) -> None:
        got, base = urlsplit(url), urlsplit(self.base_url)
        if (got.scheme.lower(), got.netloc.lower()) != (base.scheme.lower(), base.netloc.lower()):
            raise ClientError(f"refusing to follow a link to another host: {redact_text(url)}")

    def _run_pipeline(self, method: str, url: str, body: Any = None, **options: Any) -> Any:
        """One logical request through the pipeline (retries included); the PipelineResponse."""
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest

        self._check_host(url)
        headers = {"Content-Type": "application/json; charset=utf-8"} if body is not None else {}
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = HttpRequest(method, url, headers=headers, content=data)
        try:
            return self.pipeline.send_request(req, _return_pipeline_response=True, **{**self.options, **options})
        except AzureError as exc:
            raise _azure_error(exc, f"{method} {redact_text(url)}") from exc

    def send(self, method: str, url: str, *, body: Any = None, ok: tuple[int, ...] = (200,),
             **options: Any) -> HttpResponse:
        """One logical request; raises ArmError when the final answer's status is not in ``ok``."""
        pr = self._run_pipeline(method, url, body, **options)
        resp = pr.http_response
        data = resp.read() if hasattr(resp, "read") else resp.body()
        out = HttpResponse(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, data or b"")
        if out.status not in ok:
            raise parse_error(out.status, out.body, out.header("x-ms-request-id"))
        return out

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

    def begin(self, method: str, url: str, *, body: Any = None, ok: tuple[int, ...] = (200, 201, 202, 204),
              final_via: str | None = None, **options: Any) -> Operation:
        """Start a long-running operation; ARMPolling follows it (Azure-AsyncOperation, Location, body)."""
        from azure.core.exceptions import AzureError
        from azure.core.polling import LROPoller
        from azure.mgmt.core.polling.arm_polling import ARMPolling

        pr = self._run_pipeline(method, url, body, **options)
        status = pr.http_response.status_code
        if status not in ok:
            raise parse_error(status, pr.http_response.body(), pr.http_response.headers.get("x-ms-request-id"))
        for link in ("Azure-AsyncOperation", "Location"):
            target = pr.http_response.headers.get(link)
            if target:
                self._check_host(target)
        lro_options = {"final-state-via": final_via} if final_via else None

        def polling() -> Any:
            return ARMPolling(self.settings.poll_interval, lro_options=lro_options, **self.options)

        try:
            preview = polling()
            preview.initialize(self.pipeline, pr, _deserialize)
        except AzureError as exc:  # an answer no polling method understands
            raise _azure_error(exc, f"{method} {redact_text(url)}") from exc
        return Operation(lambda: LROPoller(self.pipeline, pr, _deserialize, polling()), preview)

    def watch_run(self, name: str, *, previous_start: str | None = None, recovered: bool = False) -> Operation:
        """Follow the template's run until ``lastRunStatus.runState`` is terminal."""
        from azure.core.exceptions import AzureError
        from azure.core.polling import LROPoller

        def make() -> Any:
            try:
                return LROPoller(self.pipeline, None, _deserialize,
                                 RunStatePolling(self, name, previous_start=previous_start))
            except AzureError as exc:
                raise _azure_error(exc, f"reading {name}") from exc

        return Operation(make, RunStatePolling(self, name, previous_start=previous_start), recovered=recovered)

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

    def create_template(self, name: str, body: dict[str, Any]) -> Operation:
        return self.begin("PUT", self.url(self.template_path(name)), body=body, ok=(200, 201))

    def delete_template(self, name: str) -> Operation:
        return self.begin("DELETE", self.url(self.template_path(name)), ok=(200, 202, 204), final_via="location")

    def last_run(self, name: str) -> dict[str, Any]:
        return (self.get_template(name).get("properties") or {}).get("lastRunStatus") or {}

    def _started_since(self, name: str, before: str | None) -> dict[str, Any] | None:
        """lastRunStatus when a run started after ``before`` (the startTime seen before the POST)."""
        for i in range(CONFIRM_READS):
            st = self.last_run(name)
            if st.get("startTime") and st.get("startTime") != before:
                return st
            if i + 1 < CONFIRM_READS:
                self.sleep(self.settings.poll_interval)
        return None

    def run(self, name: str, *, query: dict[str, str] | None = None) -> Operation:
        """POST run, never twice for one run (see the module doc). ``query``: the local service's
        extensions (``rootfs``)."""
        import uuid

        extra = "".join(f"&{k}={quote(v, safe='')}" for k, v in (query or {}).items())
        url = self.url(self.template_path(name) + "/run", extra=extra)
        before = self.last_run(name).get("startTime")
        rid = str(uuid.uuid4())
        for attempt in range(1, RUN_SENDS + 1):
            try:
                return self.begin("POST", url, ok=(200, 202, 204), final_via="azure-async-operation", request_id=rid)
            except (TransportError, ArmError) as exc:
                answered = isinstance(exc, ArmError)
                if answered and exc.status < 500 and not (exc.status == 409 and attempt > 1):
                    raise  # a clear refusal: nothing started
                self._say(f"run {name}: the answer to POST run was {'an error' if answered else 'lost'} ({exc}); "
                          "reading lastRunStatus before deciding")
                st = self._started_since(name, before)
                if st is not None:
                    self._say(f"run {name}: a run started at {st.get('startTime')} ({st.get('runState')}): it is "
                              "ours; not sending POST run again")
                    return self.watch_run(name, previous_start=before, recovered=True)
                if attempt == RUN_SENDS or (answered and exc.status == 409):
                    raise
                self._say(f"run {name}: no run started; sending POST run again (same request id)")
        raise AssertionError("unreachable")  # pragma: no cover

    def cancel(self, name: str) -> Operation:
        """POST cancel; a lost answer is settled by lastRunStatus (Canceling/Canceled: it took)."""
        import uuid

        url = self.url(self.template_path(name) + "/cancel")
        rid = str(uuid.uuid4())
        for attempt in range(1, RUN_SENDS + 1):
            try:
                return self.begin("POST", url, ok=(200, 202, 204), final_via="azure-async-operation", request_id=rid)
            except (TransportError, ArmError) as exc:
                if isinstance(exc, ArmError) and exc.status < 500:
                    raise
                state = self.last_run(name).get("runState")
                self._say(f"cancel {name}: the answer was lost ({exc}); lastRunStatus.runState is {state}")
                if state != "Running" or attempt == RUN_SENDS:
                    if state in ("Canceling", "Canceled") or state in TERMINAL_RUN_STATES:
                        return self.watch_run(name, recovered=True)
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

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
        """The local service's log endpoint (docs/local-service.md). On Azure the log is a blob in
        the staging resource group's storage account: :mod:`aibtui.arm.stagelog` reads it."""
        if self.provider != "local":
            from .stagelog import StagingLog

            return StagingLog.for_client(self).read(name, after=after, run_id=run_id)
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


def _deserialize(pipeline_response: Any) -> Any:
    resp = pipeline_response.http_response
    try:
        body = resp.body()
    except Exception:  # noqa: BLE001
        return None
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def open_arm_client(endpoint: str, credential: Any, scopes: tuple[str, ...], *, subscription: str,
                    resource_group: str | None, api_version: str, settings: ClientSettings | None = None,
                    provider: str, location: str | None = None, identity: Identity | None = None,
                    debug: Callable[[str], None] | None = None, ca_file: str | None = None,
                    http_transport: Any = None, options: dict[str, Any] | None = None) -> ArmClient:
    settings = settings or ClientSettings()
    pipeline = make_pipeline_client(endpoint, credential, scopes, settings, ca_file=ca_file, debug=debug,
                                    http_transport=http_transport)
    client = ArmClient(pipeline, subscription, resource_group, api_version, settings, provider, location,
                       identity, debug, dict(options or {}), credential, scopes=tuple(scopes))
    if debug is not None and identity is not None:
        debug(f"{provider}: {endpoint} as {identity.describe()}")
    return client
