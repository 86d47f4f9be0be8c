"""The REST surface of the local service: ARM-shaped routes -> JSON answers.

Pure request -> :class:`Reply` logic; the HTTP plumbing (token, faults, sockets) is in server.py.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from ..localbuild.model import EXECUTION_FIELD, SetupError, execution_record
from . import LOCAL_LOCATION, PROTOCOL_VERSION, SERVICE_NAME
from .catalog import Catalog
from .runner import Runner
from .settings import ServiceSettings
from .store import OperationRow, Store, TemplateRow, template_key
from .validate import validate_body

STABLE_API_VERSIONS = ("2020-02-14", "2021-10-01", "2022-02-14", "2022-07-01", "2023-07-01", "2024-02-01",
                       "2025-10-01")
FLAT_ERROR_VERSIONS = ("2020-02-14",)  # ApiError without the {"error": ...} wrapper
RP = "Microsoft.VirtualMachineImages"
TEMPLATE_TYPE = f"{RP}/imageTemplates"
UPDATE_NOT_SUPPORTED = ("Update/Upgrade of image templates is currently not supported. Delete the template "
                        "and create it again, or submit it under another name.")
MAX_LOG_WAIT = 10.0  # seconds a log read may wait for something to happen
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_P = r"/subscriptions/(?P<sub>[^/]+)"
R_TEMPLATE = re.compile(_P + r"/resourcegroups/(?P<rg>[^/]+)/providers/microsoft\.virtualmachineimages/"
                        r"imagetemplates/(?P<name>[^/]+)(?P<action>/run|/cancel|/runoutputs(?:/(?P<out>[^/]+))?"
                        r"|/customizationlog)?$", re.I)
R_LIST = re.compile(_P + r"(?:/resourcegroups/(?P<rg>[^/]+))?/providers/microsoft\.virtualmachineimages/"
                    r"imagetemplates$", re.I)
R_OP = re.compile(_P + r"/providers/microsoft\.virtualmachineimages/locations/(?P<loc>[^/]+)/"
                  r"(?P<kind>operations|operationresults)/(?P<id>[^/]+)$", re.I)
R_IMAGES = re.compile(_P + r"/providers/microsoft\.compute/locations/(?P<loc>[^/]+)/publishers"
                      r"(?:/(?P<pub>[^/]+)/artifacttypes/vmimage/offers(?:/(?P<offer>[^/]+)/skus"
                      r"(?:/(?P<sku>[^/]+)/versions(?:/(?P<ver>[^/]+))?)?)?)?$", re.I)


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def error_reply(status: int, code: str, message: str, api_version: str | None, *,
                details: list[dict[str, Any]] | None = None, target: str | None = None,
                headers: dict[str, str] | None = None) -> Reply:
    err: dict[str, Any] = {"code": code, "message": message}
    if target:
        err["target"] = target
    if details:
        err["details"] = details
    body = err if api_version in FLAT_ERROR_VERSIONS else {"error": err}
    return Reply(status, body, dict(headers or {}))


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base_url: str

    @classmethod
    def parse(cls, method: str, target: str, headers: dict[str, str], body: bytes, base_url: str) -> Request:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        return cls(method, parts.path.rstrip("/") or "/", query, headers, body, base_url)

    @property
    def api_version(self) -> str | None:
        return self.query.get("api-version")

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-ms-client-request-id")


class Api:
    def __init__(self, store: Store, runner: Runner, settings: ServiceSettings, catalog: Catalog) -> None:
        self.store = store
        self.runner = runner
        self.settings = settings
        self.catalog = catalog
        self._put_lock = threading.Lock()
        self.protocol = PROTOCOL_VERSION

    # -- dispatch ----------------------------------------------------------------------------
    def handle(self, req: Request) -> Reply:
        if req.path == "/_aibtui/health":
            # probed, not constants: whether a sandbox works and a root filesystem is there (Runner.capabilities)
            return Reply(200, {"service": SERVICE_NAME, "protocol": self.protocol,
                               "localBuilds": self.runner.capabilities(), "activeRuns": self.store.active_run_count()})
        m = R_IMAGES.match(req.path)
        if m:
            if not req.api_version:
                return error_reply(400, "MissingApiVersionParameter",
                                   "The api-version query parameter (?api-version=) is required for all requests.",
                                   None)
            return self._images(req, m) if req.method == "GET" else self._no_method(req)
        v = req.api_version
        if not v:
            return error_reply(400, "MissingApiVersionParameter",
                               "The api-version query parameter (?api-version=) is required for all requests.", None)
        if v not in STABLE_API_VERSIONS:
            return error_reply(400, "InvalidApiVersionParameter",
                               f"The api-version '{v}' is invalid. The supported versions are "
                               f"'{', '.join(STABLE_API_VERSIONS)}'.", None)
        m = R_TEMPLATE.match(req.path)
        if m:
            return self._template_route(req, m)
        m = R_LIST.match(req.path)
        if m:
            return self._list(req, m) if req.method == "GET" else self._no_method(req)
        m = R_OP.match(req.path)
        if m:
            return self._operation(req, m) if req.method == "GET" else self._no_method(req)
        return error_reply(404, "InvalidResourceType", f"No route matches '{req.path}'.", v)

    def _no_method(self, req: Request) -> Reply:
        return error_reply(405, "MethodNotAllowed", f"{req.method} is not allowed on '{req.path}'.", req.api_version)

    def _template_route(self, req: Request, m: re.Match[str]) -> Reply:
        sub, rg, name, action = m["sub"], m["rg"], m["name"], (m["action"] or "").lower()
        key = template_key(sub, rg, name)
        if action == "":
            if req.method == "PUT":
                return self._put(req, sub, rg, name)
            if req.method == "GET":
                tpl = self.store.get_template(key)
                return Reply(200, self.template_json(tpl)) if tpl else self._not_found(req, name)
            if req.method == "DELETE":
                return self._delete(req, key)
            return self._no_method(req)
        tpl = self.store.get_template(key)
        if tpl is None:
            return self._not_found(req, name)
        if action == "/run" and req.method == "POST":
            return self._run(req, tpl)
        if action == "/cancel" and req.method == "POST":
            return self._cancel(req, tpl)
        if action.startswith("/runoutputs") and req.method == "GET":
            return self._outputs(req, tpl, m["out"])
        if action == "/customizationlog" and req.method == "GET":
            return self._log(req, tpl)
        return self._no_method(req)

    def _not_found(self, req: Request, name: str) -> Reply:
        return error_reply(404, "ResourceNotFound", f"The image template '{name}' was not found.", req.api_version)

    # -- resources ---------------------------------------------------------------------------
    def template_id(self, tpl: TemplateRow) -> str:
        return f"/subscriptions/{tpl.sub}/resourceGroups/{tpl.rg}/providers/{TEMPLATE_TYPE}/{tpl.name}"

    def template_json(self, tpl: TemplateRow) -> dict[str, Any]:
        body = json.loads(json.dumps(tpl.body))
        props = dict(body.get("properties") or {})
        props["provisioningState"] = tpl.provisioning_state
        if tpl.provisioning_error:
            props["provisioningError"] = tpl.provisioning_error
        if tpl.last_run:
            run = self.store.get_run(tpl.last_run)
            if run is not None:
                status = {"startTime": iso(run.start), "runState": run.state, "runSubState": run.sub_state,
                          "message": run.message}
                if run.end_time is not None:
                    status["endTime"] = iso(run.end_time)
                status[EXECUTION_FIELD] = execution_record(run.simulated, run.why_simulated, run.sandbox)
                props["lastRunStatus"] = status
        out: dict[str, Any] = {"id": self.template_id(tpl), "name": tpl.name, "type": TEMPLATE_TYPE,
                               "location": tpl.location}
        if "tags" in body:
            out["tags"] = body["tags"]
        ident = body.get("identity")
        if isinstance(ident, dict):
            ident = dict(ident)
            uai = ident.get("userAssignedIdentities")
            if isinstance(uai, dict):
                ident["userAssignedIdentities"] = {k: {"principalId": "00000000-0000-0000-0000-000000000000",
                                                       "clientId": "00000000-0000-0000-0000-000000000000"}
                                                   for k in uai}
            out["identity"] = ident
        out["properties"] = props
        return out

    def _op_headers(self, req: Request, op: OperationRow, *, location: bool = False) -> dict[str, str]:
        base = f"{req.base_url}/subscriptions/{self._sub_of(op)}/providers/{RP}/locations/{LOCAL_LOCATION}"
        v = req.api_version
        h = {"Azure-AsyncOperation": f"{base}/operations/{op.id}?api-version={v}",
             "Retry-After": str(self.settings.retry_after), "retry-after-ms": str(self.settings.retry_after_ms)}
        if location:
            h["Location"] = f"{base}/operationresults/{op.id}?api-version={v}"
        return h

    def _sub_of(self, op: OperationRow) -> str:
        return op.template_key.split("/", 1)[0]

    def _put(self, req: Request, sub: str, rg: str, name: str) -> Reply:
        v = req.api_version or ""
        if not _NAME.match(name):
            return error_reply(400, "InvalidResourceName", f"The image template name '{name}' is invalid: use "
                               "1-64 letters, digits, '-', '_' or '.', starting with a letter or digit.", v)
        try:
            text = req.body.decode("utf-8")
        except UnicodeDecodeError:
            return error_reply(400, "InvalidRequestContent", "The request body is not UTF-8.", v)
        body, problems = validate_body(text, name, v)
        if problems:
            details = [{"code": p.code, "message": p.message, **({"target": p.target} if p.target else {})}
                       for p in problems]
            first = problems[0].message
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            return error_reply(400, "InvalidParameter", f"The image template is invalid: {first}{more}", v,
                               details=details)
        assert isinstance(body, dict)
        body = {k: val for k, val in body.items() if k not in ("id", "name", "type", "apiVersion")}
        props = body.get("properties")
        if isinstance(props, dict):  # read-only properties sent back by a client are ignored, as ARM does
            body["properties"] = {k: val for k, val in props.items()
                                  if k not in ("provisioningState", "provisioningError", "lastRunStatus")}
        key = template_key(sub, rg, name)
        with self._put_lock:
            existing = self.store.get_template(key)
            if existing is not None:
                if existing.provisioning_state == "Deleting":
                    return error_reply(409, "Conflict", f"The image template '{name}' is being deleted.", v)
                if json.dumps(existing.body, sort_keys=True) == json.dumps(body, sort_keys=True):
                    return Reply(200, self.template_json(existing))  # the same PUT again: idempotent
                return error_reply(409, "Conflict", UPDATE_NOT_SUPPORTED, v)
            tpl, op = self.store.create_template(sub, rg, name, str(body["location"]), body,
                                                 self.settings.provision_delay)
        return Reply(201, self.template_json(tpl), self._op_headers(req, op))

    def _delete(self, req: Request, key: str) -> Reply:
        v = req.api_version
        with self._put_lock:
            tpl = self.store.get_template(key)
            if tpl is None:
                return Reply(204)
            if tpl.last_run:
                run = self.store.get_run(tpl.last_run)
                if run is not None and run.state in ("Running", "Canceling"):
                    return error_reply(409, "Conflict", f"The image template '{tpl.name}' has a run in progress; "
                                       "cancel it first.", v)
            if tpl.provisioning_state == "Deleting":
                pending = self.store.active_operation(key, "delete")
                if pending is not None:
                    return Reply(202, None, self._op_headers(req, pending, location=True))
            op = self.store.begin_delete(key)
        timer = threading.Timer(self.settings.delete_delay, self._finish_delete, (key, op.id))
        timer.daemon = True
        timer.start()
        return Reply(202, None, self._op_headers(req, op, location=True))

    def _finish_delete(self, key: str, op_id: str) -> None:
        try:
            self.store.finish_delete(key, op_id)
            self.runner.template_deleted(key)  # local builds: its VHDs go with it (DI-06)
        finally:
            self.store.close_thread()

    def _run(self, req: Request, tpl: TemplateRow) -> Reply:
        v = req.api_version
        if req.request_id:
            seen = self.store.find_operation(tpl.key, "run", req.request_id)
            if seen is not None:  # a retry of a POST we already accepted: same answer, no second run
                return Reply(202, None, self._op_headers(req, seen))
        if tpl.provisioning_state != "Succeeded":
            return error_reply(409, "Conflict", f"The image template '{tpl.name}' is {tpl.provisioning_state}; "
                               "it can run once its provisioningState is Succeeded.", v)
        try:  # execute for real (a Linux template, a root filesystem, a sandbox) or simulate, and why
            plan = self.runner.plan(tpl.body, req.query.get("rootfs") or None)
        except SetupError as exc:
            return error_reply(400, "LocalBuildUnavailable", f"Cannot build '{tpl.name}' locally: {exc}", v)
        started = self.store.start_run(tpl.key, req.request_id, simulated=not plan.real,
                                       why_simulated=plan.why_simulated, sandbox=plan.backend)
        if started is None:
            return error_reply(409, "Conflict", f"A run of the image template '{tpl.name}' is already in progress.",
                               v)
        run, op = started
        self.runner.start(run.id, tpl.key, tpl.body, plan)
        return Reply(202, None, self._op_headers(req, op))

    def _cancel(self, req: Request, tpl: TemplateRow) -> Reply:
        if req.request_id:
            seen = self.store.find_operation(tpl.key, "cancel", req.request_id)
            if seen is not None:
                return Reply(202, None, self._op_headers(req, seen))
        op = self.store.request_cancel(tpl.key, req.request_id)
        if op is None:
            return error_reply(409, "Conflict", f"The image template '{tpl.name}' has no run in progress to cancel.",
                               req.api_version)
        if op.run_id:
            self.runner.poke(op.run_id)
        return Reply(202, None, self._op_headers(req, op))

    def _page(self, req: Request, items: list[Any]) -> dict[str, Any]:
        try:
            start = max(0, int(req.query.get("$skiptoken", "0")))
        except ValueError:
            start = 0
        size = self.settings.page_size
        out: dict[str, Any] = {"value": items[start:start + size]}
        if start + size < len(items):
            out["nextLink"] = (f"{req.base_url}{quote(req.path)}?api-version={req.api_version}"
                               f"&$skiptoken={start + size}")
        return out

    def _output_json(self, tpl: TemplateRow, o: Any) -> dict[str, Any]:
        props: dict[str, Any] = {"provisioningState": o.provisioning_state}
        if o.artifact_id:
            props["artifactId"] = o.artifact_id
        if o.artifact_uri:
            props["artifactUri"] = o.artifact_uri
        return {"id": f"{self.template_id(tpl)}/runOutputs/{o.name}", "name": o.name,
                "type": f"{TEMPLATE_TYPE}/runOutputs", "properties": props}

    def _outputs(self, req: Request, tpl: TemplateRow, name: str | None) -> Reply:
        outs = self.store.outputs(tpl.key)
        if name is None:
            return Reply(200, self._page(req, [self._output_json(tpl, o) for o in outs]))
        for o in outs:
            if o.name.lower() == name.lower():
                return Reply(200, self._output_json(tpl, o))
        return error_reply(404, "ResourceNotFound", f"The run output '{name}' of image template '{tpl.name}' was "
                           "not found.", req.api_version)

    def _list(self, req: Request, m: re.Match[str]) -> Reply:
        tpls = self.store.list_templates(m["sub"], m["rg"])
        return Reply(200, self._page(req, [self.template_json(t) for t in tpls]))

    def _log(self, req: Request, tpl: TemplateRow) -> Reply:
        run_id = req.query.get("runId") or tpl.last_run
        try:
            after = max(0, int(req.query.get("after", "0")))
            wait = min(MAX_LOG_WAIT, max(0.0, float(req.query.get("wait", "0"))))
        except ValueError:
            return error_reply(400, "InvalidParameter", "'after' must be a line number and 'wait' seconds.",
                               req.api_version)
        deadline = time.monotonic() + wait
        seen: tuple[str, str | None] | None = None
        while True:
            version = self.store.version
            run = self.store.get_run(run_id) if run_id else None
            if run is None:
                return Reply(200, {"runId": None, "lines": [], "next": 0, "complete": True, "simulated": True})
            lines = self.store.log_lines(run.id, after)
            complete = run.state not in ("Running", "Canceling")
            state = (run.state, run.sub_state)
            seen = seen or state
            left = deadline - time.monotonic()
            if lines or complete or state != seen or left <= 0:
                break
            self.store.wait_change(version, left)  # long poll: answer as soon as something happens
        if complete and lines:  # a capped read must not claim the end
            complete = len(lines) < 5000
        return Reply(200, {"runId": run.id, "lines": [{"n": n, "text": t} for n, t in lines],
                           "next": lines[-1][0] if lines else after, "complete": complete,
                           "simulated": run.simulated,
                           "runState": run.state, "runSubState": run.sub_state})

    def _operation(self, req: Request, m: re.Match[str]) -> Reply:
        op = self.store.get_operation(m["id"])
        if op is None:
            return error_reply(404, "ResourceNotFound", f"The operation '{m['id']}' was not found.", req.api_version)
        if m["kind"].lower() == "operationresults":
            if op.status == "InProgress":
                return Reply(202, None, self._op_headers(req, op, location=True))
            if op.status == "Failed":
                return error_reply(400, op.error_code or "Failed", op.error_message or "the operation failed",
                                   req.api_version)
            return Reply(204)
        body: dict[str, Any] = {"id": req.path, "name": op.id, "status": op.status, "startTime": iso(op.start)}
        if op.end_time is not None:
            body["endTime"] = iso(op.end_time)
        if op.status in ("Failed", "Canceled") and op.error_message:
            body["error"] = {"code": op.error_code or op.status, "message": op.error_message}
        headers = {"Retry-After": str(self.settings.retry_after),
                   "retry-after-ms": str(self.settings.retry_after_ms)} if op.status == "InProgress" else {}
        return Reply(200, body, headers)

    # -- marketplace images ------------------------------------------------------------------
    def _images(self, req: Request, m: re.Match[str]) -> Reply:
        loc, sub = m["loc"], m["sub"]
        base = f"/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/{loc}/Publishers"
        v = req.api_version
        if m["pub"] is None:
            return Reply(200, [{"name": p, "location": loc, "id": f"{base}/{p}"} for p in self.catalog.publishers()])
        pub = m["pub"]
        if m["offer"] is None:
            offers = self.catalog.offers(pub)
            if offers is None:
                return error_reply(404, "NotFound", f"Publisher '{pub}' is not in the local catalog.", v)
            return Reply(200, [{"name": o, "location": loc, "id": f"{base}/{pub}/ArtifactTypes/VMImage/Offers/{o}"}
                               for o in offers])
        offer = m["offer"]
        if m["sku"] is None:
            skus = self.catalog.skus(pub, offer)
            if skus is None:
                return error_reply(404, "NotFound", f"Offer '{pub}:{offer}' is not in the local catalog.", v)
            return Reply(200, [{"name": s.sku, "location": loc,
                                "id": f"{base}/{pub}/ArtifactTypes/VMImage/Offers/{offer}/Skus/{s.sku}",
                                "properties": {"osFamily": s.os_family, "hyperVGeneration": s.generation,
                                               **({"multiSession": True} if s.multi_session else {})}}
                               for s in skus])
        img = self.catalog.image(pub, offer, m["sku"])
        if img is None:
            return error_reply(404, "NotFound", f"SKU '{pub}:{offer}:{m['sku']}' is not in the local catalog.", v)
        vbase = f"{base}/{pub}/ArtifactTypes/VMImage/Offers/{offer}/Skus/{img.sku}/Versions"
        if m["ver"] is None:
            return Reply(200, [{"name": ver, "location": loc, "id": f"{vbase}/{ver}"} for ver in img.versions])
        ver = img.versions[-1] if m["ver"].lower() == "latest" else m["ver"]
        if ver not in img.versions:
            return error_reply(404, "NotFound", f"Version '{m['ver']}' of '{pub}:{offer}:{img.sku}' is not in the "
                               "local catalog.", v)
        return Reply(200, {"name": ver, "location": loc, "id": f"{vbase}/{ver}",
                           "properties": {"hyperVGeneration": img.generation,
                                          "osDiskImage": {"operatingSystem": img.os_family}}})
