"""Templates module: /templates (the WhatsApp template catalogue, synced from the provider) and /templates/new
(compose a template with a live preview and submit it to WhatsApp for review)."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.layout import add_signed_in_page
from wecare_app.pages.templates.list_page import TemplateCatalogueState, templates_page
from wecare_app.pages.templates.new_page import new_template_page
from wecare_app.pages.templates.new_state import NewTemplateState

__all__ = [
    "NewTemplateState",
    "TemplateCatalogueState",
    "new_template_page",
    "register",
    "templates_page",
]


def register(app: rx.App) -> None:
    add_signed_in_page(app, templates_page, route="/templates", title="Templates", on_load=TemplateCatalogueState.load)
    add_signed_in_page(app, new_template_page, route="/templates/new", title="New template", on_load=NewTemplateState.load)
