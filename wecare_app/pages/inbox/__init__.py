"""Inbox module: /inbox (conversations) and /inbox/[contact_id] (one conversation), both live."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.inbox.conversations_page import InboxState, inbox_page
from wecare_app.pages.inbox.thread_page import ThreadState, thread_page
from wecare_app.state.session_state import SessionState


def register(app: rx.App) -> None:
    app.add_page(inbox_page, route="/inbox", title="Inbox · WECARE", on_load=[SessionState.require_session, InboxState.load])
    app.add_page(thread_page, route="/inbox/[contact_id]", title="Conversation · WECARE", on_load=[SessionState.require_session, ThreadState.load])
