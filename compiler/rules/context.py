"""What every rule module gets: the model, the diagnostics bag, the OS family, and safe accessors.

Rules read ``model.doc``, which may be partial or wrongly typed (the schema engine reports that);
the helpers here never raise on a dict where a list was expected, a missing key, and so on.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator

from ..diagnostics import DiagnosticBag, Severity
from ..model import JsonPath, TemplateModel, is_opaque
from ..records import dataclass
from .osfamily import infer_os_family

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any, NamedTuple, TypeGuard

STEP_LISTS: tuple[tuple[str, ...], ...] = (
    ("properties", "customize"),
    ("properties", "validate", "inVMValidations"),
)


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def is_str(value: Any) -> TypeGuard[str]:
    return isinstance(value, str)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


if TYPE_CHECKING:
    class Step(NamedTuple):
        """One customizer or in-VM validator: where it is, its kind and its mapping."""

        path: JsonPath
        index: int  # type: ignore[assignment]  # (shadows tuple.index, as the field name says best)
        kind: str  # the `type` value ("" when absent or not a string)
        body: dict[str, Any]
        validation: bool  # True for properties.validate.inVMValidations
else:  # the class typing.NamedTuple would build, without importing typing
    Step = namedtuple("Step", ("path", "index", "kind", "body", "validation"))
    Step.__doc__ = "One customizer or in-VM validator: where it is, its kind and its mapping."


@dataclass(frozen=True, slots=True)
class RuleContext:
    model: TemplateModel
    diags: DiagnosticBag
    os_family: str | None
    all_steps: tuple[Step, ...] = ()

    @classmethod
    def build(cls, model: TemplateModel, diags: DiagnosticBag) -> RuleContext:
        ctx = cls(model, diags, model.os_family or infer_os_family(model.doc))
        return cls(model, diags, ctx.os_family, tuple(ctx._collect_steps()))

    # -- reading -------------------------------------------------------------------------------
    @property
    def doc(self) -> dict[str, Any]:
        return self.model.doc if isinstance(self.model.doc, dict) else {}

    @property
    def props(self) -> dict[str, Any]:
        return as_dict(self.doc.get("properties"))

    @property
    def api_version(self) -> str:
        v = self.doc.get("apiVersion")
        return v if isinstance(v, str) and not is_opaque(v) else self.model.api_version

    def steps(self) -> tuple[Step, ...]:
        """Every customizer, then every in-VM validator, skipping entries that are not mappings."""
        return self.all_steps

    def _collect_steps(self) -> Iterator[Step]:
        for base in STEP_LISTS:
            items = self.model.get(base)
            for i, item in enumerate(as_list(items)):
                if isinstance(item, dict):
                    kind = item.get("type")
                    yield Step(
                        base + (i,),
                        i,
                        kind if isinstance(kind, str) else "",
                        item,
                        base[-1] == "inVMValidations",
                    )

    def step_lists(self) -> Iterator[tuple[JsonPath, list[Any]]]:
        for base in STEP_LISTS:
            items = self.model.get(base)
            if isinstance(items, list):
                yield base, items

    def distributors(self) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
        for i, item in enumerate(as_list(self.props.get("distribute"))):
            if isinstance(item, dict):
                yield ("properties", "distribute", i), item

    opaque = staticmethod(is_opaque)  # (no wrapper call: the rules ask for every value they check)

    # -- reporting -----------------------------------------------------------------------------
    def schema_reported(self, path: JsonPath, mentions: str, *, key: bool = False) -> bool:
        """True when the schema stage (AIB5xx) already reported ``mentions`` at this span.

        A rule then stays quiet rather than say the same thing twice. check_model runs the schema
        first with the same bag; run alone (or with the schema engine off), the rules still report.
        """
        span = self.model.span_at(path, key=key)
        return span is not None and any(
            d.code.startswith("AIB5") and d.span == span and mentions in d.message for d in self.diags
        )

    def report(
        self,
        code: str,
        message: str,
        path: JsonPath,
        *,
        key: bool = False,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        self.diags.add(code, message, self.model.span_at(path, key=key), hint=hint, severity=severity)
