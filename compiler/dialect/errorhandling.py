"""`errorHandling:`, what happens to the build VM when a step fails: the official mapping,
verbatim (`onCustomizerError`, `onValidationError`: `cleanup` or `abort`)."""

from __future__ import annotations

from ..diagnostics import Span
from ..nodes import Node
from . import Section
from .common import LowererBase

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

SECTION = Section(
    name="errorhandling", keys=("errorHandling",), official=("properties.errorHandling",), heading="errorHandling",
    doc_terms=("onCustomizerError", "onValidationError", "cleanup", "abort"),
    codes=(), inverse="Shaper.properties",
    examples=(("errorHandling: {onCustomizerError: abort, onValidationError: cleanup}",
               {"onCustomizerError": "abort", "onValidationError": "cleanup"}),),
)


def schema() -> dict[str, Any]:
    """This section's fragment of the editor schema (`aibtui schema`, docs/dialect.md)."""
    from ..dialect_schema import _enum, _obj

    _ON_ERROR = ("cleanup", "abort")
    _ERROR_HANDLING = _obj({
                "onCustomizerError": _enum("cleanup (default) or abort (keep the build VM)", *_ON_ERROR),
                "onValidationError": _enum("cleanup (default) or abort (keep the build VM)", *_ON_ERROR),
            }, description="what happens to the build VM when a step fails")
    return _ERROR_HANDLING


class ErrorHandlingLowering(LowererBase):
    """Lowering of `errorHandling:`: the official mapping, verbatim (the schema checks its values)."""

    def error_handling(self, node: Node, key_span: Span | None) -> Any:
        return self.verbatim(("properties", "errorHandling"), node, key_span)
