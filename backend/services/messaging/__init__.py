"""Messaging on every channel: the outbox, exactly-once inbound, statuses, the dead-letter queue, reading messages, reachability."""
