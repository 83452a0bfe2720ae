"""Media module: the library (/media) and a file's page (/media/[file_id]). Placeholder: being built."""
from __future__ import annotations

import reflex as rx


def register(app: rx.App) -> None:
    """Registers nothing yet."""
