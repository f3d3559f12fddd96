"""The gateway to Twilio: the official SDK's asyncio client with timeouts, safe retries
and typed errors."""
