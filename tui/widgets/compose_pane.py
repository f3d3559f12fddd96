"""The compose/schedule pane beside the list: To, From, Body, media, validity, schedule.

Every field says what it understood as it is typed (the region of a To, the kind of a
From, the resolved SendAt in UTC and local time), the body counter shows encoding,
segments and what is left, and characters that force UCS-2 are highlighted in the body
itself. The pane only edits and checks: a valid form is posted as `SendRequested` with
its Draft; the screen sends it and hands the outcome back (`sent`, `refused`), which the
pane shows next to the field it concerns, explained from the error catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from tui.domain.errors import explain
from tui.domain.segments import (
    MAX_BODY_CHARS,
    Encoding,
    is_gsm7,
    segment_info,
    smart_encode,
    smart_encoding_changes,
)
from tui.services.compose_form import (
    FIELDS,
    ComposeForm,
    Note,
    build_draft,
    field_for_code,
    from_note,
    parse_media,
    parse_validity,
    send_at_note,
    to_note,
)
from tui.services.lifecycle import Draft, DraftError, SendResult
from tui.twilio import GatewayError

from .error_text import explain_error
from .safe_text import sanitize
from .status_badge import badge

OK = Style(color="green")
DIM = Style(dim=True)
BAD = Style(color="red", bold=True)
WARN = Style(color="yellow", bold=True)
UCS2 = Style(color="black", bgcolor="yellow", bold=True)


class BodyArea(TextArea):
    """The body editor; characters that force UCS-2 are shown highlighted."""

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        for i, char in enumerate(line.plain):
            if not is_gsm7(char):
                line.stylize(UCS2, i, i + 1)
        return line


def counter_text(body: str) -> Text:
    """Encoding, segments, what is left in this segment, and what forced UCS-2."""
    info = segment_info(body)
    text = Text(end="")
    ucs2 = info.encoding is Encoding.UCS2
    text.append(info.encoding.value, WARN if ucs2 else OK)
    plural = "s" if info.segments != 1 else ""
    text.append(f" · {info.segments} segment{plural} · {info.remaining_in_segment} left", DIM)
    text.append(f" · {info.chars}/{MAX_BODY_CHARS}", BAD if info.over_limit else DIM)
    if ucs2:
        text.append("\nUCS-2 because of ", DIM)
        for i, char in enumerate(info.ucs2_forcing[:12]):
            if i:
                text.append(" ")
            text.append(sanitize(char) or f"U+{ord(char):04X}", UCS2)
        if smart_encoding_changes(body):
            text.append("\nctrl+g: replace look-alikes with GSM characters", DIM)
    return text


def note_text(note: Note | None) -> Text:
    if note is None:
        return Text("")
    return Text(sanitize(note.text), style=DIM if note.ok else BAD, end="")


class ComposePane(VerticalScroll):
    DEFAULT_CSS = """
    ComposePane { width: 50; height: 1fr; padding: 0 1; }
    ComposePane.-hidden { display: none; }
    ComposePane .compose-row { height: 1; margin: 1 0 0 0; }
    ComposePane .compose-label { width: 10; }
    ComposePane .compose-row > Input { width: 1fr; background: $boost; }
    ComposePane .compose-note { height: auto; padding: 0 0 0 10; }
    ComposePane .compose-note.-empty { display: none; }
    ComposePane #compose-body { height: 6; background: $boost; }
    ComposePane #compose-counter { height: auto; }
    ComposePane Checkbox { border: none; padding: 0; height: 1; width: auto; margin: 0 1 0 0; }
    ComposePane #compose-callback { height: auto; margin: 1 0 0 0; }
    ComposePane #compose-actions { height: 1; margin: 1 0 0 0; }
    ComposePane #compose-result { height: auto; margin: 1 0 0 0; }
    """
    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="compose.send", tooltip="Send or schedule"),
        Binding(
            "ctrl+g",
            "gsm",
            "GSM look-alikes",
            id="compose.gsm",
            tooltip="Replace curly quotes, dashes… with GSM-7 characters",
        ),
        Binding("ctrl+t", "toggle_schedule", "Schedule", id="compose.schedule"),
        Binding("ctrl+b", "bulk", "Bulk", id="compose.bulk", tooltip="Send to many recipients"),
        Binding("escape", "leave", "Back to list", id="compose.leave"),
    ]

    @dataclass
    class SendRequested(Message):
        draft: Draft

    @dataclass
    class BulkRequested(Message):
        draft: Draft  # the template: its To is the first field's, replaced per recipient

    @dataclass
    class Left(Message):
        pass

    def __init__(
        self,
        *,
        senders: Sequence[str],
        default_from: str | None,
        default_service: str | None,
        callback_url: str | None,
        clock: Callable[[], datetime],
        zone: tzinfo,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.senders = tuple(senders)
        self.default_from = default_from
        self.default_service = default_service
        self.callback_url = callback_url
        self.clock = clock
        self.zone = zone
        self.resend_of: int | None = None
        self.sending = False
        self.recent: list[str] = []
        self._focus_when_mounted = False

    def compose(self) -> ComposeResult:
        yield Static(Text("Compose", style=Style(bold=True)), id="compose-title")
        with Horizontal(classes="compose-row"):
            yield Label("To", classes="compose-label")
            yield Input(placeholder="+14155550100 or whatsapp:+…", id="compose-to", compact=True)
        yield Static(classes="compose-note -empty", id="note-To")
        with Horizontal(classes="compose-row"):
            yield Label("From", classes="compose-label")
            yield Input(
                value=self.default_from or (self.senders[0] if self.senders else ""),
                placeholder="number, sender ID or MG…",
                suggester=SuggestFromList(self.senders, case_sensitive=False),
                id="compose-from",
                compact=True,
            )
        yield Static(classes="compose-note -empty", id="note-From")
        with Horizontal(classes="compose-row"):
            yield Label("Body", classes="compose-label")
        # No cursor-line highlight: its background would hide the UCS-2 marks on that line.
        yield BodyArea(
            id="compose-body",
            soft_wrap=True,
            compact=True,
            show_line_numbers=False,
            highlight_cursor_line=False,
        )
        yield Static(classes="compose-note -empty", id="note-Body")
        yield Static(id="compose-counter")
        with Horizontal(classes="compose-row"):
            yield Label("Media", classes="compose-label")
            yield Input(placeholder="https://… (up to 10)", id="compose-media", compact=True)
        yield Static(classes="compose-note -empty", id="note-MediaUrl")
        with Horizontal(classes="compose-row"):
            yield Label("Valid for", classes="compose-label")
            yield Input(placeholder="10h (Twilio's default)", id="compose-validity", compact=True)
        yield Static(classes="compose-note -empty", id="note-ValidityPeriod")
        with Horizontal(classes="compose-row"):
            yield Checkbox("Schedule", id="compose-schedule")
            yield Input(
                placeholder="in 20m · tomorrow 09:00 · 2026-12-01T09:00Z",
                id="compose-send-at",
                compact=True,
                disabled=True,
            )
        yield Static(classes="compose-note -empty", id="note-SendAt")
        yield Static(id="compose-callback")
        with Horizontal(id="compose-actions"):
            yield Button("Send  ctrl+s", id="compose-send", compact=True, variant="primary")
        yield Static(id="compose-result")

    def focus_to(self) -> None:
        """Put the cursor in To, now or as soon as the fields exist."""
        fields = self.query("#compose-to")
        if fields:
            fields.first().focus()
        else:
            self._focus_when_mounted = True

    def on_mount(self) -> None:
        if self._focus_when_mounted:
            self.call_after_refresh(self.focus_to)
        self._show_callback()
        self.query_one("#compose-counter", Static).update(counter_text(""))
        self._refresh_notes()
        self.set_interval(5.0, self._refresh_schedule_note)

    # -- reading the form ------------------------------------------------------------

    def _input(self, name: str) -> Input:
        return self.query_one(f"#compose-{name}", Input)

    @property
    def body_area(self) -> BodyArea:
        return self.query_one(BodyArea)

    def form(self) -> ComposeForm:
        return ComposeForm(
            to=self._input("to").value,
            from_=self._input("from").value,
            body=self.body_area.text,
            media=self._input("media").value,
            validity=self._input("validity").value,
            schedule=self.query_one("#compose-schedule", Checkbox).value,
            send_at=self._input("send-at").value,
        )

    def set_recent(self, recipients: Sequence[str]) -> None:
        """Offer these as completions in To (newest first)."""
        self.recent = list(recipients)
        self._input("to").suggester = SuggestFromList(self.recent, case_sensitive=False)
        if self.recent:
            shown = ", ".join(sanitize(r) for r in self.recent[:3])
            self._input("to").placeholder = f"recent: {shown}"

    def prefill(self, draft: Draft, resend_of: int | None) -> None:
        """Fill the form from an earlier message (resend)."""
        self._input("to").value = draft.to
        self._input("from").value = draft.messaging_service_sid or draft.from_ or ""
        self.body_area.load_text(draft.body or "")
        self._input("media").value = " ".join(draft.media_urls)
        self.resend_of = resend_of
        self._set_result(Text(f"Resending message {resend_of}: edit, then ctrl+s.", style=DIM))
        self._input("to").focus()

    # -- live notes ------------------------------------------------------------------

    def _note(self, field: str, note: Note | None) -> None:
        widget = self.query_one(f"#note-{field}", Static)
        widget.update(note_text(note))
        widget.set_class(note is None, "-empty")

    def _refresh_notes(self) -> None:
        self._note("To", to_note(self._input("to").value))
        self._note("From", from_note(self._input("from").value, self.default_from))
        self._refresh_body()
        self._refresh_schedule_note()

    def _refresh_body(self) -> None:
        body = self.body_area.text
        self.query_one("#compose-counter", Static).update(counter_text(body))
        self._note("Body", None)

    def _refresh_schedule_note(self) -> None:
        note = send_at_note(self.form(), self.clock(), self.zone, self.default_service)
        self._note("SendAt", note)

    def _show_callback(self) -> None:
        text = Text(end="")
        if self.callback_url:
            text.append("status callbacks to ", DIM)
            text.append(sanitize(self.callback_url))
        else:
            text.append("no callback URL reachable: statuses by polling", WARN)
        self.query_one("#compose-callback", Static).update(text)

    @on(Input.Changed, "#compose-to")
    def _to_changed(self, event: Input.Changed) -> None:
        self._note("To", to_note(event.value))

    @on(Input.Changed, "#compose-from")
    def _from_changed(self, event: Input.Changed) -> None:
        self._note("From", from_note(event.value, self.default_from))
        self._refresh_schedule_note()

    @on(TextArea.Changed, "#compose-body")
    def _body_changed(self) -> None:
        self._refresh_body()

    def _note_parsed(self, field: str, parse: Callable[[], object], said: str) -> None:
        """`said` under `field` if `parse()` reads something, nothing if it reads nothing,
        the DraftError's sentence if it cannot."""
        try:
            value = parse()
        except DraftError as exc:
            self._note(field, Note(exc.message, ok=False))
            return
        self._note(field, Note(said.format(value=value)) if value else None)

    @on(Input.Changed, "#compose-media")
    def _media_changed(self, event: Input.Changed) -> None:
        self._note_parsed(
            "MediaUrl", lambda: len(parse_media(event.value)), "{value} media URL(s): MMS"
        )

    @on(Input.Changed, "#compose-validity")
    def _validity_changed(self, event: Input.Changed) -> None:
        self._note_parsed(
            "ValidityPeriod", lambda: parse_validity(event.value), "{value} s in the queue at most"
        )

    @on(Checkbox.Changed, "#compose-schedule")
    def _schedule_toggled(self, event: Checkbox.Changed) -> None:
        send_at = self._input("send-at")
        send_at.disabled = not event.value
        if event.value:
            send_at.focus()
        self._refresh_schedule_note()

    @on(Input.Changed, "#compose-send-at")
    def _send_at_changed(self) -> None:
        self._refresh_schedule_note()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.focus_next()

    @on(Button.Pressed, "#compose-send")
    def _send_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_send()

    # -- actions ---------------------------------------------------------------------

    def action_gsm(self) -> None:
        area = self.body_area
        before = area.text
        after = smart_encode(before)
        if after != before:
            area.load_text(after)  # one edit; ctrl+z in the area restores the original
            self._refresh_body()

    def action_toggle_schedule(self) -> None:
        box = self.query_one("#compose-schedule", Checkbox)
        box.value = not box.value

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def _draft(self) -> Draft | None:
        self._clear_errors()
        try:
            return build_draft(self.form(), self.clock(), self.zone, resend_of=self.resend_of)
        except DraftError as exc:
            self.refused_draft(exc)
            return None

    def action_send(self) -> None:
        if self.sending:
            return
        draft = self._draft()
        if draft is not None:
            self.sending = True
            self._set_result(Text("sending…", style=DIM))
            self.post_message(self.SendRequested(draft))

    def action_bulk(self) -> None:
        draft = self._draft()
        if draft is not None:
            self.post_message(self.BulkRequested(draft))

    # -- outcomes (called by the screen) ---------------------------------------------

    def _clear_errors(self) -> None:
        self._refresh_notes()
        for field in ("MediaUrl", "ValidityPeriod"):
            self._note(field, None)
        self._set_result(Text(""))

    def _set_result(self, text: Text) -> None:
        self.query_one("#compose-result", Static).update(text)

    def refused_draft(self, error: DraftError) -> None:
        """A draft refused before any request: the error under its field."""
        self.sending = False
        field = "From" if error.field == "MessagingServiceSid" else error.field
        if field not in FIELDS:
            field = "From"
        self._note(field, Note(error.message, ok=False))
        self._set_result(self._error_text(error.code, error.message, field))

    def sent(self, result: SendResult) -> None:
        self.sending = False
        error = result.error
        if error is not None:
            self.refused(error)
            return
        text = Text(end="")
        text.append("✓ ", OK)
        text.append(f"{result.sid or ''} ")
        text.append_text(badge(result.status))
        text.append("  the row is in the list; watch it move", DIM)
        self._set_result(text)
        self.body_area.load_text("")
        self._input("media").value = ""
        self.resend_of = None
        schedule = self.query_one("#compose-schedule", Checkbox)
        if schedule.value:
            schedule.value = False
            self._input("send-at").value = ""

    def refused(self, error: GatewayError) -> None:
        """Twilio refused the create (or its outcome is unknown)."""
        self.sending = False
        field = field_for_code(error.code)
        if field is not None:
            self._note(field, Note(f"{error.code}: {error.message}", ok=False))
        self._set_result(self._error_text(error.code, error.message, field))

    def _error_text(self, code: int | None, message: str, field: str | None) -> Text:
        info = explain(code)
        if info is not None and info.known:
            text = explain_error(info)
        else:
            text = Text(end="")
            text.append("✗ ", BAD)
            text.append(sanitize(message), BAD)
        if field is not None:
            text.append(f"\n(see {field} above)", DIM)
        return text
