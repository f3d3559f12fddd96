"""The command palette (ctrl+p): every console action and filter preset, by namespaced
name ("filter: undelivered", "view: triage"), offered only where it makes sense."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.services.filter_query import PRESETS

Command = tuple[str, Callable[[], object], str]


class ConsoleCommands(Provider):
    def _commands(self) -> list[Command]:
        from tui.screens.main import MainScreen

        app = self.app
        main = next((s for s in app.screen_stack if isinstance(s, MainScreen)), None)
        commands: list[Command] = []
        if main is not None:
            for name, query in PRESETS.items():
                commands.append(
                    (f"filter: {name}", partial(app.call_later, main.show_query, query), query)
                )
            commands += [
                ("filter: edit", main.action_filter, "Type a filter query"),
                ("filter: clear", partial(main.show_query, ""), "Show every message"),
                ("view: triage", main.action_triage, "Undelivered and failed, grouped"),
                ("view: rejected callbacks", main.action_rejected, "Signature failures"),
                ("list: newest", main.message_list.action_first, "Jump to the newest row"),
                ("message: open details", main.message_list.action_open, "The selected row"),
                ("compose: write a message", main.action_compose, "Focus the compose pane"),
                ("compose: show or hide", main.action_toggle_compose, "Wide list or pane"),
                ("compose: send", main.compose_pane.action_send, "Send what the pane holds"),
                ("compose: bulk send", main.compose_pane.action_bulk, "To many recipients"),
                ("compose: GSM look-alikes", main.compose_pane.action_gsm,
                 "Replace characters that force UCS-2"),
                ("view: scheduled messages", main.action_scheduled, "Pending, with countdowns"),
                ("export: filtered rows", main.action_export, "JSONL or CSV"),
                ("message: resend", main.action_resend, "A copy in the compose pane"),
                ("message: cancel scheduled", main.action_cancel_scheduled, "Before SendAt"),
                ("message: fetch now", main.action_fetch, "Ask Twilio for its status"),
                ("message: redact body", main.action_redact, "At Twilio and here"),
                ("message: delete at Twilio", main.action_delete_remote, "Asks first"),
                ("message: copy SID", main.action_copy_sid, "OSC 52, and shown"),
                ("message: open in Twilio Console", main.action_open_console, "Or show the URL"),
            ]  # fmt: skip
        presenter = getattr(app, "action_toggle_presenter", None)
        if presenter is not None:
            commands.append(("app: presenter mode", presenter, "Mask numbers and bodies"))
        help_screen = getattr(app, "action_help_screen", None)
        if help_screen is not None:
            commands.append(("app: keys", help_screen, "Every key binding"))
        return commands

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
