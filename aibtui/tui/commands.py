"""The command palette's aibtui commands (Ctrl+P), next to Textual's own."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class AibCommands(Provider):
    def _commands(self) -> list[tuple[str, str, object]]:
        app = self.app
        cmds: list[tuple[str, str, object]] = [
            ("Templates", "every template on the provider, with its last run; re-attach to a build",
             app.action_templates),
            ("New template (onboarding)", "the guided wizard that writes a commented *.aib.yaml",
             app.action_onboarding),
            ("Help", "keys and screens", app.action_help),
        ]
        screen = self.screen  # the screen the palette was opened on
        for name, help_text, action in getattr(screen, "PALETTE", ()):
            cmds.append((name, help_text, partial(screen.run_action, action)))
        return cmds

    async def discover(self) -> Hits:
        for name, help_text, cb in self._commands():
            yield DiscoveryHit(name, cb, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, cb in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), cb, help=help_text)
