"""Long-running operations: poll ``Azure-AsyncOperation`` (status body) or ``Location`` (202 until done)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .errors import ArmError, ClientError

if TYPE_CHECKING:
    from .client import ArmClient
    from .http import HttpResponse

TERMINAL = ("Succeeded", "Failed", "Canceled")


class Poller:
    def __init__(self, client: ArmClient, initial: HttpResponse, *, final_via: str,
                 resource_url: str | None = None) -> None:
        self.client = client
        self.initial = initial
        self.final_via = final_via
        self.resource_url = resource_url
        self.async_url = initial.header("azure-asyncoperation")
        self.location_url = initial.header("location")
        self.status = "InProgress" if (self.async_url or self.location_url) and initial.status in (201, 202) \
            else "Succeeded"
        if initial.status == 202 and not (self.async_url or self.location_url):
            self.status = "Succeeded"  # 202 with nothing to poll: accepted, nothing more to learn
        self.error: ArmError | None = None
        self._delay = self._delay_from(initial)

    def _delay_from(self, resp: HttpResponse) -> float:
        from .client import retry_after_seconds

        ra = retry_after_seconds(resp)
        return self.client.retry.poll_interval if ra is None or ra <= 0 else ra

    def done(self) -> bool:
        return self.status in TERMINAL

    def poll_once(self) -> str:
        if self.done():
            return self.status
        if self.async_url:
            resp = self.client.send("GET", self.async_url)
            body = self.client.json(resp) or {}
            status = str(body.get("status") or "InProgress")
            self._delay = self._delay_from(resp)
            if status in TERMINAL:
                self.status = status
                if status != "Succeeded":
                    err = body.get("error") or {}
                    self.error = ArmError(200, str(err.get("code") or status),
                                          str(err.get("message") or f"the operation ended {status}"))
            return self.status
        assert self.location_url
        try:
            resp = self.client.send("GET", self.location_url, ok=(200, 201, 202, 204))
        except ArmError as exc:
            self.status, self.error = "Failed", exc
            return self.status
        self._delay = self._delay_from(resp)
        if resp.status != 202:
            self.status = "Succeeded"
        return self.status

    def wait(self, timeout: float | None = None) -> str:
        """Poll until terminal; returns the status. Raises ClientError on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done():
            self.client.sleep(self._delay)
            self.poll_once()
            if deadline is not None and not self.done() and time.monotonic() > deadline:
                raise ClientError(f"the operation did not finish within {timeout:g}s")
        return self.status

    def result(self, timeout: float | None = None) -> Any:
        """Wait, raise the error of a failed operation, and return the final resource (if any)."""
        self.wait(timeout)
        if self.error is not None:
            raise self.error
        if self.status != "Succeeded":
            raise ClientError(f"the operation ended {self.status}")
        if self.resource_url:
            return self.client.get_json(self.resource_url)
        return None
