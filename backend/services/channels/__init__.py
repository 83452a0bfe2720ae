"""One package per channel (`whatsapp/`, `sms/`, `email/`, `voice/`): its send service and request model, its
delivery (the outbox hands it a claimed row), its provider-event ingest and its own helpers. Above them:
`registry.py`, what each channel runs, read by the doors and the runtime, and `send_many.py`, one message to
several contacts on any channel. What each channel *is* (and its send rules) is `backend/services/rules/`."""
