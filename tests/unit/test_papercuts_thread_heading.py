"""The conversation page is titled with who it is with (issue 11): the contact's name, its address under it,
from the contact the thread already reads (no extra service call)."""
from __future__ import annotations

from types import SimpleNamespace

import reflex as rx

from wecare_app.pages.inbox.thread_page import ThreadState, thread_page


def _state() -> ThreadState:
    root = rx.State(_reflex_internal_init=True)
    return root.get_substate(ThreadState.get_full_name().split(".")[1:])


def _contact(name: str, phone: str | None, email: str | None):
    no_consent = {f"opt_in_{channel}": False for channel in ("whatsapp", "sms", "email", "voice")}
    return SimpleNamespace(name=name, phone=phone, email=email, channels={}, window_closes_at=None, tags=[], consent={}, **no_consent)


NO_OPTIONS = SimpleNamespace(channels=[], default_channel=None, email_subject=None)


def test_the_heading_is_the_contacts_name_with_the_address_under_it():
    state = _state()
    assert state.heading == "Conversation"  # before the contact is read
    state._show_contact(_contact("Grace Hopper", "+447700900123", "grace@example.com"), None, NO_OPTIONS)
    assert state.heading == "Grace Hopper"
    assert state.contact_address == "+447700900123"


def test_an_email_only_contact_shows_its_email_under_the_name():
    state = _state()
    state._show_contact(_contact("Ann Lee", None, "ann@example.com"), None, NO_OPTIONS)
    assert state.contact_address == "ann@example.com"


def test_the_page_title_and_subtitle_are_the_state_vars():
    rendered = str(thread_page())
    assert str(ThreadState.heading) in rendered and str(ThreadState.contact_address) in rendered
    assert '"Conversation")' not in rendered  # the old fixed title
