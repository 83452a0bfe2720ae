"""The composer's message forms, one per channel: SMS with its live segment counter, email with its sanitised
preview, WhatsApp text or an approved template, and what a call says."""
from __future__ import annotations

import reflex as rx

from backend.services.channels.sms.send import MAX_BODY
from wecare_app.components.formatting import CHANNEL_ICONS, CHANNEL_LABELS
from wecare_app.components.template_fields import template_fields
from wecare_app.pages.compose.display import CHANNELS, WHATSAPP_TEXT_MAX
from wecare_app.pages.compose.state import ComposeState
from wecare_app.state.speech_form import speech_fields, speech_preview


def channel_picker() -> rx.Component:
    return rx.segmented_control.root(
        *[
            rx.segmented_control.item(
                rx.hstack(rx.icon(CHANNEL_ICONS[c], size=14), rx.text(CHANNEL_LABELS[c]), spacing="2", align="center"),
                value=c,
            )
            for c in CHANNELS
        ],
        value=ComposeState.channel,
        on_change=ComposeState.set_channel,
        size="2",
        width="100%",
        id="compose-channel",
    )


def _label(text: str, trailing=None) -> rx.Component:
    return rx.hstack(
        rx.text(text, size="2", weight="medium"),
        rx.spacer(),
        trailing if trailing is not None else rx.fragment(),
        width="100%",
        align="center",
    )


