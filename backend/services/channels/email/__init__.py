"""Email: sending (safe content, suppression, consent), its outbox delivery, SES sending events."""
