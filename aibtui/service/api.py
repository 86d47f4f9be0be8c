"""The REST surface of the local service: ARM-shaped routes -> JSON answers.

Pure request -> :class:`Reply` logic; the HTTP plumbing (token, faults, sockets) is in server.py.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from ..localbuild.model import EXECUTION_FIELD, SetupError, execution_record
from . import (
    LOCAL_LOCATION,
    LOCAL_RESOURCE_GROUP,
    LOCAL_SUBSCRIPTION,
    PROTOCOL_VERSION,
    SERVICE_NAME,
    armmeta,
    provisioning,
)
from .armmeta import FLAT_ERROR_VERSIONS, PATCH_PROPERTIES, RP, STABLE_API_VERSIONS, TEMPLATE_TYPE, Route
from .catalog import Catalog
from .runner import Runner
from .settings import ServiceSettings
from .store import OperationRow, Store, TemplateRow, template_key
from .validate import validate_body

__all__ = ["FLAT_ERROR_VERSIONS", "STABLE_API_VERSIONS", "Api", "Reply", "Request", "error_reply"]
UPDATE_NOT_SUPPORTED = ("Update/Upgrade of image templates is currently not supported. Delete the template "
                        "and create it again, or submit it under another name.")
MAX_LOG_WAIT = 10.0  # seconds a log read may wait for something to happen
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_TRIGGER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


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

    def q(self, name: str) -> str | None:
        """A query parameter, its name matched case-insensitively ($skipToken, $skiptoken...)."""
        name = name.lower()
        for k, v in self.query.items():
            if k.lower() == name:
                return v
        return None


class Api:
    def __init__(self, store: Store, runner: Runner, settings: ServiceSettings, catalog: Catalog) -> None:
        self.store = store
        self.runner = runner
        self.settings = settings
        self.catalog = catalog
        self._put_lock = threading.Lock()
        self.protocol = PROTOCOL_VERSION
        self.store.put_group(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, LOCAL_LOCATION, None, only_if_missing=True)

    # -- dispatch: route first, then the api-version of the route's resource type ---------------
    def handle(self, req: Request) -> Reply:
        if req.path == "/_aibtui/health":
            from ..localbuild.limits import StepLimits, describe

            local = self.settings.local
            # probed, not constants: whether a sandbox works and a root filesystem is there (Runner.capabilities)
            return Reply(200, {"service": SERVICE_NAME, "protocol": self.protocol,
                               "localBuilds": self.runner.capabilities(), "activeRuns": self.store.active_run_count(),
                               "limits": describe(StepLimits(local.pids, local.memory_mb, local.cpu_seconds))})
        found = armmeta.match(req.path)
        if found is None:
            return self._no_route(req)
        route, m = found
        method = "GET" if req.method == "HEAD" and "HEAD" not in route.methods else req.method
        if method not in route.methods:
            return error_reply(405, "MethodNotAllowed", f"The requested resource does not support http method "
                               f"'{req.method}'.", self._envelope_version(req, route),
                               headers={"Allow": ", ".join(route.methods)})
        v = req.api_version
        if not v:
            return error_reply(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) "
                               "is required for all requests.", None)
        if route.rtype is not None and v not in armmeta.versions_for(route.rtype):
            loc = m.groupdict().get("loc")
            return error_reply(400, "NoRegisteredProviderFound", armmeta.no_registered_provider(v, route.rtype, loc),
                               None)
        if route.rtype is None and not route.compute and not armmeta.META_VERSION.match(v):
            return error_reply(400, "InvalidApiVersionParameter", f"The api-version '{v}' is invalid. The "
                               "supported versions are 'YYYY-MM-DD' dates, with an optional '-preview'.", None)
        handler = getattr(self, f"r_{route.name}")
        reply: Reply = handler(req, m)
        if req.method == "HEAD":
            reply = Reply(204 if reply.status == 200 else reply.status, None, reply.headers)
        return reply

    def _envelope_version(self, req: Request, route: Route) -> str | None:
        return req.api_version if route.rtype is not None else None

    def _no_route(self, req: Request) -> Reply:
        low = req.path.lower()
        marker = f"/providers/{RP.lower()}/"
        if marker in low:
            rtype = req.path[low.index(marker) + len(marker):].split("/")[0]
            return error_reply(400, "InvalidResourceType", f"The resource type '{rtype}' could not be found in the "
                               f"namespace '{RP}' for api version '{req.api_version}'.", req.api_version)
        return error_reply(404, "NotFound", f"No HTTP resource was found that matches the request URI "
                           f"'{req.path}'.", None)

    def _not_found(self, req: Request, sub: str, rg: str, name: str) -> Reply:
        if self.store.get_group(sub, rg) is None:
            return error_reply(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.",
                               req.api_version)
        return error_reply(404, "ResourceNotFound", f"The image template '{name}' was not found.", req.api_version,
                           target=f"{TEMPLATE_TYPE}/{name}")

    def _template(self, req: Request, m: re.Match[str]) -> tuple[TemplateRow | None, Reply | None]:
        tpl = self.store.get_template(template_key(m["sub"], m["rg"], m["name"]))
        if tpl is None:
            return None, self._not_found(req, m["sub"], m["rg"], m["name"])
        return tpl, None

    # -- resources ---------------------------------------------------------------------------
    def template_id(self, tpl: TemplateRow) -> str:
        return f"/subscriptions/{tpl.sub}/resourceGroups/{tpl.rg}/providers/{TEMPLATE_TYPE}/{tpl.name}"

    def template_json(self, tpl: TemplateRow) -> dict[str, Any]:
        body = tpl.body  # parsed from the row for this answer: copied where changed, never mutated
        props = dict(body.get("properties") or {})
        props["provisioningState"] = tpl.provisioning_state
        if tpl.provisioning_error and tpl.provisioning_state == "Failed":
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

    def _op_headers(self, req: Request, op: OperationRow) -> dict[str, str]:
        """Azure-AsyncOperation, Location and Retry-After: every 201/202 carries all three."""
        base = f"{req.base_url}/subscriptions/{self._sub_of(op)}/providers/{RP}/locations/{LOCAL_LOCATION}"
        v = req.api_version
        return {"Azure-AsyncOperation": f"{base}/operations/{op.id}?api-version={v}",
                "Location": f"{base}/operationresults/{op.id}?api-version={v}",
                "Retry-After": str(self.settings.retry_after), "retry-after-ms": str(self.settings.retry_after_ms)}

    def _sub_of(self, op: OperationRow) -> str:
        return op.template_key.split("/", 1)[0]

    # -- image templates -----------------------------------------------------------------------
    def r_template(self, req: Request, m: re.Match[str]) -> Reply:
        if req.method == "PUT":
            return self._put(req, m["sub"], m["rg"], m["name"])
        if req.method == "DELETE":
            return self._delete(req, template_key(m["sub"], m["rg"], m["name"]))
        tpl, err = self._template(req, m)
        if tpl is None:
            return err  # type: ignore[return-value]
        if req.method == "PATCH":
            return self._patch(req, tpl)
        return Reply(200, self.template_json(tpl))

    def _parse(self, req: Request) -> tuple[Any, Reply | None]:
        try:
            return json.loads(req.body.decode("utf-8") or "null"), None
        except (UnicodeDecodeError, ValueError) as exc:
            return None, error_reply(400, "InvalidRequestContent", f"The request content is not valid JSON: {exc}",
                                     req.api_version)

    def _invalid(self, v: str, problems: list[Any]) -> Reply:
        """400 with ARM's code on top and each of our findings (AIB code, position) in ``details``."""
        details = []
        for p in problems:
            d: dict[str, Any] = {"code": p.code, "message": p.message}
            if p.target:
                d["target"] = p.target
                d["additionalInfo"] = [{"type": "AibDiagnostic", "info": {"code": p.code, "position": p.target}}]
            details.append(d)
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        code = "InvalidTemplate" if first.code.startswith("AIB") else first.code  # ours go in details only
        return error_reply(400, code, f"The image template is invalid: {first.message}{more}", v, details=details,
                           target=first.target or None)

    def _put(self, req: Request, sub: str, rg: str, name: str) -> Reply:
        v = req.api_version or ""
        if not _NAME.match(name):
            return error_reply(400, "InvalidResourceName", f"The image template name '{name}' is invalid: use "
                               "1-64 letters, digits, '-', '_' or '.', starting with a letter or digit.", v,
                               target=name)
        try:
            text = req.body.decode("utf-8")
        except UnicodeDecodeError:
            return error_reply(400, "InvalidRequestContent", "The request body is not UTF-8.", v)
        body, problems = validate_body(text, name, v)
        if problems:
            return self._invalid(v, problems)
        assert isinstance(body, dict)
        body = _strip_read_only(body)
        key = template_key(sub, rg, name)
        with self._put_lock:
            existing = self.store.get_template(key)
            if existing is not None:
                if existing.provisioning_state == "Deleting":
                    return error_reply(409, "Conflict", f"The image template '{name}' is being deleted.", v,
                                       target=name)
                if json.dumps(existing.body, sort_keys=True) == json.dumps(body, sort_keys=True):
                    return Reply(200, self.template_json(existing))  # the same PUT again: idempotent
                return error_reply(409, "Conflict", UPDATE_NOT_SUPPORTED, v, target=name)
            self.store.put_group(sub, rg, str(body["location"]), None, only_if_missing=True)
            check = bool(provisioning.referenced_urls(body))
            tpl, op = self.store.create_template(sub, rg, name, str(body["location"]), body,
                                                 None if check else self.settings.provision_delay)
        if check:
            t = threading.Thread(target=self._provision, args=(key, body), name="aibtui-provision", daemon=True)
            t.start()
        return Reply(201, self.template_json(tpl), self._op_headers(req, op))

    def _provision(self, key: str, body: dict[str, Any]) -> None:
        try:
            self.store.finish_provisioning(key, self.settings.provision_delay, provisioning.check(body))
        finally:
            self.store.close_thread()

    def _patch(self, req: Request, tpl: TemplateRow) -> Reply:
        v = req.api_version or ""
        patch, err = self._parse(req)
        if err is not None:
            return err
        if not isinstance(patch, dict):
            return error_reply(400, "InvalidRequestContent", "The request content must be a JSON object.", v)
        allowed = [p for p, since in PATCH_PROPERTIES.items() if v >= since]
        bad = [k for k in patch if k not in ("tags", "identity", "properties")]
        props = patch.get("properties")
        if props is not None and not isinstance(props, dict):
            bad.append("properties")
        elif isinstance(props, dict):
            bad += [f"properties.{k}" for k in props if k not in allowed]
        if bad:
            can = ", ".join(["tags", "identity"] + [f"properties.{p}" for p in allowed])
            return error_reply(400, "InvalidParameter", f"'{bad[0]}' cannot be updated at api-version {v}; an "
                               f"update may change {can}.", v, target=bad[0])
        if tpl.provisioning_state not in ("Succeeded", "Failed"):
            return error_reply(409, "Conflict", f"The image template '{tpl.name}' is {tpl.provisioning_state}; it "
                               "can be updated once its provisioningState is Succeeded.", v, target=tpl.name)
        body = json.loads(json.dumps(tpl.body))
        if "tags" in patch:
            if patch["tags"] is None:
                body.pop("tags", None)
            elif not isinstance(patch["tags"], dict) or not all(isinstance(x, str) for x in patch["tags"].values()):
                return error_reply(400, "InvalidParameter", "'tags' must map names to strings.", v, target="tags")
            else:
                body["tags"] = patch["tags"]
        if "identity" in patch:
            ident = patch["identity"]
            if not isinstance(ident, dict) or ident.get("type") not in ("UserAssigned", "None"):
                return error_reply(400, "InvalidParameter", "'identity.type' must be 'UserAssigned' or 'None'.", v,
                                   target="identity")
            body["identity"] = {"type": "None"} if ident["type"] == "None" else ident
        for k, val in (props or {}).items():
            body.setdefault("properties", {})[k] = val
        if props:  # changed properties must still make a valid template
            check_body = {k: val for k, val in body.items() if k != "identity" or val.get("type") != "None"}
            _, problems = validate_body(json.dumps(check_body), tpl.name, v)
            if problems:
                return self._invalid(v, problems)
        op = self.store.update_template(tpl.key, body)
        return Reply(202, None, self._op_headers(req, op))

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
                                       "cancel it first.", v, target=tpl.name)
            if tpl.provisioning_state == "Deleting":
                pending = self.store.active_operation(key, "delete")
                if pending is not None:
                    return Reply(202, None, self._op_headers(req, pending))
            op = self.store.begin_delete(key)
        timer = threading.Timer(self.settings.delete_delay, self._finish_delete, (key, op.id))
        timer.daemon = True
        timer.start()
        return Reply(202, None, self._op_headers(req, op))

    def _finish_delete(self, key: str, op_id: str) -> None:
        try:
            self.store.finish_delete(key, op_id)
            self.runner.template_deleted(key)  # local builds: its VHDs go with it (DI-06)
        finally:
            self.store.close_thread()

    def r_run(self, req: Request, m: re.Match[str]) -> Reply:
        tpl, err = self._template(req, m)
        if tpl is None:
            return err  # type: ignore[return-value]
        v = req.api_version
        if req.request_id:
            seen = self.store.find_operation(tpl.key, "run", req.request_id)
            if seen is not None:  # a retry of a POST we already accepted: same answer, no second run
                return Reply(202, None, self._op_headers(req, seen))
        if tpl.provisioning_state != "Succeeded":
            return error_reply(409, "Conflict", f"The image template '{tpl.name}' is {tpl.provisioning_state}; "
                               "it can run once its provisioningState is Succeeded.", v, target=tpl.name)
        try:  # execute for real (a Linux template, a root filesystem, a sandbox) or simulate, and why
            plan = self.runner.plan(tpl.body, req.query.get("rootfs") or None)
        except SetupError as exc:
            return error_reply(400, "LocalBuildUnavailable", f"Cannot build '{tpl.name}' locally: {exc}", v)
        started = self.store.start_run(tpl.key, req.request_id, simulated=not plan.real,
                                       why_simulated=plan.why_simulated, sandbox=plan.backend)
        if started is None:
            return error_reply(409, "Conflict", f"A run of the image template '{tpl.name}' is already in progress.",
                               v, target=tpl.name)
        run, op = started
        self.runner.start(run.id, tpl.key, tpl.body, plan)
        return Reply(202, None, self._op_headers(req, op))

    def r_cancel(self, req: Request, m: re.Match[str]) -> Reply:
        tpl, err = self._template(req, m)
        if tpl is None:
            return err  # type: ignore[return-value]
        if req.request_id:
            seen = self.store.find_operation(tpl.key, "cancel", req.request_id)
            if seen is not None:
                return Reply(202, None, self._op_headers(req, seen))
        op = self.store.request_cancel(tpl.key, req.request_id)
        if op is None:
            return error_reply(409, "Conflict", f"The image template '{tpl.name}' has no run in progress to cancel.",
                               req.api_version, target=tpl.name)
        if op.run_id:
            self.runner.poke(op.run_id)
        return Reply(202, None, self._op_headers(req, op))

    def _page(self, req: Request, items: list[Any]) -> dict[str, Any]:
        try:
            start = max(0, int(req.q("$skiptoken") or "0"))
        except ValueError:
            start = 0
        size = self.settings.page_size
        out: dict[str, Any] = {"value": items[start:start + size]}
        if start + size < len(items):
            out["nextLink"] = (f"{req.base_url}{quote(req.path)}?api-version={req.api_version}"
                               f"&$skipToken={start + size}")
        return out

    def _output_json(self, tpl: TemplateRow, o: Any) -> dict[str, Any]:
        props: dict[str, Any] = {"provisioningState": o.provisioning_state}
        if o.artifact_id:
            props["artifactId"] = o.artifact_id
        if o.artifact_uri:
            props["artifactUri"] = o.artifact_uri
        return {"id": f"{self.template_id(tpl)}/runOutputs/{o.name}", "name": o.name,
                "type": f"{TEMPLATE_TYPE}/runOutputs", "properties": props}

    def r_outputs(self, req: Request, m: re.Match[str]) -> Reply:
        tpl, err = self._template(req, m)
        if tpl is None:
            return err  # type: ignore[return-value]
        return Reply(200, self._page(req, [self._output_json(tpl, o) for o in self.store.outputs(tpl.key)]))

    def r_output(self, req: Request, m: re.Match[str]) -> Reply:
        tpl, err = self._template(req, m)
        if tpl is None:
            return err  # type: ignore[return-value]
        name = m["out"]
        for o in self.store.outputs(tpl.key):
            if o.name.lower() == name.lower():
                return Reply(200, self._output_json(tpl, o))
        return error_reply(404, "ResourceNotFound", f"The run output '{name}' of image template '{tpl.name}' was "
                           "not found.", req.api_version, target=name)

    def r_list(self, req: Request, m: re.Match[str]) -> Reply:
        sub, rg = m["sub"], m["rg"]
        if rg is not None and self.store.get_group(sub, rg) is None:
            return error_reply(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.",
                               req.api_version)
        after = None
        token = req.q("$skiptoken")
        if token:
            try:
                after = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                return error_reply(400, "InvalidParameter", "The $skipToken is not one this service issued.",
                                   req.api_version, target="$skipToken")
        rows, more = self.store.list_page(sub, rg, after, self.settings.page_size)
        out: dict[str, Any] = {"value": [self.template_json(t) for t in rows]}
        if more and rows:
            cursor = base64.urlsafe_b64encode(rows[-1].key.encode("utf-8")).decode("ascii").rstrip("=")
            out["nextLink"] = f"{req.base_url}{quote(req.path)}?api-version={req.api_version}&$skipToken={cursor}"
        return Reply(200, out)

    def r_customization_log(self, req: Request, m: re.Match[str]) -> Reply:
        tpl, err = self._template(req, m)
        if tpl is None:
            return err  # type: ignore[return-value]
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

    def r_operation(self, req: Request, m: re.Match[str]) -> Reply:
        op = self.store.get_operation(m["id"])
        if op is None:
            return error_reply(404, "ResourceNotFound", f"The operation '{m['id']}' was not found.", req.api_version,
                               target=m["id"])
        if m["kind"].lower() == "operationresults":
            if op.status == "InProgress":
                return Reply(202, None, self._op_headers(req, op))
            if op.status == "Failed":
                return error_reply(400, op.error_code or "Failed", op.error_message or "the operation failed",
                                   req.api_version)
            if op.kind in ("create", "update"):
                tpl = self.store.get_template(op.template_key)
                if tpl is not None:
                    return Reply(200, self.template_json(tpl))
            return Reply(204)
        body: dict[str, Any] = {"id": req.path, "name": op.id, "status": op.status, "startTime": iso(op.start)}
        if op.end_time is not None:
            body["endTime"] = iso(op.end_time)
        if op.status in ("Failed", "Canceled") and op.error_message:
            body["error"] = {"code": op.error_code or op.status, "message": op.error_message}
        headers = {"Retry-After": str(self.settings.retry_after),
                   "retry-after-ms": str(self.settings.retry_after_ms)} if op.status == "InProgress" else {}
        return Reply(200, body, headers)

    def r_rp_operations(self, req: Request, m: re.Match[str]) -> Reply:
        return Reply(200, armmeta.operations_list())

    # -- triggers (2022-07-01 and later) ----------------------------------------------------------
    def _trigger_json(self, tpl: TemplateRow, t: dict[str, Any]) -> dict[str, Any]:
        return {"id": f"{self.template_id(tpl)}/triggers/{t['name']}", "name": t["name"],
                "type": f"{TEMPLATE_TYPE}/triggers",
                "properties": {"kind": t["kind"], "status": {"code": "Healthy", "message": "",
                                                             "time": iso(t["created"])},
                               "provisioningState": "Succeeded"}}

    def r_triggers(self, req: Request, m: re.Match[str]) -> Reply:
        tpl, err = self._template(req, m)
        if tpl is None:
            return err  # type: ignore[return-value]
        return Reply(200, {"value": [self._trigger_json(tpl, t) for t in self.store.triggers(tpl.key)]})

    def r_trigger(self, req: Request, m: re.Match[str]) -> Reply:
        tpl, err = self._template(req, m)
        if tpl is None:
            return err  # type: ignore[return-value]
        v = req.api_version
        name = m["trigger"]
        found = next((t for t in self.store.triggers(tpl.key) if t["name"].lower() == name.lower()), None)
        if req.method == "GET":
            if found is None:
                return error_reply(404, "ResourceNotFound", f"The trigger '{name}' of image template '{tpl.name}' "
                                   "was not found.", v, target=name)
            return Reply(200, self._trigger_json(tpl, found))
        if req.method == "DELETE":
            if not self.store.delete_trigger(tpl.key, name):
                return Reply(204)
            return Reply(202, None, self._op_headers(req, self.store.record_operation(tpl.key, "trigger-delete")))
        body, perr = self._parse(req)
        if perr is not None:
            return perr
        kind = ((body or {}).get("properties") or {}).get("kind") if isinstance(body, dict) else None
        if not _TRIGGER_NAME.match(name):
            return error_reply(400, "InvalidResourceName", f"The trigger name '{name}' is invalid.", v, target=name)
        if kind != "SourceImage":
            return error_reply(400, "InvalidParameter", f"The trigger kind '{kind}' is not supported; the only "
                               "kind is 'SourceImage'.", v, target="properties.kind")
        if found is not None and found["kind"] != kind:
            return error_reply(409, "Conflict", "The kind of a trigger cannot change.", v, target=name)
        created, at = self.store.put_trigger(tpl.key, name, kind)
        t = {"name": found["name"] if found else name, "kind": kind, "created": at}
        op = self.store.record_operation(tpl.key, "trigger-create")
        return Reply(201 if created else 200, self._trigger_json(tpl, t), self._op_headers(req, op) if created
                     else {})

    # -- ARM meta resources ---------------------------------------------------------------------
    def r_subscriptions(self, req: Request, m: re.Match[str]) -> Reply:
        return Reply(200, {"value": [armmeta.subscription_json(LOCAL_SUBSCRIPTION)],
                           "count": {"type": "Total", "value": 1}})

    def r_subscription(self, req: Request, m: re.Match[str]) -> Reply:
        if not armmeta.is_local_subscription(m["sub"]):
            return error_reply(404, "SubscriptionNotFound", f"The subscription '{m['sub']}' could not be found.",
                               None)
        return Reply(200, armmeta.subscription_json(LOCAL_SUBSCRIPTION))

    def r_tenants(self, req: Request, m: re.Match[str]) -> Reply:
        return Reply(200, armmeta.tenants_json())

    def r_locations(self, req: Request, m: re.Match[str]) -> Reply:
        return Reply(200, armmeta.locations_json(m["sub"]))

    def r_providers(self, req: Request, m: re.Match[str]) -> Reply:
        return Reply(200, armmeta.providers_json(m["sub"]))

    def r_provider(self, req: Request, m: re.Match[str]) -> Reply:
        return Reply(200, armmeta.provider_json(m["sub"], m["ns"]))

    def r_provider_register(self, req: Request, m: re.Match[str]) -> Reply:
        return Reply(200, armmeta.provider_json(m["sub"], m["ns"]))

    def r_groups(self, req: Request, m: re.Match[str]) -> Reply:
        return Reply(200, {"value": [armmeta.group_json(g) for g in self.store.list_groups(m["sub"])]})

    def r_group(self, req: Request, m: re.Match[str]) -> Reply:
        sub, rg = m["sub"], m["rg"]
        group = self.store.get_group(sub, rg)
        if req.method in ("GET", "HEAD"):
            if group is None:
                return error_reply(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.", None)
            return Reply(200, armmeta.group_json(group))
        if req.method == "DELETE":
            if group is None:
                return Reply(204)
            left = self.store.delete_group(sub, rg)
            if left:
                return error_reply(409, "Conflict", f"Resource group '{rg}' still holds {len(left)} image "
                                   "template(s); delete them first (the local service does not cascade).", None)
            return Reply(200)
        body, err = self._parse(req)
        if err is not None:
            return err
        if not isinstance(body, dict):
            return error_reply(400, "InvalidRequestContent", "The request content must be a JSON object.", None)
        tags = body.get("tags")
        if tags is not None and not isinstance(tags, dict):
            return error_reply(400, "InvalidParameter", "'tags' must be an object.", None, target="tags")
        if req.method == "PATCH":
            if group is None:
                return error_reply(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.", None)
            self.store.put_group(sub, rg, group["location"], tags if tags is not None else group.get("tags"))
        else:
            location = body.get("location")
            if group is None and (not isinstance(location, str) or not location):
                return error_reply(400, "LocationRequired", "The location property is required for this "
                                   "definition.", None, target="location")
            if not _NAME.match(rg) and not re.match(r"^[-\w._()]{1,90}$", rg):
                return error_reply(400, "InvalidResourceGroupName", f"The resource group name '{rg}' is invalid.",
                                   None)
            self.store.put_group(sub, rg, str(location or group["location"]), tags)  # type: ignore[index]
        now = self.store.get_group(sub, rg)
        assert now is not None
        return Reply(201 if group is None else 200, armmeta.group_json(now))

    def r_group_resources(self, req: Request, m: re.Match[str]) -> Reply:
        if self.store.get_group(m["sub"], m["rg"]) is None:
            return error_reply(404, "ResourceGroupNotFound", f"Resource group '{m['rg']}' could not be found.", None)
        rows, _ = self.store.list_page(m["sub"], m["rg"], None, 1000)
        return Reply(200, {"value": [{"id": self.template_id(t), "name": t.name, "type": TEMPLATE_TYPE,
                                      "location": t.location, **({"tags": t.body["tags"]} if "tags" in t.body
                                                                 else {})} for t in rows]})

    # -- marketplace images ------------------------------------------------------------------
    def r_images(self, req: Request, m: re.Match[str]) -> Reply:
        loc, sub = m["loc"], m["sub"]
        base = f"/Subscriptions/{sub}/Providers/Microsoft.Compute/Locations/{loc}/Publishers"
        v = req.api_version
        if m["pub"] is None:
            return Reply(200, [{"name": p, "location": loc, "id": f"{base}/{p}"} for p in self.catalog.publishers()])
        pub = m["pub"]
        if m["offer"] is None:
            offers = self.catalog.offers(pub)
            if offers is None:
                return error_reply(404, "NotFound", f"Publisher '{pub}' is not in the local catalog.", None)
            return Reply(200, [{"name": o, "location": loc, "id": f"{base}/{pub}/ArtifactTypes/VMImage/Offers/{o}"}
                               for o in offers])
        offer = m["offer"]
        if m["sku"] is None:
            skus = self.catalog.skus(pub, offer)
            if skus is None:
                return error_reply(404, "NotFound", f"Offer '{pub}:{offer}' is not in the local catalog.", None)
            return Reply(200, [{"name": s.sku, "location": loc,
                                "id": f"{base}/{pub}/ArtifactTypes/VMImage/Offers/{offer}/Skus/{s.sku}",
                                "properties": {"osFamily": s.os_family, "hyperVGeneration": s.generation,
                                               **({"multiSession": True} if s.multi_session else {})}}
                               for s in skus])
        img = self.catalog.image(pub, offer, m["sku"])
        if img is None:
            return error_reply(404, "NotFound", f"SKU '{pub}:{offer}:{m['sku']}' is not in the local catalog.", None)
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


def _strip_read_only(body: dict[str, Any]) -> dict[str, Any]:
    """Read-only properties a client sends back (a GET's answer PUT again) are ignored, as ARM does."""
    body = {k: val for k, val in body.items() if k not in ("id", "name", "type", "apiVersion", "systemData")}
    props = body.get("properties")
    if isinstance(props, dict):
        body["properties"] = {k: val for k, val in props.items()
                              if k not in ("provisioningState", "provisioningError", "lastRunStatus")}
    ident = body.get("identity")
    if isinstance(ident, dict) and isinstance(ident.get("userAssignedIdentities"), dict):
        body["identity"] = {**ident, "userAssignedIdentities": {k: {} for k in ident["userAssignedIdentities"]}}
    return body
