"""The Textual TUI (``aibtui`` with no arguments). Only this package imports Textual.

Layout (posting's style): ``app.py`` (the App and ``run_tui``), one module per screen in
``screens/``, widgets in ``widgets/``, custom messages in ``messages.py``, styles in ``app.tcss``,
remappable key bindings in ``keymap.py``. Non-UI logic lives beside it: ``project.py`` (compile and
locate, pure), ``fuzzy.py`` (the filter), ``provider_adapter.py`` (the one module that talks to the
build-operations client).
"""
