"""The gateway to Twilio: the official SDK's asyncio client with timeouts, safe retries
and typed errors."""

from .errors import GatewayError, OutcomeUnknownError
from .gateway import Gateway
from .remote import RemoteMessage
from .retry import RetryPolicy

__all__ = ["Gateway", "GatewayError", "OutcomeUnknownError", "RemoteMessage", "RetryPolicy"]
