"""System-level reliability tests: faults, hostile text and secrets across the whole stack."""
