"""The ARM template functions.

Three tables:

* ``EAGER``: functions of plain JSON values (``format``, ``split``, ``equals`` ...). Their arguments
  are evaluated first; an unknown argument makes the result unknown; the result is a new node at
  the call.
* ``NODE``: functions that assemble values (``createObject``, ``union``, ``tryGet`` ...). They keep the
  argument nodes as they are, so a passed value keeps its own location, and an unknown member stays
  a member instead of making the whole object unknown.
* ``LAZY``: functions that decide what to evaluate (``if``, ``coalesce``, ``and``, ``or``, the lambda
  functions, ``parameters``, ``variables``, ``copyIndex`` ...), and the deployment-time ones
  (``reference``, ``list*``, ``utcNow``, ``newGuid``), which are unknown.

Semantics follow the documented behaviour of Azure Resource Manager: string comparison in
``indexOf``/``startsWith``/``endsWith`` is case-insensitive, ``contains`` is case-sensitive for strings
and arrays and case-insensitive for object keys, ``string(true)`` is ``True`` (.NET), ``union``
merges nested objects, ``items`` sorts by key, ``div`` truncates toward zero.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urljoin

from ..diagnostics import Span
from ..nodes import Mapping, Node, Scalar, Sequence, lookup
from .evaluator import Env, Evaluator, Src
from .hashes import arm_guid, unique_string
from .values import EvalError, Lambda, Unknown, first_unknown, kind, make, plain

# -- stand-ins for what the deployment target is (documented in docs/arm-evaluation.md) ---------------
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "resource-group"
DEPLOYMENT_NAME = "deployment"

EagerTable = dict[str, tuple[Callable[..., Any], int, int | None]]
NodeTable = dict[str, tuple[Callable[[Evaluator, list[Node], Span], Node], int, int | None]]
LazyTable = dict[str, Callable[[Evaluator, Any, Env, Src, Span], Node]]

EAGER: EagerTable = {}
NODE: NodeTable = {}
LAZY: LazyTable = {}


_F = TypeVar("_F", bound=Callable[..., Any])
_N = TypeVar("_N", bound=Callable[..., Node])


def eager(name: str, lo: int, hi: int | None) -> Callable[[_F], _F]:
    """Register ``fn`` as the ARM function ``name`` on plain values, taking ``lo``..``hi`` arguments."""
    def deco(fn: _F) -> _F:
        EAGER[name.lower()] = (fn, lo, hi)
        return fn
    return deco


def node_fn(name: str, lo: int, hi: int | None) -> Callable[[_N], _N]:
    """Register ``fn`` as the structural ARM function ``name`` (on nodes, keeping unknown members)."""
    def deco(fn: _N) -> _N:
        NODE[name.lower()] = (fn, lo, hi)
        return fn
    return deco


def lazy(name: str) -> Callable[[_N], _N]:
    """Register ``fn`` as the ARM function ``name`` that evaluates its own arguments."""
    def deco(fn: _N) -> _N:
        LAZY[name.lower()] = fn
        return fn
    return deco


# -- conversions ------------------------------------------------------------------------------------

def to_text(v: Any) -> str:
    """ARM's string conversion: .NET ``True``/``False``, compact JSON for objects and arrays."""
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def _str(v: Any, what: str = "argument") -> str:
    if not isinstance(v, str):
        raise EvalError(f"the {what} must be a string, not {_name(v)}")
    return v


def _int(v: Any, what: str = "argument") -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, float) and v.is_integer():
            return int(v)
        raise EvalError(f"the {what} must be an integer, not {_name(v)}")
    return v


def _name(v: Any) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", dict: "an object",
            list: "an array"}.get(type(v), type(v).__name__)


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        if len(a) != len(b):
            return False
        lb = {k.lower(): v for k, v in b.items()}
        return all(k.lower() in lb and _eq(v, lb[k.lower()]) for k, v in a.items())
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_eq(x, y) for x, y in zip(a, b, strict=True))
    return a == b and type(a) is type(b) if not (isinstance(a, (int, float)) and isinstance(b, (int, float))) \
        else a == b


# -- string functions --------------------------------------------------------------------------------

@eager("base64", 1, 1)
def _base64(s: Any) -> str:
    return base64.b64encode(_str(s).encode("utf-8")).decode("ascii")


@eager("base64ToString", 1, 1)
def _b64s(s: Any) -> str:
    return base64.b64decode(_str(s)).decode("utf-8")


@eager("base64ToJson", 1, 1)
def _b64j(s: Any) -> Any:
    return json.loads(base64.b64decode(_str(s)).decode("utf-8"))


@eager("dataUri", 1, 1)
def _data_uri(s: Any) -> str:
    return "data:text/plain;charset=utf8;base64," + _base64(to_text(s))


@eager("dataUriToString", 1, 1)
def _data_uri_to_string(s: Any) -> str:
    text = _str(s)
    head, _, data = text.partition(",")
    if ";base64" in head:
        return base64.b64decode(data).decode("utf-8")
    return unquote(data)


@eager("concat", 0, None)
def _concat(*args: Any) -> Any:
    if args and all(isinstance(a, list) or a is None for a in args) and any(isinstance(a, list) for a in args):
        out: list[Any] = []
        for a in args:
            out.extend(a or [])
        return out
    for a in args:
        if isinstance(a, (dict, list)):
            raise EvalError(f"concat() joins strings or arrays, not {_name(a)} with strings")
    return "".join(to_text(a) for a in args)