def sms_form() -> rx.Component:
    counter = ComposeState.segments
    return rx.vstack(
        _label("Text message", rx.text(ComposeState.body.length(), f" / {MAX_BODY:,}", size="1", color=rx.color("gray", 9))),
        rx.text_area(
            value=ComposeState.body,
            on_change=ComposeState.set_body,
            placeholder="Hi, your order is ready for collection. Reply STOP to opt out.",
            rows="6",
            width="100%",
            max_length=MAX_BODY,
            id="compose-body",
        ),
        rx.hstack(
            rx.icon("message-square", size=14, color=rx.cond(counter["ucs2"] != "", rx.color("amber", 10), rx.color("blue", 10))),
            rx.text(counter["summary"], size="2", weight="medium", id="compose-segments"),
            rx.text(counter["note"], size="1", color=rx.color("gray", 10)),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(
            counter["ucs2"] != "",
            rx.callout(
                "A character outside the GSM-7 alphabet (an emoji, curly quotes, many accents) sends the whole text as "
                "UCS-2: 70 characters a part instead of 160.",
                icon="info",
                size="1",
                color_scheme="amber",
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
    )


# The app's CSS reset strips the browser's default look of headings, lists and links; the preview puts back
# roughly what a mail client shows.
EMAIL_PREVIEW_STYLE = {
    "& h1, & h2, & h3, & h4": {"font_weight": "700", "line_height": "1.3", "margin": "0 0 0.5em"},
    "& h1": {"font_size": "1.6em"},
    "& h2": {"font_size": "1.35em"},
    "& h3": {"font_size": "1.15em"},
    "& p, & ul, & ol, & blockquote, & table": {"margin": "0 0 0.75em"},
    "& ul": {"list_style": "disc", "padding_left": "1.5em"},
    "& ol": {"list_style": "decimal", "padding_left": "1.5em"},
    "& a": {"color": "#0b57d0", "text_decoration": "underline"},
    "& blockquote": {"border_left": "3px solid #ccc", "padding_left": "12px", "color": "#555"},
    "& td, & th": {"border": "1px solid #ddd", "padding": "4px 8px"},
    "& img": {"max_width": "100%"},
}


def email_form() -> rx.Component:
    return rx.vstack(
        _label("Subject"),
        rx.input(value=ComposeState.subject, on_change=ComposeState.set_subject, placeholder="Your appointment on Friday", width="100%", id="compose-subject"),
        _label("HTML", rx.text("optional", size="1", color=rx.color("gray", 9))),
        rx.text_area(
            value=ComposeState.html,
            on_change=ComposeState.set_html.debounce(300),
            placeholder="<h2>See you on Friday</h2>\n<p>Hello <b>Sam</b>, your appointment is at <b>10:00</b>.</p>",
            rows="7",
            width="100%",
            font_family="monospace",
            font_size="12px",
            id="compose-html",
        ),
        rx.cond(
            ComposeState.html.strip() != "",
            rx.vstack(
                _label(
                    "Preview, as it will be sent",
                    rx.cond(
                        ComposeState.html_trimmed,
                        rx.tooltip(
                            rx.badge(rx.icon("shield-check", size=12), "unsafe markup removed", color_scheme="amber", variant="soft", size="1"),
                            content="Scripts, styles, event handlers and unsafe links are not sent",
                        ),
                    ),
                ),
                rx.box(
                    rx.cond(
                        ComposeState.html_preview != "",
                        rx.html(ComposeState.html_preview, id="compose-html-preview"),
                        rx.text("Nothing is left once unsafe markup is removed.", size="2", color="#777"),
                    ),
                    padding="16px 20px",
                    max_height="320px",
                    overflow_y="auto",
                    width="100%",
                    border_radius="8px",
                    background="white",
                    color="#1a1a1a",
                    border=f"1px solid {rx.color('gray', 6)}",
                    font_size="14px",
                    line_height="1.5",
                    style=EMAIL_PREVIEW_STYLE,
                    class_name="email-preview",
                ),
                spacing="1",
                width="100%",
            ),
        ),
        _label("Plain text", rx.text("optional with HTML: made from it when empty", size="1", color=rx.color("gray", 9))),
        rx.text_area(
            value=ComposeState.email_text,
            on_change=ComposeState.set_email_text,
            placeholder="Hello Sam, see you on Friday at 10:00.",
            rows="3",
            width="100%",
            id="compose-body",
        ),
        rx.text(
            "Scripts, styles, forms, event handlers and non-HTTPS images are removed before the email is stored. "
            "Every email carries an unsubscribe header.",
            size="1",
            color=rx.color("gray", 10),
        ),
        spacing="2",
        width="100%",
    )


def _whatsapp_text() -> rx.Component:
    return rx.vstack(
        _label("Message", rx.text(ComposeState.body.length(), f" / {WHATSAPP_TEXT_MAX:,}", size="1", color=rx.color("gray", 9))),
        rx.text_area(
            value=ComposeState.body,
            on_change=ComposeState.set_body,
            placeholder="Hi! Thanks for your message, here is the update you asked for…",
            rows="5",
            width="100%",
            max_length=WHATSAPP_TEXT_MAX,
            id="compose-body",
        ),
        spacing="2",
        width="100%",
    )


def _whatsapp_template() -> rx.Component:
    return rx.vstack(
        _label("Approved template"),
        template_fields(
            ComposeState, select_id="compose-template", param_class="compose-template-param",
            extra=rx.text("Every recipient gets the same values.", size="1", color=rx.color("gray", 10)),
        ),
        spacing="2",
        width="100%",
        id="compose-template-picker",
    )


def whatsapp_form() -> rx.Component:
    return rx.vstack(
        rx.cond(
            ComposeState.all_windows_open,
            rx.segmented_control.root(
                rx.segmented_control.item("Message", value="text"),
                rx.segmented_control.item("Template", value="template"),
                value=ComposeState.whatsapp_mode,
                on_change=ComposeState.set_whatsapp_choice,
                size="1",
            ),
            rx.callout(
                rx.cond(
                    ComposeState.recipients.length() > 0,
                    "Not every recipient's 24-hour window is open, so only an approved template can go to all of them.",
                    "Free text needs every recipient's 24-hour window open; otherwise choose an approved template.",
                ),
                icon="clock",
                size="1",
                color_scheme="amber",
                width="100%",
            ),
        ),
        rx.cond(ComposeState.whatsapp_mode == "text", _whatsapp_text(), _whatsapp_template()),
        spacing="3",
        width="100%",
    )


def voice_form() -> rx.Component:
    return rx.vstack(
        speech_fields(
            ComposeState.speech_text,
            ComposeState.speech_type,
            ComposeState.voice_id,
            ComposeState.set_speech_text,
            ComposeState.set_speech_type,
            ComposeState.set_voice_id,
            ComposeState.use_ssml_example,
            text_id="compose-body",
            voice_select_id="compose-voice",
        ),
        speech_preview(ComposeState.speech_preview, ComposeState.voice_id, estimate_id="compose-estimate"),
        spacing="3",
        width="100%",
    )

