"""How WhatsApp templates read on screen, shared by /templates and /templates/new: the choices, the placeholder
parsing, one catalogue row as plain strings, and the WhatsApp-like message bubble. No state, no service calls."""
from __future__ import annotations

import re
from datetime import datetime

import reflex as rx

from backend.services.channels.whatsapp.templates import Template
from wecare_app.components.formatting import as_utc

ALL = "all"
STATUS_CHOICES = [ALL, "APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"]
CATEGORIES = {
    "UTILITY": "Updates the customer expects: an order, an account, an appointment.",
    "MARKETING": "Offers, announcements and invitations; needs marketing consent.",
    "AUTHENTICATION": "One-time passcodes and sign-in confirmations.",
}
LANGUAGES = {
    "en_US": "English (US)",
    "en_GB": "English (UK)",
    "es_ES": "Spanish (Spain)",
    "fr_FR": "French",
    "de_DE": "German",
    "pt_BR": "Portuguese (Brazil)",
    "hi_IN": "Hindi",
    "ar": "Arabic",
}
OTHER_LANGUAGE = "other"
HEADER_MAX, BODY_MAX, FOOTER_MAX = 60, 1024, 60

_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")  # as WhatsApp (and backend.services.channels.whatsapp.templates) reads them
_STATUS_COLORS = {"APPROVED": "green", "PENDING": "amber", "REJECTED": "red", "PAUSED": "orange", "DISABLED": "gray"}
_QUALITY = {"GREEN": ("High quality", "green"), "YELLOW": ("Medium quality", "amber"), "RED": ("Low quality", "red")}


def placeholders(text: str) -> list[str]:
    """The distinct placeholder numbers in `text`, in numeric order ({{2}} {{1}} {{2}} -> ["1", "2"])."""
    return sorted({m for m in _PLACEHOLDER.findall(text or "")}, key=int)


def segments(text: str, examples: dict[str, str] | None = None) -> list[dict[str, str]]:
    """`text` cut into plain runs and placeholders. With examples, a placeholder that has one becomes
    kind "example" showing the example; the others stay kind "placeholder" showing {{n}}."""
    parts: list[dict[str, str]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text or ""):
        if match.start() > position:
            parts.append({"kind": "text", "text": text[position : match.start()]})
        number = match.group(1)
        example = (examples or {}).get(number, "").strip()
        if example:
            parts.append({"kind": "example", "text": example})
        else:
            parts.append({"kind": "placeholder", "text": "{{" + number + "}}"})
        position = match.end()
    if position < len(text or ""):
        parts.append({"kind": "text", "text": text[position:]})
    return parts


def template_key(template: Template) -> str:
    return f"{template.name}|{template.language}"


def template_row(template: Template) -> dict[str, str]:
    quality_label, quality_color = _QUALITY.get((template.quality or "").upper(), ("Quality unknown", "gray"))
    parameters = []
    if template.header_parameters:
        parameters.append(f"{template.header_parameters} in header")
    if template.body_parameters:
        parameters.append(f"{template.body_parameters} in body")
    return {
        "key": template_key(template),
        "template_id": template.template_id or "",
        "name": template.name,
        "language": template.language,
        "language_label": LANGUAGES.get(template.language, template.language),
        "category": (template.category or "—").upper(),
        "status": template.status,
        "status_color": _STATUS_COLORS.get(template.status, "gray"),
        "quality": quality_label,
        "quality_color": quality_color,
        "header": template.header_text or "",
        "body": template.body_text or "",
        "footer": template.footer_text or "",
        "parameters": "Parameters: " + ", ".join(parameters) if parameters else "No parameters",
    }


def synced_label(moment: datetime | None) -> str:
    return as_utc(moment).strftime("%d %b %Y, %H:%M UTC") if moment is not None else ""


# ---------------------------------------------------------------- components


def _segment(part: rx.Var) -> rx.Component:
    return rx.match(
        part["kind"],
        (
            "placeholder",
            rx.text.span(
                part["text"],
                font_family="monospace",
                font_size="0.9em",
                padding="0 3px",
                border_radius="4px",
                background=rx.color("amber", 4),
                color=rx.color("amber", 11),
                class_name="template-placeholder",
            ),
        ),
        (
            "example",
            rx.text.span(
                part["text"],
                padding="0 3px",
                border_radius="4px",
                background=rx.color("accent", 4),
                color=rx.color("accent", 12),
                class_name="template-example",
            ),
        ),
        rx.text.span(part["text"]),
    )


def bubble(header_parts, body_parts, footer, placeholder_text: str = "") -> rx.Component:
    """A WhatsApp-like message bubble: bold header, body with placeholders highlighted, grey footer."""
    return rx.box(
        rx.cond(
            header_parts.length() > 0,
            rx.text(rx.foreach(header_parts, _segment), weight="bold", size="2", margin_bottom="4px"),
            rx.fragment(),
        ),
        rx.cond(
            body_parts.length() > 0,
            rx.text(rx.foreach(body_parts, _segment), size="2", white_space="pre-wrap"),
            rx.text(placeholder_text, size="2", color=rx.color("gray", 9), font_style="italic"),
        ),
        rx.cond(footer != "", rx.text(footer, size="1", color=rx.color("gray", 10), margin_top="6px"), rx.fragment()),
        background=rx.color("grass", 3),
        border=f"1px solid {rx.color('grass', 5)}",
        padding="10px 12px",
        border_radius="4px 12px 12px 12px",
        width="100%",
        word_break="break-word",
    )
