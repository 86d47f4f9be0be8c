"""The root of every exception aibtui defines (issue 15: one hierarchy instead of unrelated classes).

``except AibtuiError`` catches whatever aibtui raises on purpose: a usage error of the CLI, a bad
configuration, an ARM/REST failure, a stopped build, a rejected YAML edit, ... Problems in the
*input* of the compiler are not exceptions at all: they are diagnostics (``diagnostics.py``).
A few private exceptions used as control flow inside one module (a loader's budget stop, a
renderer's failure signal) stay plain and never leave their module.
"""

from __future__ import annotations


class AibtuiError(Exception):
    """Base class of the exceptions aibtui raises on purpose."""
