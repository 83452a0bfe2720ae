"""/inbox/compose (writers): one message to up to 50 contacts on WhatsApp, SMS, email or voice.

Recipients are picked by search and shown as chips. The form follows the channel: SMS counts its parts as you
type, email shows its HTML exactly as it will be sent (sanitised), WhatsApp offers free text only while every
recipient's 24-hour window is open (otherwise an approved template), voice previews how long the call talks.
Before sending, the reachability list says who cannot be reached and why, in the send services' own words;
Send hands the message to `send_many.send_to_contacts`, which sends once per reachable recipient through the
channel's send service and reports each one's outcome. Viewers see a read-only notice.

`state` holds ComposeState, `display` how rows read, `forms` the per-channel message forms, `page` the page."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.compose.page import compose_page
from wecare_app.pages.compose.state import ComposeState
from wecare_app.pages.layout import add_signed_in_page

__all__ = ["ComposeState", "compose_page", "register"]


def register(app: rx.App) -> None:
    add_signed_in_page(app, compose_page, route="/inbox/compose", title="Compose", on_load=ComposeState.load)
