"""Voice module: /voice (the call log), /voice/new (place a call) and /voice/[call_id] (one call), live."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.voice.call_page import VoiceCallState, voice_call_page
from wecare_app.pages.voice.log_page import VoiceLogState, voice_log_page
from wecare_app.pages.voice.new_page import NewCallState, new_call_page
from wecare_app.state.session_state import SessionState


def register(app: rx.App) -> None:
    app.add_page(voice_log_page, route="/voice", title="Call log · WECARE", on_load=[SessionState.require_session, VoiceLogState.open_log])
    app.add_page(new_call_page, route="/voice/new", title="New call · WECARE", on_load=[SessionState.require_session, NewCallState.start])
    app.add_page(voice_call_page, route="/voice/[call_id]", title="Voice call · WECARE", on_load=[SessionState.require_session, VoiceCallState.load])
