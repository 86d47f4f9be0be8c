"""Diagnostic codes for existing template JSON / ARM template inputs (AIB7xx)."""

from __future__ import annotations

from .codeinfo import CodeInfo

E, W, N = "error", "warning", "note"

JSON_CODES: dict[str, CodeInfo] = {
    # -- reading JSON (compiler/jsonload.py) -------------------------------------------------------
    "AIB700": CodeInfo(E, None, "JSON syntax error"),
    "AIB701": CodeInfo(W, None, "duplicate key in a JSON object",
                       "ARM keeps the last one; remove the other so the file says what it means"),
    "AIB702": CodeInfo(E, None, "JSON budget exceeded (size, depth or number of values)",
                       "this looks like a generated or hostile file; an image template is far smaller"),
    # -- finding image templates (compiler/jsoninput.py) ------------------------------------------
    "AIB710": CodeInfo(E, None, "no image template found in the JSON",
                       "give an image template resource, a REST PUT body, or an ARM deployment template "
                       "with a Microsoft.VirtualMachineImages/imageTemplates resource"),
    "AIB711": CodeInfo(N, None, "read-only field ignored",
                       "the service sets it; remove it before you PUT or deploy the template"),
    # S-02: an apiVersion the service does not serve is an error, from JSON as from the dialect (AIB410)
    "AIB712": CodeInfo(E, "S-02", "retired preview apiVersion",
                       "use a stable apiVersion such as 2024-02-01"),
    "AIB713": CodeInfo(N, None, "apiVersion assumed"),
    "AIB714": CodeInfo(E, "S-02", "unknown apiVersion"),
    "AIB715": CodeInfo(N, None, "value is an ARM expression and cannot be checked literally"),
    "AIB716": CodeInfo(E, None, "Bicep files are not read",
                       "compile it with `az bicep build` and check the JSON"),
    "AIB717": CodeInfo(N, None, "part of the ARM template not followed"),
    # -- evaluating ARM templates (compiler/armeval/) ----------------------------------------------
    "AIB720": CodeInfo(N, None, "part of a template not checked: its value is known only at deployment",
                       "give the value with --parameters NAME=VALUE or a parameters file; --strict makes "
                       "anything not checked an error"),
    "AIB721": CodeInfo(W, None, "ARM expression cannot be evaluated",
                       "ARM would refuse the deployment with the same expression; fix it, or check the "
                       "deployed template"),
    "AIB722": CodeInfo(E, None, "ARM evaluation budget exceeded (steps, depth, size or copy count)",
                       "this looks like a runaway or hostile template"),
    "AIB723": CodeInfo(W, None, "parameter given but not declared by the template",
                       "check the name; ARM refuses a deployment with an undeclared parameter"),
    "AIB724": CodeInfo(N, None, "resource not deployed (its condition is false, or it is `existing`)"),
    "AIB725": CodeInfo(E, None, "--parameters value cannot be read",
                       "give NAME=VALUE or an ARM parameters file: {\"parameters\": {\"NAME\": {\"value\": ...}}}"),
    "AIB726": CodeInfo(E, None, "not checked (--strict)",
                       "give the missing values with --parameters, or drop --strict to accept a partial check"),
}
