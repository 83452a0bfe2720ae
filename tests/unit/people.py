"""Contacts and customer messages for the messaging tests: a contact with the consent asked for, and a customer's
WhatsApp message through the real inbound pipeline."""
from __future__ import annotations

import time

from backend.adapters.send_queue import lambda_handler
from backend.services.contacts.contacts import create_contact
from tests.conftest import unique_email, unique_phone
from tests.whatsapp_events import make_wamid, meta_message, sns_event, sns_message, webhook_entry

inbound = lambda_handler("inbound-whatsapp-handler")


def contact(actor, name: str, *, phone: bool = True, email: bool = False, **consent):
    data = {"name": name, **consent}
    if phone:
        data["phone"] = unique_phone()
    if email:
        data["email"] = unique_email()
    return create_contact(actor, data)


def customer_writes(phone: str, text: str = "hello", *, ts: int | None = None) -> None:
    """The customer's WhatsApp message (at `ts`, epoch seconds; now by default)."""
    entry = webhook_entry(
        [meta_message("text", wamid=make_wamid(phone[1:]), from_phone=phone[1:], text=text, ts=ts or int(time.time()))],
        from_phone=phone[1:],
    )
    inbound(sns_event(sns_message(entry)), None)