_FORMAT_ITEM = re.compile(r"\{\{|\}\}|\{(\d+)(?:,(-?\d+))?(?::([^}]*))?\}")


@eager("format", 1, None)
def _format(fmt: Any, *args: Any) -> str:
    text = _str(fmt, "format string")

    def item(m: re.Match[str]) -> str:
        whole = m.group(0)
        if whole == "{{":
            return "{"
        if whole == "}}":
            return "}"
        i = int(m.group(1))
        if i >= len(args):
            raise EvalError(f"format(): {{{i}}} refers to argument {i}, but only {len(args)} are given")
        out = _format_value(args[i], m.group(3))
        if m.group(2):
            width = int(m.group(2))
            out = out.ljust(-width) if width < 0 else out.rjust(width)
        return out

    return _FORMAT_ITEM.sub(item, text)


def _format_value(v: Any, spec: str | None) -> str:
    if not spec or isinstance(v, (str, bool)) or v is None:
        return to_text(v)
    letter, digits = spec[0].upper(), spec[1:]
    n = int(digits) if digits.isdigit() else None
    if isinstance(v, (int, float)):
        if letter == "D" and isinstance(v, int):
            return str(v).zfill(n or 0) if v >= 0 else "-" + str(-v).zfill(n or 0)
        if letter == "N":
            return f"{v:,.{2 if n is None else n}f}"
        if letter == "F":
            return f"{v:.{2 if n is None else n}f}"
        if letter == "X" and isinstance(v, int):
            out = format(v, "X" if spec[0] == "X" else "x")
            return out.zfill(n or 0)
        if set(spec) <= {"0", "#", "."}:
            zeros = spec.split(".")[0].count("0")
            return str(int(v)).zfill(zeros) if isinstance(v, int) else to_text(v)
    return to_text(v)


@eager("guid", 1, None)
def _guid(*args: Any) -> str:
    return arm_guid(*[_str(a) for a in args])


@eager("uniqueString", 1, None)
def _unique(*args: Any) -> str:
    return unique_string(*[_str(a) for a in args])


@eager("indexOf", 2, 2)
def _index_of(container: Any, item: Any) -> int:
    if isinstance(container, str):
        return container.lower().find(_str(item).lower())
    if isinstance(container, list):
        return next((i for i, v in enumerate(container) if _eq(v, item)), -1)
    raise EvalError(f"indexOf() needs a string or an array, not {_name(container)}")


@eager("lastIndexOf", 2, 2)
def _last_index_of(container: Any, item: Any) -> int:
    if isinstance(container, str):
        return container.lower().rfind(_str(item).lower())
    if isinstance(container, list):
        return next((i for i in range(len(container) - 1, -1, -1) if _eq(container[i], item)), -1)
    raise EvalError(f"lastIndexOf() needs a string or an array, not {_name(container)}")


@eager("startsWith", 2, 2)
def _starts(s: Any, p: Any) -> bool:
    return _str(s).lower().startswith(_str(p).lower())


@eager("endsWith", 2, 2)
def _ends(s: Any, p: Any) -> bool:
    return _str(s).lower().endswith(_str(p).lower())


@eager("join", 2, 2)
def _join(items: Any, sep: Any) -> str:
    if not isinstance(items, list):
        raise EvalError(f"join() needs an array, not {_name(items)}")
    return _str(sep, "delimiter").join(to_text(i) for i in items)


@eager("json", 1, 1)
def _json(s: Any) -> Any:
    try:
        return json.loads(_str(s))
    except json.JSONDecodeError as exc:
        raise EvalError(f"json(): not valid JSON ({exc.msg})") from None


@eager("padLeft", 2, 3)
def _pad_left(v: Any, total: Any, ch: Any = " ") -> str:
    text = to_text(v)
    c = _str(ch, "padding character")
    if len(c) != 1:
        raise EvalError("padLeft(): the padding is one character")
    n = _int(total, "total length")
    if n > 1_000_000:
        raise EvalError("padLeft(): the total length is too large")
    return text.rjust(n, c)


@eager("replace", 3, 3)
def _replace(s: Any, old: Any, new: Any) -> str:
    old_s = _str(old, "text to replace")
    if not old_s:
        raise EvalError("replace(): the text to replace is empty")
    return _str(s).replace(old_s, _str(new, "replacement"))


@eager("split", 2, 2)
def _split(s: Any, delims: Any) -> list[str]:
    text = _str(s)
    seps = delims if isinstance(delims, list) else [delims]
    seps = [_str(d, "delimiter") for d in seps if d != ""]
    if not seps:
        return [text]
    return re.split("|".join(re.escape(d) for d in seps), text)


@eager("string", 1, 1)
def _string(v: Any) -> str:
    return to_text(v)


@eager("substring", 2, 3)
def _substring(s: Any, start: Any, length: Any = None) -> str:
    text = _str(s)
    a = _int(start, "start index")
    if a < 0 or a > len(text):
        raise EvalError(f"substring(): start {a} is outside the string of {len(text)} characters")
    if length is None:
        return text[a:]
    n = _int(length, "length")
    if n < 0 or a + n > len(text):
        raise EvalError(f"substring(): {a} + {n} is past the end of the string of {len(text)} characters")
    return text[a:a + n]


