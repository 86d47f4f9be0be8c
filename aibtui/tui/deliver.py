"""Handing a thread worker's result back to its screen.

A worker (a network call, a disk scan) may finish after the user has left its screen: the screen's
widgets are gone, and a ``query_one`` would raise ``NoMatches`` inside the worker, which Textual
turns into a failed worker that ends the app. :func:`to_screen` runs the update on the app's thread
and drops it when the screen's widgets, or the app, are no longer there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.css.query import NoMatches
from textual.screen import Screen


def to_screen(screen: Screen[Any], fn: Callable[..., object], *args: Any) -> None:
    """From a worker thread: ``fn(*args)`` on the app's thread, unless ``screen`` was left meanwhile."""

    def run() -> None:
        try:
            fn(*args)
        except NoMatches:  # the screen was closed while the worker ran: nothing left to update
            pass

    if screen.app.is_running:  # (an app that has ended has no screen left to update)
        screen.app.call_from_thread(run)
