"""Voice module: /voice (the call log), /voice/new (place a call) and /voice/[call_id] (one call), live."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.layout import add_signed_in_page
from wecare_app.pages.voice.call_page import VoiceCallState, voice_call_page
from wecare_app.pages.voice.log_page import VoiceLogState, voice_log_page
from wecare_app.pages.voice.new_page import NewCallState, new_call_page


def register(app: rx.App) -> None:
    add_signed_in_page(app, voice_log_page, route="/voice", title="Call log", on_load=VoiceLogState.open_log)
    add_signed_in_page(app, new_call_page, route="/voice/new", title="New call", on_load=NewCallState.start)
    add_signed_in_page(app, voice_call_page, route="/voice/[call_id]", title="Voice call", on_load=VoiceCallState.load)