@eager("toLower", 1, 1)
def _lower(s: Any) -> str:
    return _str(s).lower()


@eager("toUpper", 1, 1)
def _upper(s: Any) -> str:
    return _str(s).upper()


@eager("trim", 1, 1)
def _trim(s: Any) -> str:
    return _str(s).strip()


@eager("uri", 2, 2)
def _uri(base: Any, rel: Any) -> str:
    return urljoin(_str(base, "base URI"), _str(rel, "relative URI"))


@eager("uriComponent", 1, 1)
def _uri_component(s: Any) -> str:
    return quote(_str(s), safe="-_.~")


@eager("uriComponentToString", 1, 1)
def _uri_component_to_string(s: Any) -> str:
    return unquote(_str(s))


# -- strings and arrays alike ---------------------------------------------------------------------

@eager("empty", 1, 1)
def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, (str, list, dict)) and len(v) == 0)


@eager("length", 1, 1)
def _length(v: Any) -> int:
    if isinstance(v, (str, list, dict)):
        return len(v)
    raise EvalError(f"length() needs a string, an array or an object, not {_name(v)}")


@eager("first", 1, 1)
def _first(v: Any) -> Any:
    if isinstance(v, (str, list)):
        return v[0] if v else ("" if isinstance(v, str) else None)
    raise EvalError(f"first() needs a string or an array, not {_name(v)}")


@eager("last", 1, 1)
def _last(v: Any) -> Any:
    if isinstance(v, (str, list)):
        return v[-1] if v else ("" if isinstance(v, str) else None)
    raise EvalError(f"last() needs a string or an array, not {_name(v)}")


@eager("skip", 2, 2)
def _skip(v: Any, n: Any) -> Any:
    if not isinstance(v, (str, list)):
        raise EvalError(f"skip() needs a string or an array, not {_name(v)}")
    return v[max(0, _int(n)):]


@eager("take", 2, 2)
def _take(v: Any, n: Any) -> Any:
    if not isinstance(v, (str, list)):
        raise EvalError(f"take() needs a string or an array, not {_name(v)}")
    return v[:max(0, _int(n))]


# -- arrays ------------------------------------------------------------------------------------------

