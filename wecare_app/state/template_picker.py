"""Choosing an approved WhatsApp template and filling in its parameters, on any page that sends one.

A mixin (`mixin=True`, like `TokenPaging`): each state that lists it gets its own copy of the vars and
handlers; the state must also be a SessionState. `selected_template` is what the page shows;
`_template_request()` is the send request's content. The catalogue is read off the event loop by
`await self._load_template_options()` from the page's background loader (never under the state lock).
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

    async def _load_template_options(self) -> None:
        """The approved templates, read once per page state (a first read may sync them from WhatsApp); a
        refused read leaves the picker empty. Call it from a background event, outside `async with self`."""
        if self.template_options:  # a snapshot is enough: a second read would only return the same catalogue
            return
        try:
            catalogue = await self.run(templates.list_templates)
        except DomainError:
            return
        options = [_option(t) for t in catalogue.items if t.status == "APPROVED"]
        async with self:
            self.template_options = options

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
