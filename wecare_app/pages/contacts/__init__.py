"""Contacts module: /contacts, /contacts/new, /contacts/[contact_id], /contacts/import."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.contacts.detail_page import ContactDetailState, contact_detail_page
from wecare_app.pages.contacts.import_page import ContactImportState, contact_import_page
from wecare_app.pages.contacts.list_page import ContactListState, contacts_list_page
from wecare_app.pages.contacts.new_page import NewContactState, new_contact_page
from wecare_app.state.session_state import SessionState


def register(app: rx.App) -> None:
    app.add_page(contacts_list_page, route="/contacts", title="Contacts · WECARE", on_load=[SessionState.require_session, ContactListState.load])
    app.add_page(new_contact_page, route="/contacts/new", title="New contact · WECARE", on_load=[SessionState.require_session, NewContactState.start])
    app.add_page(contact_import_page, route="/contacts/import", title="Import contacts · WECARE", on_load=[SessionState.require_session, ContactImportState.reset_import])
    app.add_page(contact_detail_page, route="/contacts/[contact_id]", title="Contact · WECARE", on_load=[SessionState.require_session, ContactDetailState.load])
