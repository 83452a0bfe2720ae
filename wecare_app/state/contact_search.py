"""Finding a contact as you type (name prefix, phone or email, as /contacts searches), for the pages that pick
recipients: the compose page's chips, /voice/new's callee and /voice's contact filter. `ContactSearch` is a
state mixin (the page's state must also be a SessionState); `contact_matches_list` renders its matches.

The search runs as a background event with the service call off the event loop; typing fires one search per
pause, and only the newest one's matches are shown (an older answer that returns late is dropped)."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.contacts import contacts
from backend.services.contacts.schemas import Contact
from wecare_app.components.controls import search_input
from wecare_app.components.formatting import initials
from wecare_app.state.feedback import error_toast

MATCHES = 8


def contact_choice(contact: Contact) -> dict[str, str]:
    """A contact as the pickers show it."""
    consent = [label for label, on in (("WhatsApp", contact.opt_in_whatsapp), ("SMS", contact.opt_in_sms), ("Email", contact.opt_in_email),
                                                  ("Voice", contact.opt_in_voice)) if on]
    return {
        "contact_id": contact.contact_id,
        "name": contact.name,
        "initials": initials(contact.name),
        "phone": contact.phone or "",
        "email": contact.email or "",
        "address": " · ".join(filter(None, (contact.phone, contact.email))),
        "consent": ", ".join(consent) if consent else "no consent recorded",
    }


class ContactSearch(rx.State, mixin=True):
    contact_query: str = ""
    contact_matches: list[dict[str, str]] = []
    _contact_search: int = 0  # the newest search's number: older answers are dropped

    @rx.event(background=True)
    async def search_contacts(self, value: str):
        async with self:
            self.contact_query = value
            self._contact_search += 1
            ticket = self._contact_search
            if not value.strip():
                self.contact_matches = []
                return None
        try:
            page = await self.run(contacts.search_contacts, value.strip(), limit=MATCHES)
        except DomainError as error:
            async with self:
                if ticket != self._contact_search:
                    return None
                self.contact_matches = []
            return error_toast(error)
        async with self:
            if ticket == self._contact_search:
                self.contact_matches = [contact_choice(c) for c in page.items]
        return None

    def _clear_search(self) -> None:
        """Under the lock: an empty box (a search still on its way is dropped)."""
        self.contact_query = ""
        self.contact_matches = []
        self._contact_search += 1


def contact_search_box(query, on_search, placeholder: str, *, box_id: str, **props) -> rx.Component:
    return search_input(query, on_search, placeholder, debounce_timeout=250, width="100%", id=box_id, auto_complete="off", **props)


def contact_matches_list(matches, query, on_pick, *, item_class: str, chosen=None) -> rx.Component:
    """The matches under the search box; `on_pick(contact_id)` adds one. `chosen` (a list var of ids) greys out
    those already picked."""

    def item(match: rx.Var) -> rx.Component:
        picked = chosen.contains(match["contact_id"]) if chosen is not None else False
        return rx.hstack(
            rx.avatar(fallback=match["initials"].to(str), size="2", radius="full"),
            rx.vstack(
                rx.text(match["name"], size="2", weight="medium"),
                rx.text(match["address"], size="1", color=rx.color("gray", 10), font_family="monospace"),
                spacing="0",
                min_width="0",
            ),
            rx.spacer(),
            rx.text(match["consent"], size="1", color=rx.color("gray", 10)),
            rx.cond(picked, rx.badge("added", size="1", variant="soft", color_scheme="gray"), rx.icon("plus", size=16, color=rx.color("accent", 10))),
            align="center",
            spacing="3",
            width="100%",
            padding="8px 12px",
            cursor="pointer",
            _hover={"background": rx.color("accent", 2)},
            on_click=on_pick(match["contact_id"]),
            class_name=item_class,
        )

    return rx.cond(
        query.to(str).strip() != "",
        rx.card(
            rx.cond(
                matches.length() > 0,
                rx.vstack(rx.foreach(matches, item), spacing="0", width="100%"),
                rx.text("No contact matches. Search by the start of a name, a full phone number or an email.", size="2", color=rx.color("gray", 10), padding="8px 12px"),
            ),
            padding="4px 0",
            width="100%",
        ),
    )
