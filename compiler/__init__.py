"""The aibtui compiler: the *.aib.yaml dialect -> Azure Image Builder image-template JSON.

Pure and fast to import: no terminal UI, no network, no Azure SDK (a test enforces it).
Public API: :func:`compile_file`, :func:`compile_node`, :func:`check_file`, :class:`CompileOptions`,
:class:`CompileResult`, :class:`CompileSession` (caches shared by the compiles of one run).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from typing import Any


__all__ = ["CompileOptions", "CompileResult", "CompileSession", "check_file", "compile_file", "compile_node"]


def __getattr__(name: str) -> Any:  # lazy, so importing a submodule does not load the whole pipeline
    if name == "CompileSession":
        from .session import CompileSession

        return CompileSession
    if name in __all__:
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
