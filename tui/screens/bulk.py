"""Bulk send: the compose pane's message to a list of recipients, pasted or read from a
file, at a bounded pace, with a progress bar and a summary. Escape stops starting new
sends (the ones in flight finish and are counted)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, ProgressBar, Static, TextArea

from tui.domain.recipients import RecipientList, parse_recipients
from tui.domain.segments import segment_info
from tui.services.bulk_send import DEFAULT_RATE, BulkProgress, BulkSend
from tui.services.lifecycle import Draft, DraftError, Lifecycle
from tui.widgets.safe_text import preview, sanitize

DIM = Style(dim=True)
BOLD = Style(bold=True)
OK = Style(color="green", bold=True)
BAD = Style(color="red", bold=True)
MAX_FILE_BYTES = 1 << 20  # 10,000 numbers fit in well under this
SHOWN_INVALID = 3
PARSE_AFTER = 0.15  # seconds without typing before the list is checked


def _read(path: Path) -> str:
    with path.open("rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{path.name} is larger than 1 MiB; split the list.")
    return data.decode("utf-8", errors="replace")


def list_summary(recipients: RecipientList) -> Text:
    text = Text(end="")
    count = len(recipients.valid)
    text.append(f"{count:,} recipient" + ("s" if count != 1 else ""), OK if count else BAD)
    if recipients.duplicates:
        text.append(f" · {recipients.duplicates} repeated, sent once", DIM)
    if recipients.truncated:
        text.append(" · only the first ones kept (limit)", BAD)
    if recipients.invalid:
        text.append(f" · {len(recipients.invalid)} not usable:", BAD)
        for bad in recipients.invalid[:SHOWN_INVALID]:
            text.append(f"\n  line {bad.line} ", DIM)
            text.append(sanitize(bad.raw), BOLD)
            text.append(f": {sanitize(bad.message)}", DIM)
        if len(recipients.invalid) > SHOWN_INVALID:
            text.append(f"\n  … and {len(recipients.invalid) - SHOWN_INVALID} more", DIM)
    return text


def progress_text(progress: BulkProgress) -> Text:
    text = Text(end="")
    text.append(f"{progress.done:,}/{progress.total:,}", BOLD)
    text.append(f" · {progress.sent:,} sent", OK)
    if progress.refused:
        text.append(f" · {progress.refused:,} refused", BAD)
    if progress.unknown:
        text.append(f" · {progress.unknown:,} outcome unknown", BAD)
    text.append(f" · {progress.rate:.1f}/s", DIM)
    for code, message, count in progress.errors[:2]:
        text.append(f"\n  {code or '—'} x{count}: {sanitize(message)}", DIM)
    return text


class BulkScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    BulkScreen { align: center middle; }
    BulkScreen > Vertical {
        width: 90; max-width: 100%; height: auto; max-height: 100%; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    BulkScreen #bulk-recipients { height: 8; margin: 1 0 0 0; }
    BulkScreen .bulk-row { height: 1; margin: 1 0 0 0; }
    BulkScreen .bulk-row > Label { width: 12; }
    BulkScreen .bulk-row > Input { width: 1fr; }
    BulkScreen #bulk-parsed, BulkScreen #bulk-status { height: auto; margin: 1 0 0 0; }
    BulkScreen ProgressBar { margin: 1 0 0 0; }
    """
    BINDINGS = [
        Binding("ctrl+s", "start", "Send to all", id="bulk.start"),
        Binding("ctrl+l", "load", "Load file", id="bulk.load"),
        Binding("escape", "stop_or_close", "Stop / close", id="bulk.close"),
    ]

    def __init__(self, lifecycle: Lifecycle, template: Draft) -> None:
        super().__init__()
        self.lifecycle = lifecycle
        self.template = template
        self.recipients = parse_recipients("")
        self.bulk: BulkSend | None = None
        self.finished = False
        self.parsing = False

    def compose(self) -> ComposeResult:
        template = self.template
        with Vertical():
            title = Text("Bulk send ", BOLD)
            sender = template.messaging_service_sid or template.from_ or "the default sender"
            title.append(f"from {sanitize(sender)}: ", DIM)
            title.append(preview(template.body, 60) or "(media only)")
            if template.body:
                info = segment_info(template.body, smart_encoded=template.smart_encoded)
                title.append(f"  {info.encoding.value}, {info.segments} segment(s) each", DIM)
            yield Static(title)
            yield Static(
                Text("Paste recipients (one per line, or separated by , ;) or load a file.", DIM)
            )
            yield TextArea(id="bulk-recipients", compact=True)
            with Horizontal(classes="bulk-row"):
                yield Label("File")
                yield Input(placeholder="path/to/numbers.txt  (ctrl+l loads)", id="bulk-file",
                            compact=True)  # fmt: skip
            with Horizontal(classes="bulk-row"):
                yield Label("Pace")
                yield Input(str(DEFAULT_RATE), id="bulk-rate", compact=True, type="number")
            yield Static(id="bulk-parsed")
            yield ProgressBar(id="bulk-progress", show_eta=True)
            yield Static(Text("ctrl+s sends to all · esc stops or closes", DIM), id="bulk-status")

    def on_mount(self) -> None:
        self.query_one("#bulk-recipients", TextArea).focus()
        self.query_one("#bulk-parsed", Static).update(list_summary(self.recipients))

    @on(TextArea.Changed, "#bulk-recipients")
    def _recipients_changed(self) -> None:
        if self.bulk is None:
            self.parsing = True
            self._parse(self.query_one("#bulk-recipients", TextArea).text)

    @work(exclusive=True, group="bulk-parse", exit_on_error=False, description="Checking")
    async def _parse(self, text: str) -> None:
        # Checking a number costs ~0.2 ms in phonenumbers: 10,000 of them would freeze
        # the screen for 2 s on the event loop. A pause lets typing finish first (each
        # keystroke cancels the previous check).
        await asyncio.sleep(PARSE_AFTER)
        recipients = await asyncio.to_thread(parse_recipients, text)
        self.recipients = recipients
        self.parsing = False
        self.query_one("#bulk-parsed", Static).update(list_summary(recipients))

    def _say(self, text: Text) -> None:
        self.query_one("#bulk-status", Static).update(text)

    @on(Input.Submitted, "#bulk-file")
    def _file_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_load()

    def action_load(self) -> None:
        self._load(Path(self.query_one("#bulk-file", Input).value.strip()).expanduser())

    @work(exclusive=True, group="bulk-load", exit_on_error=False, description="Reading")
    async def _load(self, path: Path) -> None:
        if not str(path) or str(path) == ".":
            self._say(Text("Type the path of a file with one number per line.", BAD))
            return
        try:
            text = await asyncio.to_thread(_read, path)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self._say(Text(f"✗ cannot read {sanitize(str(path))}: {sanitize(reason)}", BAD))
            return
        self.query_one("#bulk-recipients", TextArea).load_text(text)
        self._say(Text(f"Read {sanitize(path.name)}.", DIM))

    def _rate(self) -> float | None:
        raw = self.query_one("#bulk-rate", Input).value.strip()
        try:
            rate = float(raw)
        except ValueError:
            rate = 0.0
        if not 0.1 <= rate <= 1000:
            self._say(Text("Pace is messages per second, from 0.1 to 1000.", BAD))
            return None
        return rate

    def action_start(self) -> None:
        if self.bulk is not None:
            return
        if self.parsing:
            self._say(Text("Still checking the list; a moment…", DIM))
            return
        if not self.recipients.valid:
            self._say(Text("No usable recipients yet.", BAD))
            return
        rate = self._rate()
        if rate is None:
            return
        template = replace(self.template, to=self.recipients.valid[0])
        self.bulk = BulkSend(
            self.lifecycle,
            template,
            self.recipients.valid,
            rate=rate,
            on_progress=self._progress,
        )
        self.query_one("#bulk-recipients", TextArea).read_only = True
        self.query_one(ProgressBar).update(total=len(self.recipients.valid), progress=0)
        self._run(self.bulk)

    def _progress(self, progress: BulkProgress) -> None:
        self.query_one(ProgressBar).update(progress=progress.done)
        self._say(progress_text(progress))

    @work(exclusive=True, group="bulk-run", exit_on_error=False, description="Bulk send")
    async def _run(self, bulk: BulkSend) -> None:
        try:
            summary = await bulk.run()
        except DraftError as exc:
            self.bulk = None
            self.query_one("#bulk-recipients", TextArea).read_only = False
            self._say(Text(f"✗ {exc.field}: {sanitize(exc.message)}", BAD))
            return
        self.finished = True
        text = progress_text(summary.progress)
        text.append("\n")
        text.append(sanitize(summary.describe()), BOLD)
        text.append("  esc closes", DIM)
        self._say(text)

    def action_stop_or_close(self) -> None:
        bulk = self.bulk
        if bulk is not None and not self.finished:
            bulk.cancel()
            self._say(Text("Stopping: the sends in flight finish…", DIM))
            return
        self.dismiss(None)
