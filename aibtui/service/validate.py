"""Validation of a PUT body, as the real service would refuse it (400 with the ARM error envelope).

Two layers: the structural checks the service itself makes before anything else (a body that is a
JSON object, ``location``, ``properties.source``, ``properties.distribute``, unique step names and run
output names), then the compiler's checker (schema of the api-version + the seed rules), whose
error diagnostics become the envelope's ``details``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

LOG = logging.getLogger("aibtui.service")


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    target: str | None = None


def _structural(body: Any) -> list[Problem]:
    if not isinstance(body, dict):
        return [Problem("InvalidRequestContent", "the request body must be a JSON object")]
    out: list[Problem] = []
    if not isinstance(body.get("location"), str) or not body.get("location"):
        out.append(Problem("LocationRequired", "the image template needs a 'location'", "location"))
    props = body.get("properties")
    if not isinstance(props, dict):
        return out + [Problem("InvalidParameter", "the image template needs 'properties'", "properties")]
    if not isinstance(props.get("source"), dict):
        out.append(Problem("InvalidParameter", "'properties.source' is required", "properties.source"))
    dist = props.get("distribute")
    if not isinstance(dist, list) or not dist:
        out.append(Problem("InvalidParameter", "'properties.distribute' needs at least one target",
                           "properties.distribute"))
    else:
        names = [d.get("runOutputName") for d in dist if isinstance(d, dict)]
        for n in {n for n in names if names.count(n) > 1}:
            out.append(Problem("InvalidParameter", f"runOutputName '{n}' is used more than once",
                               "properties.distribute"))
    steps = props.get("customize") or []
    if isinstance(steps, list):
        names = [s.get("name") for s in steps if isinstance(s, dict)]
        for n in {n for n in names if n is not None and names.count(n) > 1}:
            out.append(Problem("InvalidParameter", f"customizer name '{n}' is used more than once",
                               "properties.customize"))
    return out


def _compiler(text: str, body: dict[str, Any], name: str, api_version: str) -> list[Problem]:
    from aibtui.compiler.check import check_model
    from aibtui.compiler.diagnostics import DiagnosticBag
    from aibtui.compiler.model import RESOURCE_TYPE, model_from_node
    from aibtui.compiler.yamlload import load_yaml

    diags = DiagnosticBag()
    node = load_yaml(text, "request body", diags)
    if node is None or diags.has_errors:
        return [Problem(d.code, d.message) for d in diags.errors] or [
            Problem("InvalidRequestContent", "the request body could not be read")]
    model = model_from_node(node, "request body", api_version=api_version, origin="json")
    model.doc = {"type": RESOURCE_TYPE, "apiVersion": api_version, "name": name, **model.doc}
    check_model(model, diags)
    return [Problem(d.code, d.message, str(d.span) if d.span else None) for d in diags.errors]


def validate_body(text: str, name: str, api_version: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The parsed body and the problems that make the service refuse it (empty when valid)."""
    try:
        body = json.loads(text)
    except ValueError as exc:
        return None, [Problem("InvalidRequestContent", f"the request body is not valid JSON: {exc}")]
    problems = _structural(body)
    if problems:
        return body, problems
    try:
        problems = _compiler(text, body, name, api_version)
    except ImportError:  # the compiler's checker is optional for the service; structural checks still hold
        problems = []
    except Exception:  # noqa: BLE001 - a checker bug must not turn into a 500 that clients retry
        LOG.exception("the template checker failed; accepting the structurally valid body")
        problems = []
    return body, problems
