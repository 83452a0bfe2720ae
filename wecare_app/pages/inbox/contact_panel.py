"""The right pane of a conversation: who the contact is, their consent on each channel (with where it came
from), tags, recent calls, the team's latest notes, and campaigns (once bulk sends exist)."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.inbox.thread_state import ThreadState


def _section(title: str, *children: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(title, size="1", weight="bold", color=rx.color("gray", 10), text_transform="uppercase"), *children, spacing="1", width="100%")


def _quiet(text: str) -> rx.Component:
    return rx.text(text, size="1", color=rx.color("gray", 9))


def _consent_line(line: rx.Var) -> rx.Component:
    opted_in = line["state"] == "opted in"
    return rx.hstack(
        rx.icon(rx.cond(opted_in, "circle-check", "circle-minus"), size=14, color=rx.cond(opted_in, rx.color("green", 10), rx.color("gray", 9)), flex_shrink="0"),
        rx.vstack(
            rx.text(line["channel"] + ": " + line["state"], size="1", weight="medium"),
            rx.text(line["detail"], size="1", color=rx.color("gray", 10)),
            spacing="0",
        ),
        align="start",
        spacing="2",
    )


def contact_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            _section(
                "Contact",
                rx.text(ThreadState.contact_name, size="3", weight="bold"),
                rx.cond(ThreadState.contact_phone != "", rx.hstack(rx.icon("phone", size=12), rx.text(ThreadState.contact_phone, size="1"), spacing="1", align="center")),
                rx.cond(ThreadState.contact_email != "", rx.hstack(rx.icon("mail", size=12), rx.text(ThreadState.contact_email, size="1"), spacing="1", align="center")),
                rx.link("Open the contact", href="/contacts/" + ThreadState.contact_id, size="1", id="thread-contact"),
            ),
            _section("Consent", rx.foreach(ThreadState.consent, _consent_line)),
            _section(
                "Tags",
                rx.cond(ThreadState.contact_tags.length() > 0, rx.hstack(rx.foreach(ThreadState.contact_tags, lambda t: rx.badge(t, variant="outline", size="1")), wrap="wrap", spacing="1"), _quiet("No tags")),
            ),
            _section(
                "Recent calls",
                rx.cond(
                    ThreadState.calls.length() > 0,
                    rx.foreach(ThreadState.calls, lambda c: rx.text(c["time"].to(str) + " · " + c["status_label"].to(str), size="1")),
                    _quiet("No calls in the last 30 days"),
                ),
            ),
            _section(
                "Notes",
                rx.cond(
                    ThreadState.notes.length() > 0,
                    rx.foreach(ThreadState.notes, lambda n: rx.text(n["body"], size="1", class_name="panel-note", trim="both")),
                    _quiet("No notes yet: add one from the reply box's Private note tab"),
                ),
            ),
            _section("Campaigns", _quiet("No campaigns have reached this contact")),
            spacing="4",
            width="100%",
        ),
        width="100%",
        id="contact-panel",
    )
