"""WhatsApp: sending (window, consent, templates), its outbox delivery, inbound messages and media."""
