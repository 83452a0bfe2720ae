"""Placeholder: this page is being built."""
from __future__ import annotations

import reflex as rx


def register(app: rx.App) -> None:
    """Registers nothing yet."""
