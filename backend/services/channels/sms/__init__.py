"""SMS: sending (segments, opt-out, consent), its outbox delivery, two-way inbound texts."""
