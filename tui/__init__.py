"""msgwatch: a terminal console for Twilio Programmable Messaging."""

__version__ = "0.1.0"
