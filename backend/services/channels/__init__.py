"""One package per channel: its send service and rules, its delivery (the outbox calls it), its provider events."""
