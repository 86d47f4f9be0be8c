"""The dialect, one module per section of an ``*.aib.yaml`` file.

Each section module holds everything about its keys, so adding a key of the service means editing
one module (and its examples, which tests/test_dialect_sections.py turns into tests):

* its **lowering**: a mixin of :class:`~aibtui.compiler.lower.Lowerer` (dialect node -> official
  JSON, with the span of every value);
* its **import inverse**: a mixin of :class:`~aibtui.compiler.import_shape.Shaper` (official JSON
  -> the short form, only where lowering gives back exactly that JSON);
* its **editor-schema fragment**: ``schema()``, gathered by ``compiler/dialect_schema.py``;
* its **declaration**: ``SECTION``, a :class:`Section` naming the dialect keys it owns, the
  official properties they lower to, the heading of ``docs/dialect.md`` that documents them (a
  test checks the page against it), the diagnostic codes the module emits, and examples: pairs of
  dialect YAML and the JSON it lowers to. The generated round-trip test proves, per example, that
  lowering gives that JSON and that importing the JSON and lowering again is the identity.

``common.py`` holds what every section's lowering shares (the context, ``LowererBase``),
``shaping.py`` what every inverse shares (``ShaperBase``, the "is it exact" tests). The drivers
stay thin: ``compiler/lower.py`` lowers the top-level keys and calls each section in turn,
``compiler/import_shape.py`` does the same the other way.
"""

from __future__ import annotations

from ..records import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any

SECTION_MODULES = ("source", "identity", "vm", "customize", "validate", "distribute", "optimize",
                   "errorhandling", "autorun")


@dataclass(frozen=True, slots=True)
class Section:
    name: str  # the module's name
    keys: tuple[str, ...]  # top-level dialect keys this section owns
    official: tuple[str, ...]  # the official properties they lower to (dotted from the resource)
    heading: str  # the docs/dialect.md heading (or top-level table row) that documents the section
    doc_terms: tuple[str, ...]  # words the docs must mention in that part (the short forms)
    codes: tuple[str, ...]  # diagnostic codes the section's module emits
    inverse: str  # the Shaper method (from this module's mixin) that writes the short form back
    examples: tuple[tuple[str, Any], ...] = ()  # (YAML of the section's key, what `official[0]` becomes)


def sections() -> list[Section]:
    """Every section's declaration, in the order of docs/dialect.md."""
    import importlib

    return [importlib.import_module(f"{__name__}.{name}").SECTION for name in SECTION_MODULES]
