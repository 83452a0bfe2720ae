"""Choosing an approved WhatsApp template and filling in its parameters, on any page that sends one.

A mixin (`mixin=True`, like `TokenPaging`): each state that lists it gets its own copy of the vars and
handlers. `selected_template` is what the page shows; `_template_request()` is the send request's content.
"""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.channels.whatsapp import templates


class TemplatePicker(rx.State, mixin=True):
    template_options: list[dict] = []
    template_key: str = ""
    template_params: list[str] = []
    template_param_labels: list[str] = []

    @rx.var
    def selected_template(self) -> dict:
        return self._selected_template()

    def _selected_template(self) -> dict:
        """The choice as it is now (event handlers read this, not the computed var)."""
        return next((t for t in self.template_options if t["key"] == self.template_key), {})

    def _load_template_options(self, actor) -> None:
        """The approved templates, read once per page state; a refused read leaves the picker empty."""
        if self.template_options:
            return
        try:
            catalogue = templates.list_templates(actor)
        except DomainError:
            return
        self.template_options = [_option(t) for t in catalogue.items if t.status == "APPROVED"]

    def _template_request(self) -> dict:
        """The chosen template with its parameters, as the WhatsApp send service takes it."""
        chosen = self._selected_template()
        headers = int(chosen["header_parameters"])
        return {
            "type": "template",
            "template": {
                "name": chosen["name"],
                "language": chosen["language"],
                "headerParameters": self.template_params[:headers],
                "bodyParameters": self.template_params[headers:],
            },
        }

    @rx.event
    def choose_template(self, key: str):
        self.template_key = key
        chosen = self._selected_template()
        headers = int(chosen["header_parameters"]) if chosen else 0
        bodies = int(chosen["body_parameters"]) if chosen else 0
        self.template_param_labels = [f"Header {{{{{n}}}}}" for n in range(1, headers + 1)] + [
            f"Body {{{{{n}}}}}" for n in range(1, bodies + 1)
        ]
        self.template_params = [""] * (headers + bodies)

    @rx.event
    def set_template_param(self, index: int, value: str):
        params = list(self.template_params)
        params[index] = value
        self.template_params = params


def _option(t: templates.Template) -> dict:
    return {
        "key": f"{t.name}|{t.language}",
        "label": f"{t.name} ({t.language})",
        "name": t.name,
        "language": t.language,
        "body": t.body_text or "",
        "body_parameters": t.body_parameters,
        "header_parameters": t.header_parameters,
    }
