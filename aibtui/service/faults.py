"""Test-only fault injection (enabled with ``--fault-mode`` / ``AIBTUI_FAULT_MODE=1``).

A rule matches a method and a path regex and applies an action for its next ``times`` matches:

- ``429``: answer 429 Too Many Requests with ``Retry-After: retryAfter``;
- ``500`` / ``503``: answer that status with an ARM error envelope;
- ``drop-before``: close the connection without an answer, before the request is processed;
- ``drop-after``: process the request, then close the connection without an answer (the client
  cannot tell whether it worked: a retried POST must not start a second run);
- ``stall``: wait ``seconds`` before processing (the client's read timeout fires first);
- ``unregistered``: answer 409 ``MissingSubscriptionRegistration`` for Microsoft.VirtualMachineImages,
  as ARM does in a subscription where that provider is not registered (the service answers
  ``POST .../providers/NS/register`` and ``GET .../providers/NS``, so a client's automatic
  registration can be tested).

``failStep`` names a customize/validate step that the simulated runner fails.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

ACTIONS = ("429", "500", "503", "drop-before", "drop-after", "stall", "unregistered")


@dataclass
class FaultRule:
    action: str
    method: str = "*"
    path: str = ".*"
    times: int = 1
    retry_after: int = 1
    seconds: float = 5.0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and re.search(self.path, path) is not None


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[FaultRule] = []
        self.fail_step: str | None = None
        self.log: list[str] = []

    def configure(self, data: dict[str, Any]) -> None:
        rules = []
        for r in data.get("rules") or []:
            if r.get("action") not in ACTIONS:
                raise ValueError(f"unknown fault action {r.get('action')!r}; use one of {', '.join(ACTIONS)}")
            rules.append(FaultRule(action=r["action"], method=str(r.get("method", "*")).upper(),
                                   path=str(r.get("path", ".*")), times=int(r.get("times", 1)),
                                   retry_after=int(r.get("retryAfter", 1)), seconds=float(r.get("seconds", 5.0))))
        with self._lock:
            self.rules = rules
            self.fail_step = data.get("failStep")
            self.log = []

    def take(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.hits < rule.times and rule.matches(method, path):
                    rule.hits += 1
                    self.log.append(f"{rule.action} {method} {path}")
                    return rule
        return None

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"failStep": self.fail_step, "applied": list(self.log),
                    "rules": [{"action": r.action, "method": r.method, "path": r.path, "times": r.times,
                               "hits": r.hits} for r in self.rules]}
