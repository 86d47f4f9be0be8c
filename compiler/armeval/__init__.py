"""An evaluator for ARM template expressions and templates (pure: no Azure, no network).

Used by ``check`` and ``import`` to read image templates that are built by expressions: Bicep
modules (nested deployments whose values are expressions over the module's parameters), copy
loops, ``languageVersion`` 2.0 templates, user-defined functions and lambdas.

* :mod:`.parser` — the expression grammar, parsed once per text (cached).
* :mod:`.evaluator` — values are the loader's nodes (spans kept); :class:`~.values.Unknown` for what
  only a deployment knows (``reference()``, ``list*()``, ``utcNow()``, ``newGuid()``, parameters
  without a value), which propagates; budgets bound steps, depth and sizes.
* :mod:`.functions` — the template functions.
* :mod:`.template` — parameters, variables, copy loops, conditions, nested deployments.
* :mod:`.params` — ``--parameters FILE.json`` and ``name=value`` inputs.

See docs/arm-evaluation.md.
"""

from __future__ import annotations

from .evaluator import Budget, Env, Evaluator, Problem
from .values import EvalError, Unknown

__all__ = ["Budget", "Env", "EvalError", "Evaluator", "Problem", "Unknown"]
