"""What can be done to one message, from the list and from its detail view: resend,
cancel, redact, delete at Twilio, fetch now, copy the SID, open it in the Twilio Console.

Each action runs the lifecycle in a worker and says how it went in a notification;
Twilio's refusals are explained from the error catalog. Destructive ones ask first. The
result reaches the screen the way everything does: through the store and the list's
change feed, never by editing a row on screen.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Awaitable, Callable

from textual.binding import Binding
from textual.screen import Screen

from tui.domain.status import MessageStatus
from tui.services.console_session import ConsoleSession, Mode
from tui.services.lifecycle import DraftError
from tui.store import StoredMessage
from tui.twilio import GatewayError

from .modals import Choice, ChoiceScreen, TextScreen

log = logging.getLogger("msgwatch.actions")

ROW_BINDINGS = [
    Binding("e", "resend", "Resend", id="row.resend", tooltip="A copy in the compose pane"),
    Binding("x", "cancel_scheduled", "Cancel sched.", id="row.cancel"),
    Binding("f", "fetch", "Fetch", show=False, id="row.fetch", tooltip="Ask Twilio now"),
    Binding("b", "redact", "Redact", show=False, id="row.redact", tooltip="Blank the body"),
    Binding("delete", "delete_remote", "Delete", show=False, id="row.delete"),
    Binding("y", "copy_sid", "Copy SID", show=False, id="row.copy"),
    Binding("o", "open_console", "Console", show=False, id="row.open"),
]


def console_url(account_sid: str, sid: str) -> str:
    """The message's page in the Twilio Console (the classic deep link, which the
    Console still redirects to the message's log entry)."""
    return f"https://www.twilio.com/console/sms/logs/{account_sid}/{sid}"


def can_open_browser() -> bool:
    """Whether a browser here would be seen by the person at the keyboard: not over
    SSH, and on Linux only with a display."""
    if os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"):
        return False
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def describe_failure(exc: Exception) -> str:
    if isinstance(exc, GatewayError):
        text = f"{exc.code}: {exc.message}" if exc.code else exc.message
        return f"{text}. {exc.explanation}" if exc.explanation else text
    if isinstance(exc, DraftError):
        return f"{exc.field}: {exc.message}"
    return str(exc)


class RowActions(Screen[None]):
    """A screen with a selected message and the session to act on it with."""

    session: ConsoleSession

    def selected_message(self) -> StoredMessage | None:
        raise NotImplementedError

    def _target(self) -> StoredMessage | None:
        message = self.selected_message()
        if message is None:
            self.notify("No message selected.", severity="warning")
        return message

    def _run(
        self,
        what: str,
        call: Callable[[], Awaitable[object]],
        done: Callable[[object], str],
    ) -> None:
        async def job() -> None:
            try:
                outcome = await call()
            except (GatewayError, DraftError, LookupError) as exc:
                self.notify(describe_failure(exc), title=f"{what} failed", severity="error")
                return
            self.notify(done(outcome), title=what)

        self.run_worker(job(), group="row-action", exit_on_error=False, description=what)

    # -- actions ---------------------------------------------------------------------

    def action_resend(self) -> None:
        message = self._target()
        if message is None:
            return
        from .main import MainScreen

        main = next((s for s in self.app.screen_stack if isinstance(s, MainScreen)), None)
        if main is None:
            return
        while self.app.screen is not main:
            self.app.pop_screen()
        self.app.call_later(main.resend, message)

    def action_cancel_scheduled(self) -> None:
        message = self._target()
        if message is None:
            return
        if message.status is not MessageStatus.SCHEDULED:
            shown = message.status.value if message.status else "not sent yet"
            self.notify(
                f"Only scheduled messages can be canceled; this one is {shown}.",
                severity="warning",
            )
            return
        lifecycle = self.session.lifecycle
        assert lifecycle is not None

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._run(
                    "Cancel",
                    lambda: lifecycle.cancel(message.id),
                    lambda status: f"Now {getattr(status, 'value', status)}.",
                )

        self.app.push_screen(
            ChoiceScreen(
                "Cancel this scheduled message?",
                f"{message.sid}\nTwilio will not send it.",
                [Choice("y", "Cancel it", True, "error")],
            ),
            confirmed,
        )

    def action_fetch(self) -> None:
        message = self._target()
        lifecycle = self.session.lifecycle
        if message is None or lifecycle is None:
            return
        self._run(
            "Fetch",
            lambda: lifecycle.refresh(message.id),
            lambda status: f"Twilio says {getattr(status, 'value', status)}.",
        )

    def action_redact(self) -> None:
        message = self._target()
        lifecycle = self.session.lifecycle
        if message is None or lifecycle is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._run(
                    "Redact",
                    lambda: lifecycle.redact(message.id),
                    lambda _: "The body is blank at Twilio and here.",
                )

        self.app.push_screen(
            ChoiceScreen(
                "Redact this message's body?",
                "Twilio's copy and this database's copy of the body are blanked. "
                "It cannot be undone.",
                [Choice("y", "Redact", True, "error")],
            ),
            confirmed,
        )

    def action_delete_remote(self) -> None:
        message = self._target()
        lifecycle = self.session.lifecycle
        if message is None or lifecycle is None:
            return

        def chosen(keep_local: bool | None) -> None:
            if keep_local is None:
                return
            self._run(
                "Delete",
                lambda: lifecycle.delete(message.id, keep_local=keep_local),
                lambda _: "Deleted at Twilio" + ("; kept here." if keep_local else " and here."),
            )

        self.app.push_screen(
            ChoiceScreen(
                "Delete this message's record at Twilio?",
                f"{message.sid or 'local #' + str(message.id)}\n"
                "Twilio's record goes for good. Keep the copy in this database?",
                [
                    Choice("k", "Delete at Twilio, keep here", True, "warning"),
                    Choice("d", "Delete at Twilio and here", False, "error"),
                ],
            ),
            chosen,
        )

    def action_copy_sid(self) -> None:
        message = self._target()
        if message is None:
            return
        if not message.sid:
            self.notify("Twilio has not given this message a SID (yet).", severity="warning")
            return
        # OSC 52: the terminal (even over SSH) puts it on the clipboard if it allows it;
        # the SID is shown as well, for terminals that do not.
        self.app.copy_to_clipboard(message.sid)
        self.notify(message.sid, title="SID (copied if your terminal allows OSC 52)")

    def action_open_console(self) -> None:
        message = self._target()
        lifecycle = self.session.lifecycle
        if message is None or lifecycle is None:
            return
        if not message.sid:
            self.notify("Twilio has not given this message a SID (yet).", severity="warning")
            return
        account = lifecycle.gateway.account_sid
        if self.session.mode is Mode.DEMO:
            base = lifecycle.gateway.api_base
            url = f"{base}/2010-04-01/Accounts/{account}/Messages/{message.sid}.json"
            title, hint = "The local Twilio's record (demo: there is no Twilio Console)", ""
        else:
            url = console_url(account, message.sid)
            title, hint = "In the Twilio Console", "Open it in a browser where you are logged in."
        if can_open_browser():
            self.app.open_url(url)
            self.notify(url, title="Opened in your browser")
        else:
            self.app.push_screen(TextScreen(title, url, hint))
