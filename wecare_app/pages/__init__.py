"""One module per product module; each exposes `register(app)`."""
