"""Contacts module: /contacts, /contacts/new, /contacts/[contact_id], /contacts/import."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.contacts.detail_page import ContactDetailState, contact_detail_page
from wecare_app.pages.contacts.import_page import ContactImportState, contact_import_page
from wecare_app.pages.contacts.list_page import ContactListState, contacts_list_page
from wecare_app.pages.contacts.new_page import NewContactState, new_contact_page
from wecare_app.pages.layout import add_signed_in_page


def register(app: rx.App) -> None:
    add_signed_in_page(app, contacts_list_page, route="/contacts", title="Contacts", on_load=ContactListState.load)
    add_signed_in_page(app, new_contact_page, route="/contacts/new", title="New contact", on_load=NewContactState.start)
    add_signed_in_page(app, contact_import_page, route="/contacts/import", title="Import contacts", on_load=ContactImportState.reset_import)
    add_signed_in_page(app, contact_detail_page, route="/contacts/[contact_id]", title="Contact", on_load=ContactDetailState.load)
