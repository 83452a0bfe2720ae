"""/inbox/compose (writers): the page: recipients as chips, the message form, who can be reached and the
outcome of the last send. Viewers see a read-only notice."""
from __future__ import annotations

import reflex as rx

from backend.services.messaging.reachability import MAX_CONTACTS
from wecare_app.components.shell import empty_state
from wecare_app.pages.compose.forms import channel_picker, email_form, sms_form, voice_form, whatsapp_form
from wecare_app.pages.compose.state import ComposeState
from wecare_app.pages.layout import signed_in_page
from wecare_app.state.contact_search import contact_matches_list, contact_search_box
from wecare_app.state.session_state import SessionState


def _section(title: str, *children: rx.Component, trailing: rx.Component | None = None, **props) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(title, size="2", weight="bold", color=rx.color("gray", 11), text_transform="uppercase", letter_spacing="0.04em"),
                rx.spacer(),
                trailing if trailing is not None else rx.fragment(),
                align="center",
                width="100%",
            ),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
        **props,
    )


def _chip(recipient: rx.Var) -> rx.Component:
    return rx.badge(
        rx.text(recipient["name"], size="2"),
        rx.icon(
            "x",
            size=14,
            cursor="pointer",
            on_click=ComposeState.remove_recipient(recipient["contact_id"]),
            aria_label="Remove",
            class_name="compose-recipient-remove",
        ),
        size="2",
        variant="soft",
        radius="full",
        padding="4px 8px 4px 12px",
        class_name="compose-recipient",
        title=recipient["address"],
    )


def _recipients() -> rx.Component:
    return _section(
        "To",
        contact_search_box(
            ComposeState.contact_query,
            ComposeState.search_contacts,
            "Add a recipient: name, phone or email",
            box_id="compose-search",
            size="3",
        ),
        contact_matches_list(
            ComposeState.contact_matches,
            ComposeState.contact_query,
            ComposeState.add_recipient,
            item_class="compose-suggestion",
            chosen=ComposeState.recipient_ids,
        ),
        rx.cond(
            ComposeState.recipients.length() > 0,
            rx.flex(rx.foreach(ComposeState.recipients, _chip), wrap="wrap", gap="8px", width="100%", id="compose-recipients"),
            rx.text("Nobody yet. Search above and click a contact to add them.", size="2", color=rx.color("gray", 10)),
        ),
        trailing=rx.hstack(
            rx.text(ComposeState.recipients.length(), f" / {MAX_CONTACTS}", size="1", color=rx.color("gray", 10)),
            rx.cond(
                ComposeState.recipients.length() > 0,
                rx.button("Clear", size="1", variant="ghost", color_scheme="gray", on_click=ComposeState.clear_recipients),
            ),
            align="center",
            spacing="2",
        ),
    )


def _message() -> rx.Component:
    return _section(
        "Message",
        channel_picker(),
        rx.match(
            ComposeState.channel,
            ("sms", sms_form()),
            ("email", email_form()),
            ("whatsapp", whatsapp_form()),
            voice_form(),
        ),
        rx.divider(),
        rx.hstack(
            rx.cond(
                ComposeState.unreachable_count > 0,
                rx.text(ComposeState.unreachable_count, " can't be reached and will be skipped", size="2", color=rx.color("amber", 11)),
                rx.text("Each recipient gets their own message, in their conversation.", size="2", color=rx.color("gray", 10)),
            ),
            rx.spacer(),
            rx.button(
                rx.icon(rx.cond(ComposeState.channel == "voice", "phone-outgoing", "send"), size=16),
                ComposeState.send_label,
                size="3",
                on_click=ComposeState.send,
                loading=ComposeState.sending,
                disabled=ComposeState.reachable_count == 0,
                id="compose-send",
            ),
            align="center",
            width="100%",
        ),
    )


