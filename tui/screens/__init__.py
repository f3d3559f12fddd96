"""The console's screens: main (list), detail, triage, rejected callbacks, help."""
