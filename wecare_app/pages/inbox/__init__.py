"""Inbox module: /inbox (conversations) and /inbox/[contact_id] (one conversation), both live."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.inbox.conversations_page import InboxState, inbox_page
from wecare_app.pages.inbox.thread_page import ThreadState, thread_page
from wecare_app.pages.layout import add_signed_in_page


def register(app: rx.App) -> None:
    add_signed_in_page(app, inbox_page, route="/inbox", title="Inbox", on_load=InboxState.load)
    add_signed_in_page(app, thread_page, route="/inbox/[contact_id]", title="Conversation", on_load=[InboxState.load, ThreadState.load])
