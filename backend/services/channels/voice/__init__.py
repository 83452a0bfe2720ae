"""Voice: text-to-speech calls (SSML, consent), their outbox delivery and call events."""
