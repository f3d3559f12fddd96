"""Services over the lower layers: message lifecycle (send, reconcile, poll) and the
update bus that feeds the console."""
