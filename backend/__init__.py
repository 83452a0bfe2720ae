"""WECARE.DIGITAL service layer: settings, models, adapters and services. Never imports Reflex."""
