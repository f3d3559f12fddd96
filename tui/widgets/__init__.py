"""The console's widgets. Untrusted text goes through `safe_text.sanitize` in all of them."""
