"""The gateway to Twilio: the official SDK's asyncio client with timeouts, safe retries
and typed errors."""

from .errors import NOT_FOUND, GatewayError, OutcomeUnknownError
from .gateway import Gateway
from .remote import RemoteMessage
from .retry import RetryPolicy

__all__ = [
    "NOT_FOUND",
    "Gateway",
    "GatewayError",
    "OutcomeUnknownError",
    "RemoteMessage",
    "RetryPolicy",
]
