"""A local Twilio: the Messages API, a simulated carrier and signed callbacks."""