@eager("array", 1, 1)
def _array(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


@eager("range", 2, 2)
def _range(start: Any, count: Any) -> list[int]:
    a, n = _int(start, "start"), _int(count, "count")
    if n < 0 or n > 10_000:
        raise EvalError(f"range(): count {n} must be between 0 and 10000")
    return list(range(a, a + n))


@eager("flatten", 1, 1)
def _flatten(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise EvalError(f"flatten() needs an array of arrays, not {_name(v)}")
    out: list[Any] = []
    for item in v:
        if not isinstance(item, list):
            raise EvalError(f"flatten() needs an array of arrays; an item is {_name(item)}")
        out.extend(item)
    return out


@eager("indexFromEnd", 2, 2)
def _index_from_end(v: Any, i: Any) -> Any:
    n = _int(i, "index")
    if not isinstance(v, list) or n < 1 or n > len(v):
        raise EvalError("indexFromEnd(): the index is outside the array")
    return v[-n]


@eager("tryIndexFromEnd", 2, 2)
def _try_index_from_end(v: Any, i: Any) -> Any:
    n = _int(i, "index")
    if not isinstance(v, list) or n < 1 or n > len(v):
        return None
    return v[-n]


@eager("min", 1, None)
def _min(*args: Any) -> Any:
    values = args[0] if len(args) == 1 and isinstance(args[0], list) else list(args)
    if not values:
        raise EvalError("min() of nothing")
    return min(values)


@eager("max", 1, None)
def _max(*args: Any) -> Any:
    values = args[0] if len(args) == 1 and isinstance(args[0], list) else list(args)
    if not values:
        raise EvalError("max() of nothing")
    return max(values)


@eager("intersection", 2, None)
def _intersection(*args: Any) -> Any:
    if all(isinstance(a, dict) for a in args):
        first = dict(args[0])
        for other in args[1:]:
            first = {k: v for k, v in first.items() if k in other and _eq(v, other[k])}
        return first
    if all(isinstance(a, list) for a in args):
        out: list[Any] = []
        for item in args[0]:
            if all(any(_eq(item, x) for x in other) for other in args[1:]) and not any(_eq(item, o) for o in out):
                out.append(item)
        return out
    raise EvalError("intersection() needs all objects or all arrays")


@eager("items", 1, 1)
def _items(v: Any) -> list[dict[str, Any]]:
    if not isinstance(v, dict):
        raise EvalError(f"items() needs an object, not {_name(v)}")
    return [{"key": k, "value": v[k]} for k in sorted(v, key=str.lower)]


@eager("objectKeys", 1, 1)
def _object_keys(v: Any) -> list[str]:
    if not isinstance(v, dict):
        raise EvalError(f"objectKeys() needs an object, not {_name(v)}")
    return list(v)


@eager("contains", 2, 2)
def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return to_text(item) in container
    if isinstance(container, list):
        return any(_eq(v, item) for v in container)
    if isinstance(container, dict):
        key = to_text(item).lower()
        return any(k.lower() == key for k in container)
    if container is None:
        return False
    raise EvalError(f"contains() needs a string, an array or an object, not {_name(container)}")


# -- comparison and logic ------------------------------------------------------------------------------

@eager("equals", 2, 2)
def _equals(a: Any, b: Any) -> bool:
    return _eq(a, b)


def _ordered(a: Any, b: Any, name: str) -> tuple[Any, Any]:
    num = (int, float)
    if isinstance(a, bool) or isinstance(b, bool) or not (
            (isinstance(a, num) and isinstance(b, num)) or (isinstance(a, str) and isinstance(b, str))):
        raise EvalError(f"{name}() compares two numbers or two strings, not {_name(a)} and {_name(b)}")
    return a, b


@eager("less", 2, 2)
def _less(a: Any, b: Any) -> bool:
    x, y = _ordered(a, b, "less")
    return bool(x < y)


@eager("lessOrEquals", 2, 2)
def _less_eq(a: Any, b: Any) -> bool:
    x, y = _ordered(a, b, "lessOrEquals")
    return bool(x <= y)


@eager("greater", 2, 2)
def _greater(a: Any, b: Any) -> bool:
    x, y = _ordered(a, b, "greater")
    return bool(x > y)


@eager("greaterOrEquals", 2, 2)
def _greater_eq(a: Any, b: Any) -> bool:
    x, y = _ordered(a, b, "greaterOrEquals")
    return bool(x >= y)


@eager("not", 1, 1)
def _not(v: Any) -> bool:
    if not isinstance(v, bool):
        raise EvalError(f"not() needs a boolean, not {_name(v)}")
    return not v


@eager("bool", 1, 1)
def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    raise EvalError(f"bool() cannot convert {_name(v)} {to_text(v)[:40]!r}")


@eager("true", 0, 0)
def _true() -> bool:
    return True


@eager("false", 0, 0)
def _false() -> bool:
    return False


@eager("null", 0, 0)
def _null() -> None:
    return None


# -- numbers ----------------------------------------------------------------------------------------------

@eager("int", 1, 1)
def _to_int(v: Any) -> int:
    if isinstance(v, bool):
        raise EvalError("int() of a boolean")
    if isinstance(v, (int, float)):
        return int(v)
    try:
        return int(_str(v).strip())
    except ValueError:
        raise EvalError(f"int() cannot convert {v!r}") from None


@eager("float", 1, 1)
def _to_float(v: Any) -> float:
    if isinstance(v, bool):
        raise EvalError("float() of a boolean")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise EvalError(f"float() cannot convert {to_text(v)[:40]!r}") from None


def _nums(name: str, a: Any, b: Any) -> tuple[int, int]:
    return _int(a, f"first argument of {name}()"), _int(b, f"second argument of {name}()")


@eager("add", 2, 2)
def _add(a: Any, b: Any) -> int:
    x, y = _nums("add", a, b)
    return x + y


@eager("sub", 2, 2)
def _sub(a: Any, b: Any) -> int:
    x, y = _nums("sub", a, b)
    return x - y


@eager("mul", 2, 2)
def _mul(a: Any, b: Any) -> int:
    x, y = _nums("mul", a, b)
    return x * y


@eager("div", 2, 2)
def _div(a: Any, b: Any) -> int:
    x, y = _nums("div", a, b)
    if y == 0:
        raise EvalError("div() by zero")
    return int(math.trunc(x / y)) if abs(x) < 2**52 else (abs(x) // abs(y)) * (1 if (x < 0) == (y < 0) else -1)


@eager("mod", 2, 2)
def _mod(a: Any, b: Any) -> int:
    x, y = _nums("mod", a, b)
    if y == 0:
        raise EvalError("mod() by zero")
    return int(math.fmod(x, y))


# -- resource ids -------------------------------------------------------------------------------------

def _type_and_names(args: tuple[Any, ...], fn: str) -> tuple[list[str], str, list[str]]:
    """Split ``[scope parts...], type, names...`` where the type has one name per segment."""
    texts = [_str(a, f"argument of {fn}()") for a in args]
    for i, t in enumerate(texts):
        if "/" in t and "." in t.split("/")[0]:
            rtype = t
            names = texts[i + 1:]
            segments = len(rtype.strip("/").split("/")) - 1
            if len(names) != segments:
                raise EvalError(f"{fn}(): type {rtype} needs {segments} name{'s' * (segments != 1)}, "
                                f"{len(names)} given")
            return texts[:i], rtype, names
    raise EvalError(f"{fn}(): no resource type (like Microsoft.Provider/type) among the arguments")


def _provider_path(rtype: str, names: list[str]) -> str:
    parts = rtype.strip("/").split("/")
    out = f"providers/{parts[0]}/{parts[1]}/{names[0]}"
    for seg, name in zip(parts[2:], names[1:], strict=True):
        out += f"/{seg}/{name}"
    return out


@eager("resourceId", 2, None)
def _resource_id(*args: Any) -> str:
    scope, rtype, names = _type_and_names(args, "resourceId")
    if len(scope) > 2:
        raise EvalError("resourceId(): too many arguments before the resource type")
    sub = scope[0] if len(scope) == 2 else SUBSCRIPTION_ID
    rg = scope[-1] if scope else RESOURCE_GROUP
    return f"/subscriptions/{sub}/resourceGroups/{rg}/{_provider_path(rtype, names)}"


@eager("subscriptionResourceId", 2, None)
def _subscription_resource_id(*args: Any) -> str:
    scope, rtype, names = _type_and_names(args, "subscriptionResourceId")
    sub = scope[0] if scope else SUBSCRIPTION_ID
    return f"/subscriptions/{sub}/{_provider_path(rtype, names)}"


@eager("tenantResourceId", 2, None)
def _tenant_resource_id(*args: Any) -> str:
    _, rtype, names = _type_and_names(args, "tenantResourceId")
    return f"/{_provider_path(rtype, names)}"


@eager("managementGroupResourceId", 2, None)
def _mg_resource_id(*args: Any) -> str:
    scope, rtype, names = _type_and_names(args, "managementGroupResourceId")
    mg = scope[0] if scope else "management-group"
    return f"/providers/Microsoft.Management/managementGroups/{mg}/{_provider_path(rtype, names)}"


@eager("extensionResourceId", 3, None)
def _extension_resource_id(base: Any, *rest: Any) -> str:
    _, rtype, names = _type_and_names(rest, "extensionResourceId")
    return f"{_str(base).rstrip('/')}/{_provider_path(rtype, names)}"


@eager("subscription", 0, 0)
def _subscription() -> dict[str, Any]:
    return {"id": f"/subscriptions/{SUBSCRIPTION_ID}", "subscriptionId": SUBSCRIPTION_ID, "tenantId": TENANT_ID,
            "displayName": "subscription"}


@eager("tenant", 0, 0)
def _tenant() -> dict[str, Any]:
    return {"id": f"/tenants/{TENANT_ID}", "tenantId": TENANT_ID, "countryCode": "US", "displayName": "tenant"}


@eager("managementGroup", 0, 1)
def _management_group(name: Any = "management-group") -> dict[str, Any]:
    return {"id": f"/providers/Microsoft.Management/managementGroups/{to_text(name)}", "name": to_text(name),
            "type": "/providers/Microsoft.Management/managementGroups", "properties": {}}


@eager("environment", 0, 0)
def _environment() -> dict[str, Any]:
    return {
        "name": "AzureCloud",
        "gallery": "https://gallery.azure.com/",
        "graph": "https://graph.windows.net/",
        "portal": "https://portal.azure.com",
        "resourceManager": "https://management.azure.com/",
        "authentication": {"loginEndpoint": "https://login.microsoftonline.com/",
                           "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
                           "tenant": "common", "identityProvider": "AAD"},
        "suffixes": {"acrLoginServer": ".azurecr.io", "keyvaultDns": ".vault.azure.net",
                     "sqlServerHostname": ".database.windows.net", "storage": "core.windows.net"},
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/"
                           "quickstart-templates/aliases.json",
    }


@lazy("resourceGroup")
def _resource_group(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    if node[2]:
        raise EvalError("resourceGroup() takes no arguments", span)
    if not ev.standins and not env.scope.resource_group:
        return Unknown(span, "resourceGroup()", "the resource group is known when it is deployed")
    rg = env.scope.resource_group or RESOURCE_GROUP
    sub = env.scope.subscription or SUBSCRIPTION_ID
    out = make({"id": f"/subscriptions/{sub}/resourceGroups/{rg}", "name": rg,
                "type": "Microsoft.Resources/resourceGroups", "managedBy": None, "tags": {},
                "properties": {"provisioningState": "Succeeded"}}, span)
    assert isinstance(out, Mapping)
    out.items["location"] = env.scope.location or Unknown(
        span, "resourceGroup().location", "the resource group's location is known only at deployment "
        "(pass `location` explicitly to check it)")
    out.key_spans["location"] = span
    return out


@lazy("deployment")
def _deployment(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    if node[2]:
        raise EvalError("deployment() takes no arguments", span)
    if not ev.standins and not env.scope.deployment_name:
        return Unknown(span, "deployment()", "the deployment is known when it is deployed")
    out = make({"name": env.scope.deployment_name or DEPLOYMENT_NAME,
                "properties": {"mode": "Incremental", "provisioningState": "Accepted"}}, span)
    assert isinstance(out, Mapping)
    props = out.items["properties"]
    assert isinstance(props, Mapping)
    props.items["templateLink"] = Unknown(span, "deployment().properties.templateLink",
                                          "the template's link is known when it is deployed from a URI")
    props.key_spans["templateLink"] = span
    out.items["location"] = env.scope.location if env.scope.location is not None else Unknown(
        span, "deployment().location", "the deployment's location is given when it is deployed")
    out.key_spans["location"] = span
    return out


# -- objects and arrays that keep their members' nodes ---------------------------------------------

@node_fn("createObject", 0, None)
def _create_object(ev: Evaluator, args: list[Node], span: Span) -> Node:
    if len(args) % 2:
        raise EvalError("createObject() takes key, value pairs", span)
    items: dict[str, Node] = {}
    spans: dict[str, Span] = {}
    for i in range(0, len(args), 2):
        k = args[i]
        if isinstance(k, Unknown):
            return Unknown(span, "createObject(...)", k.reason, k.parameter)
        if not (isinstance(k, Scalar) and isinstance(k.value, str)):
            raise EvalError("createObject(): a key must be a string", k.span)
        items[k.value] = args[i + 1]
        spans[k.value] = k.span
    ev.check_size(items, span)
    return Mapping(span, items, spans)


@node_fn("createArray", 0, None)
def _create_array(ev: Evaluator, args: list[Node], span: Span) -> Node:
    return Sequence(span, list(args))


def _is_null(n: Node) -> bool:
    return isinstance(n, Scalar) and n.value is None


@node_fn("union", 1, None)
def _union(ev: Evaluator, args: list[Node], span: Span) -> Node:
    for a in args:
        if isinstance(a, Unknown):
            return Unknown(span, "union(...)", a.reason, a.parameter)
    if all(isinstance(a, Mapping) or _is_null(a) for a in args):
        result: Mapping = Mapping(span)
        for a in args:
            if isinstance(a, Mapping):
                result = _merge(result, a, span, deep=True)
        return result
    if all(isinstance(a, Sequence) or _is_null(a) for a in args):
        out: list[Node] = []
        seen: list[Any] = []
        for a in args:
            if not isinstance(a, Sequence):
                continue
            for item in a.items:
                u = first_unknown(item)
                if u is not None:
                    return Unknown(span, "union(...)", u.reason, u.parameter)
                p = plain(item)
                if not any(_eq(p, s) for s in seen):
                    seen.append(p)
                    out.append(item)
        return Sequence(span, out)
    raise EvalError("union() needs all objects or all arrays", span)


def _merge(a: Mapping, b: Mapping, span: Span, *, deep: bool) -> Mapping:
    items = dict(a.items)
    spans = dict(a.key_spans)
    lower = {k.lower(): k for k in items}
    for k, v in b.items.items():
        old_key = lower.get(k.lower())
        if old_key is not None:
            old = items.pop(old_key)
            spans.pop(old_key, None)
            if deep and isinstance(old, Mapping) and isinstance(v, Mapping):
                v = _merge(old, v, span, deep=True)
        items[k] = v
        spans[k] = b.key_spans.get(k, v.span)
        lower[k.lower()] = k
    return Mapping(span, items, spans)


@node_fn("shallowMerge", 1, 1)
def _shallow_merge(ev: Evaluator, args: list[Node], span: Span) -> Node:
    arr = args[0]
    if isinstance(arr, Unknown):
        return Unknown(span, "shallowMerge(...)", arr.reason, arr.parameter)
    if not isinstance(arr, Sequence):
        raise EvalError("shallowMerge() needs an array of objects", span)
    result = Mapping(span)
    for item in arr.items:
        if isinstance(item, Unknown):
            return Unknown(span, "shallowMerge(...)", item.reason, item.parameter)
        if _is_null(item):
            continue
        if not isinstance(item, Mapping):
            raise EvalError("shallowMerge(): every item must be an object", item.span)
        result = _merge(result, item, span, deep=False)
    return result


@node_fn("tryGet", 2, None)
def _try_get(ev: Evaluator, args: list[Node], span: Span) -> Node:
    cur = args[0]
    for key in args[1:]:
        if isinstance(cur, Unknown):
            return cur
        k = key.value if isinstance(key, Scalar) else None
        if isinstance(cur, Mapping) and isinstance(k, str):
            hit = lookup(cur, k)
            if hit is None:
                return Scalar(span, None, plain=False)
            cur = hit
        elif isinstance(cur, Sequence) and isinstance(k, int) and not isinstance(k, bool):
            if not 0 <= k < len(cur.items):
                return Scalar(span, None, plain=False)
            cur = cur.items[k]
        else:
            return Scalar(span, None, plain=False)
    return cur


# -- functions that choose what to evaluate -------------------------------------------------------------

def _args(node: Any, lo: int, hi: int | None, span: Span) -> tuple[Any, ...]:
    args = node[2]
    if len(args) < lo or (hi is not None and len(args) > hi):
        want = f"{lo}" if lo == hi else f"{lo} or more" if hi is None else f"{lo} to {hi}"
        raise EvalError(f"{node[1]}() takes {want} arguments, not {len(args)}", span)
    return tuple(args)


def _bool_of(n: Node, what: str) -> bool | None:
    if isinstance(n, Unknown):
        return None
    v = n.value if isinstance(n, Scalar) else None
    if not isinstance(v, bool):
        raise EvalError(f"{what} must be a boolean, not {kind(n)}", n.span)
    return v


@lazy("if")
def _if(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    cond_ast, yes, no = _args(node, 3, 3, span)
    cond = ev.ev(cond_ast, env, src)
    c = _bool_of(cond, "the condition of if()")
    if c is None:
        assert isinstance(cond, Unknown)
        return Unknown(span, _residual_of(ev, node, env, src, [cond, yes, no]), cond.reason, cond.parameter)
    return ev.ev(yes if c else no, env, src)


def _residual_of(ev: Evaluator, node: Any, env: Env, src: Src, parts: list[Any]) -> str:
    """``name(args)`` with each argument as a residual: values already computed, and the others
    evaluated now (known parts become literals); the source text when one cannot be evaluated."""
    from .evaluator import residual_call

    values: list[Node] = []
    for part in parts:
        if isinstance(part, Node):
            values.append(part)
            continue
        try:
            values.append(ev.ev(part, env, src))
        except EvalError:
            return src.part(node)
    if any(isinstance(v, Lambda) for v in values):
        return src.part(node)
    return residual_call(src, node, values)


def _short_circuit(ev: Evaluator, node: Any, env: Env, src: Src, span: Span, name: str, stop: bool) -> Node:
    """and() (``stop`` False) / or() (``stop`` True): the first argument equal to ``stop`` decides;
    otherwise an unknown argument makes the whole unknown, else the result is ``not stop``."""
    unknown: Unknown | None = None
    values: list[Node] = []
    for a in _args(node, 1, None, span):
        v = ev.ev(a, env, src)
        values.append(v)
        b = _bool_of(v, f"an argument of {name}()")
        if b is stop:
            return Scalar(span, stop, plain=False)
        if b is None:
            unknown = unknown or v  # type: ignore[assignment]
    if unknown is not None:
        return Unknown(span, _residual_of(ev, node, env, src, values), unknown.reason, unknown.parameter)
    return Scalar(span, not stop, plain=False)


@lazy("and")
def _and(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    return _short_circuit(ev, node, env, src, span, "and", False)


@lazy("or")
def _or(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    return _short_circuit(ev, node, env, src, span, "or", True)


@lazy("coalesce")
def _coalesce(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    args = _args(node, 1, None, span)
    for i, a in enumerate(args):
        v = ev.ev(a, env, src)
        if isinstance(v, Unknown):
            if i == len(args) - 1:
                return v
            # unknown if it is null: coalesce(it, the rest), the rest evaluated where it can be
            return Unknown(span, _residual_of(ev, node, env, src, [v, *args[i + 1:]]), v.reason, v.parameter)
        if not _is_null(v):
            return v
    return Scalar(span, None, plain=False)


@lazy("parameters")
def _parameters(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    (arg,) = _args(node, 1, 1, span)
    name = ev.ev(arg, env, src)
    if isinstance(name, Unknown):
        return name
    if not (isinstance(name, Scalar) and isinstance(name.value, str)):
        raise EvalError("parameters() needs a parameter name", span)
    if env.fparams is not None:
        hit = env.fparams.get(name.value.lower())
        if hit is None:
            raise EvalError(f"the function has no parameter '{name.value}'", span)
        return hit
    return env.scope.parameter(ev, name.value, span)


@lazy("variables")
def _variables(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    (arg,) = _args(node, 1, 1, span)
    name = ev.ev(arg, env, src)
    if isinstance(name, Unknown):
        return name
    if not (isinstance(name, Scalar) and isinstance(name.value, str)):
        raise EvalError("variables() needs a variable name", span)
    if env.fparams is not None:
        raise EvalError("a user-defined function cannot read variables", span)
    return env.scope.variable(ev, name.value, span)


@lazy("copyIndex")
def _copy_index(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    args = [ev.ev(a, env, src) for a in _args(node, 0, 2, span)]
    name = ""
    offset = 0
    for a in args:
        if isinstance(a, Unknown):
            return a
        v = a.value if isinstance(a, Scalar) else None
        if isinstance(v, str):
            name = v
        elif isinstance(v, int) and not isinstance(v, bool):
            offset = v
        else:
            raise EvalError("copyIndex() takes a loop name and/or an offset", span)
    index = env.copies.get(name.lower())
    if index is None:
        where = f"a copy loop named '{name}'" if name else "a copy loop"
        raise EvalError(f"copyIndex() is used outside {where}", span)
    return Scalar(span, index + offset, plain=False)


@lazy("lambda")
def _lambda(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    args = _args(node, 1, None, span)
    names: list[str] = []
    for a in args[:-1]:
        if a[0] != "lit" or not isinstance(a[1], str):
            raise EvalError("lambda(): the variable names must be string literals", span)
        names.append(a[1])
    return Lambda(span, tuple(names), args[-1], env, src)


@lazy("lambdaVariables")
def _lambda_variables(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    (arg,) = _args(node, 1, 1, span)
    name = ev.ev(arg, env, src)
    key = name.value.lower() if isinstance(name, Scalar) and isinstance(name.value, str) else None
    if key is None or key not in env.lambdas:
        raise EvalError(f"lambdaVariables(): no lambda variable {to_text(getattr(name, 'value', ''))!r}", span)
    return env.lambdas[key]


def _lambda_args(ev: Evaluator, node: Any, env: Env, src: Src, span: Span, name: str, low: int, high: int,
                 *, obj: bool = False) -> Unknown | tuple[Any, list[Node]]:
    """The (collection, lambda, ...) arguments of the lambda function ``name``, checked: their count,
    then the collection (an array, or an object with ``obj``). An Unknown when the collection is
    known only at deployment time."""
    _args(node, low, high, span)
    args = [ev.ev(a, env, src) for a in node[2]]
    coll = args[0]
    if (u := _unknown_of(node, src, span, coll)) is not None:
        return u
    if not isinstance(coll, Mapping if obj else Sequence):
        raise EvalError(f"{name}() needs {'an object' if obj else 'an array'}", span)
    return coll, args[1:]


def _unknown_of(node: Any, src: Src, span: Span, *values: Node) -> Unknown | None:
    for v in values:
        if isinstance(v, Unknown):
            return Unknown(span, src.part(node), v.reason, v.parameter)
    return None


@lazy("map")
def _map(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    args = _lambda_args(ev, node, env, src, span, "map", 2, 2)
    if isinstance(args, Unknown):
        return args
    coll, (fn,) = args
    return Sequence(span, [ev.apply(fn, [item, Scalar(span, i, plain=False)], span)
                           for i, item in enumerate(coll.items)])


@lazy("filter")
def _filter(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    args = _lambda_args(ev, node, env, src, span, "filter", 2, 2)
    if isinstance(args, Unknown):
        return args
    coll, (fn,) = args
    out = []
    for i, item in enumerate(coll.items):
        keep = ev.apply(fn, [item, Scalar(span, i, plain=False)], span)
        b = _bool_of(keep, "the lambda of filter()")
        if b is None:
            return Unknown(span, src.part(node), keep.reason)  # type: ignore[attr-defined]
        if b:
            out.append(item)
    return Sequence(span, out)


@lazy("reduce")
def _reduce(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    args = _lambda_args(ev, node, env, src, span, "reduce", 3, 3)
    if isinstance(args, Unknown):
        return args
    coll, (acc, fn) = args
    for i, item in enumerate(coll.items):
        acc = ev.apply(fn, [acc, item, Scalar(span, i, plain=False)], span)
    return acc


@lazy("sort")
def _sort(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    args = _lambda_args(ev, node, env, src, span, "sort", 2, 2)
    if isinstance(args, Unknown):
        return args
    coll, (fn,) = args
    items = list(coll.items)
    # insertion sort with the lambda as "a comes before b" (stable; arrays here are small)
    out: list[Node] = []
    for item in items:
        pos = len(out)
        while pos > 0:
            before = _bool_of(ev.apply(fn, [item, out[pos - 1]], span), "the lambda of sort()")
            if before is None:
                return Unknown(span, src.part(node), "sort() compares values known only at deployment")
            if not before:
                break
            pos -= 1
        out.insert(pos, item)
    return Sequence(span, out)


@lazy("toObject")
def _to_object(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    args = _lambda_args(ev, node, env, src, span, "toObject", 2, 3)
    if isinstance(args, Unknown):
        return args
    coll, fns = args
    items: dict[str, Node] = {}
    spans: dict[str, Span] = {}
    for item in coll.items:
        key = ev.apply(fns[0], [item], span)
        if isinstance(key, Unknown):
            return Unknown(span, src.part(node), key.reason, key.parameter)
        if not (isinstance(key, Scalar) and isinstance(key.value, str)):
            raise EvalError("toObject(): the key lambda must return a string", span)
        items[key.value] = ev.apply(fns[1], [item], span) if len(fns) > 1 else item
        spans[key.value] = key.span
    return Mapping(span, items, spans)


@lazy("mapValues")
def _map_values(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    args = _lambda_args(ev, node, env, src, span, "mapValues", 2, 2, obj=True)
    if isinstance(args, Unknown):
        return args
    obj, (fn,) = args
    return Mapping(span, {k: ev.apply(fn, [v], span) for k, v in obj.items.items()}, dict(obj.key_spans))


@lazy("groupBy")
def _group_by(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
    args = _lambda_args(ev, node, env, src, span, "groupBy", 2, 2)
    if isinstance(args, Unknown):
        return args
    coll, (fn,) = args
    groups: dict[str, list[Node]] = {}
    for item in coll.items:
        key = ev.apply(fn, [item], span)
        if isinstance(key, Unknown):
            return Unknown(span, src.part(node), key.reason, key.parameter)
        groups.setdefault(to_text(plain(key)), []).append(item)
    return Mapping(span, {k: Sequence(span, v) for k, v in groups.items()}, dict.fromkeys(groups, span))


# -- known only at deployment time -----------------------------------------------------------------------

def _deploy_time(reason: str) -> Callable[[Evaluator, Any, Env, Src, Span], Node]:
    def fn(ev: Evaluator, node: Any, env: Env, src: Src, span: Span) -> Node:
        return Unknown(span, _residual_of(ev, node, env, src, list(node[2])), reason)
    return fn


_DEPLOY_TIME = {
    "reference": "reference() reads a resource's state at deployment time",
    "newguid": "newGuid() is new at every deployment",
    "utcnow": "utcNow() is the time of the deployment",
    "pickzones": "pickZones() depends on the region's zones at deployment time",
    "providers": "providers() asks the resource provider at deployment time",
    "listkeys": "listKeys() returns a resource's keys at deployment time",
    "listsecrets": "listSecrets() returns secrets at deployment time",
    "listaccountsas": "listAccountSas() returns a token made at deployment time",
    "listservicesas": "listServiceSas() returns a token made at deployment time",
    "getsecret": "getSecret() reads a Key Vault secret at deployment time",
    "datetimeadd": "dateTimeAdd() is not evaluated by aibtui",
    "datetimefromepoch": "dateTimeFromEpoch() is not evaluated by aibtui",
    "datetimetoepoch": "dateTimeToEpoch() is not evaluated by aibtui",
    "parsecidr": "parseCidr() is not evaluated by aibtui",
    "cidrsubnet": "cidrSubnet() is not evaluated by aibtui",
    "cidrhost": "cidrHost() is not evaluated by aibtui",
    "loadtextcontent": "loadTextContent() is a Bicep function, not an ARM one",
}
for _name_, _why in _DEPLOY_TIME.items():
    LAZY[_name_] = _deploy_time(_why)


__all__ = ["DEPLOYMENT_NAME", "EAGER", "LAZY", "NODE", "RESOURCE_GROUP", "SUBSCRIPTION_ID", "to_text"]
