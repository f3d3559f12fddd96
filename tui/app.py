"""The console: a Textual app around a ConsoleSession (store, receiver, emulator, gateway).

The app starts the session before its first screen and stops it after its last: the
receiver is stopped in `on_unmount`, which Textual awaits, never left to a cancelled
worker. A session that cannot start ends the app with one readable sentence.
"""

from __future__ import annotations

import gc

from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from tui.services.console_session import ConsoleSession, SessionError, SessionOptions

from .commands import ConsoleCommands
from .screens.main import MainScreen

EXIT_STARTUP_FAILED = 2


class MsgwatchApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "msgwatch"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Stop the console"),
        Binding("question_mark", "help_screen", "Keys", id="app.help", tooltip="Every key"),
        Binding(
            "P",
            "toggle_presenter",
            "Presenter",
            show=False,
            id="app.presenter",
            tooltip="Mask numbers and bodies for an audience",
        ),
    ]
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    # Presenter mode: numbers and bodies masked on every screen and in exports, the
    # account hidden, badges enlarged. Screens follow it through `presenter_changed`.
    presenting = reactive(False, init=False)

    def __init__(self, options: SessionOptions, *, present: bool = False) -> None:
        super().__init__()
        self.options = options
        self.session = ConsoleSession(options)
        self.set_reactive(MsgwatchApp.presenting, present)

    async def on_mount(self) -> None:
        try:
            await self.session.start()
        except SessionError as exc:
            self.exit(return_code=EXIT_STARTUP_FAILED, message=f"msgwatch: {exc}")
            return
        await self.push_screen(MainScreen(self.session))

    async def on_unmount(self) -> None:
        await self.session.stop()
        # The main screen froze start-up objects (screens/main.py settle_memory); let the
        # collector have them again, or a process that runs consoles one after another
        # (the test suite) would keep every finished one.
        gc.unfreeze()

    def action_toggle_presenter(self) -> None:
        self.presenting = not self.presenting
        self.notify("Presenter mode " + ("on: numbers and bodies masked" if self.presenting
                                         else "off"))  # fmt: skip

    def watch_presenting(self, present: bool) -> None:
        for screen in self.screen_stack:
            changed = getattr(screen, "presenter_changed", None)
            if changed is not None:
                changed(present)

    def action_help_screen(self) -> None:
        from .screens.detail import DetailScreen
        from .screens.help import HelpScreen
        from .screens.rejected import RejectedScreen
        from .screens.scheduled import ScheduledScreen
        from .screens.triage import TriageScreen
        from .widgets.compose_pane import ComposePane
        from .widgets.filter_bar import FilterBar
        from .widgets.message_list import MessageList

        self.push_screen(
            HelpScreen(
                [
                    ("Everywhere", self.BINDINGS),
                    ("Main screen", MainScreen.BINDINGS),
                    ("Message list", MessageList.BINDINGS),
                    ("Filter bar", FilterBar.BINDINGS),
                    ("Compose pane", ComposePane.BINDINGS),
                    ("Message details", DetailScreen.BINDINGS),
                    ("Scheduled messages", ScheduledScreen.BINDINGS),
                    ("Triage", TriageScreen.BINDINGS),
                    ("Rejected callbacks", RejectedScreen.BINDINGS),
                ]
            )
        )