def _reach_row(row: rx.Var) -> rx.Component:
    ok = row["ok"].to(bool)
    return rx.hstack(
        rx.icon(rx.cond(ok, "circle-check", "circle-x"), size=18, color=rx.cond(ok, rx.color("green", 10), rx.color("red", 10)), flex_shrink="0", margin_top="2px"),
        rx.vstack(
            rx.hstack(
                rx.link(row["name"], href="/contacts/" + row["contact_id"].to(str), size="2", weight="medium", color="inherit"),
                rx.text(row["address"], size="1", color=rx.color("gray", 10), font_family="monospace"),
                spacing="2",
                align="baseline",
                wrap="wrap",
            ),
            rx.cond(row["reason"] != "", rx.text(row["reason"], size="1", color=rx.color("red", 11), class_name="reach-reason")),
            rx.cond(
                row["window"] != "",
                rx.badge(
                    rx.icon("clock", size=11),
                    row["window"],
                    size="1",
                    variant="soft",
                    color_scheme=rx.cond(row["window_open"].to(bool), "green", "amber"),
                ),
            ),
            spacing="1",
            min_width="0",
            width="100%",
        ),
        spacing="2",
        align="start",
        width="100%",
        padding_y="8px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name=rx.cond(ok, "reach-row reach-ok", "reach-row reach-refused"),
    )


def _reach() -> rx.Component:
    return _section(
        "Who can be reached",
        rx.cond(
            ComposeState.reach.length() > 0,
            rx.vstack(rx.foreach(ComposeState.reach, _reach_row), spacing="0", width="100%", id="compose-reach"),
            rx.text("Add recipients to check them against the channel's rules: consent, opt-outs and, on WhatsApp, the 24-hour window.", size="2", color=rx.color("gray", 10)),
        ),
        trailing=rx.cond(
            ComposeState.reach.length() > 0,
            rx.badge(
                ComposeState.reachable_count, " of ", ComposeState.reach.length(), " reachable",
                color_scheme=rx.cond(ComposeState.unreachable_count > 0, "amber", "green"),
                variant="soft",
                id="compose-reach-summary",
            ),
        ),
    )


def _outcome_row(row: rx.Var) -> rx.Component:
    """A recipient of the last send: refused (and why), or its message's status as it moves on, live."""
    queued = row["queued"].to(bool)
    going = queued & ~row["failed"].to(bool)
    return rx.hstack(
        rx.icon(rx.cond(going, "send", rx.cond(queued, "circle-alert", "ban")), size=16,
                color=rx.cond(going, rx.color("green", 10), rx.color("red", 10)), flex_shrink="0"),
        rx.vstack(
            rx.text(row["name"], size="2", weight="medium"),
            rx.text(row["detail"], size="1", color=rx.cond(going, rx.color("gray", 10), rx.color("red", 11)), class_name="send-status"),
            spacing="0",
            min_width="0",
        ),
        rx.spacer(),
        rx.cond(
            row["follow"].to(str).startswith("/voice/"),
            rx.link("Follow call", href=row["follow"].to(str), size="2"),
        ),
        rx.link(rx.icon("message-square", size=14), "Thread", href=row["thread"].to(str), size="2", display="flex", align_items="center", gap="4px"),
        align="center",
        spacing="2",
        width="100%",
        class_name="send-result",
    )


def _outcome() -> rx.Component:
    return rx.cond(
        ComposeState.outcome.length() > 0,
        _section(
            "Last send",
            rx.vstack(rx.foreach(ComposeState.outcome, _outcome_row), spacing="2", width="100%", id="compose-outcome"),
            trailing=rx.text(ComposeState.outcome_summary, size="1", color=rx.color("gray", 10)),
        ),
    )


def _read_only() -> rx.Component:
    return rx.box(
        empty_state(
            "eye",
            "Read only",
            "Viewers can read every conversation but cannot send. Ask an administrator for the Operator role to compose messages.",
            rx.link(rx.button("Open the inbox", variant="soft"), href="/inbox"),
        ),
        width="100%",
        id="compose-read-only",
    )


def compose_page() -> rx.Component:
    return signed_in_page(
        "Compose",
        rx.cond(
            SessionState.can_write,
            rx.grid(
                rx.vstack(_recipients(), _message(), spacing="4", width="100%"),
                rx.vstack(_reach(), _outcome(), spacing="4", width="100%"),
                columns=rx.breakpoints(initial="1", lg="minmax(0, 3fr) minmax(0, 2fr)"),
                spacing="4",
                width="100%",
                align_items="start",
            ),
            _read_only(),
        ),
        actions=rx.link(rx.button(rx.icon("inbox", size=16), "Inbox", variant="soft"), href="/inbox"),
        subtitle=f"One message to up to {MAX_CONTACTS} contacts on WhatsApp, SMS, email or voice",
    )

