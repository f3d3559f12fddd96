"""The callback receiver: an aiohttp server for Twilio status callbacks and inbound
webhooks (signature check -> durable commit -> publish -> 200)."""
