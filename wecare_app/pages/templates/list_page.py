"""/templates: the WhatsApp template catalogue as last synced, filtered by name and status, and the sync with the
provider (the slow call: off the event loop, the button busy while it runs, a second click ignored)."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.channels.whatsapp import templates
from wecare_app.components.controls import no_matches, results, search_input
from wecare_app.components.formatting import as_utc
from wecare_app.components.shell import empty_state
from wecare_app.pages.layout import signed_in_page, writers_only
from wecare_app.pages.templates.display import ALL, STATUS_CHOICES, bubble, segments, synced_label, template_key, template_row
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState


class TemplateCatalogueState(SessionState):
    catalogue: list[dict[str, str]] = []
    previews: dict[str, list[dict[str, str]]] = {}  # "<key>|header" and "<key>|body" -> segments
    status_filter: str = ALL
    query: str = ""
    synced_at: str = ""
    loading: bool = True
    syncing: bool = False
    load_error: str = ""
    # When the catalogue on screen was synced (POSIX seconds): the page load and a sync run side by side, and
    # whichever answers last must not put an older catalogue back on screen.
    _shown_synced: float = -1.0

    @rx.var
    def visible(self) -> list[dict[str, str]]:
        needle = self.query.strip().casefold()
        return [
            row
            for row in self.catalogue
            if (self.status_filter == ALL or row["status"] == self.status_filter) and needle in row["name"].casefold()
        ]

    @rx.var
    def status_counts(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUS_CHOICES if status != ALL}
        for row in self.catalogue:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return counts

    @rx.var
    def summary(self) -> str:
        if not self.catalogue:
            return ""
        counts = self.status_counts
        total = len(self.catalogue)
        text = (
            f"{total} template{'s' if total != 1 else ''}: {counts.get('APPROVED', 0)} approved, "
            f"{counts.get('PENDING', 0)} pending, {counts.get('REJECTED', 0)} rejected"
        )
        return text + (f" · last synced {self.synced_at}" if self.synced_at else "")

    @rx.event(background=True)
    async def load(self):
        """on_load: the catalogue as last synced (synced from the provider on first use)."""
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        async with self:
            self.loading = True
        try:
            catalogue = await self.run(templates.list_templates)
        except DomainError as error:
            async with self:
                self.loading = False
                self.load_error = error.message
            return error_toast(error)
        async with self:
            self._show(catalogue)
            self.loading = False
        return None

    @rx.event(background=True)
    async def sync(self):
        """Fetch the catalogue from WhatsApp now; clicks while a sync runs do nothing."""
        async with self:
            if self.syncing:
                return None
            self.syncing = True
        try:
            catalogue = await self.run(templates.list_templates, refresh=True)
        except DomainError as error:
            return error_toast(error)
        finally:
            async with self:
                self.syncing = False
        async with self:
            self._show(catalogue)
            self.loading = False
        count = len(catalogue.items)
        when = synced_label(catalogue.synced_at)
        return rx.toast.success(f"Synced {count} template{'s' if count != 1 else ''} from WhatsApp at {when}.")

    @rx.event
    def set_status_filter(self, value: str):
        self.status_filter = value

    @rx.event
    def set_query(self, value: str):
        self.query = value

    @rx.event
    def clear_filters(self):
        self.status_filter = ALL
        self.query = ""

    def _show(self, catalogue: templates.TemplateCatalogue) -> None:
        """Under the lock: show `catalogue`, unless the one on screen was synced later."""
        synced = as_utc(catalogue.synced_at).timestamp() if catalogue.synced_at is not None else 0.0
        if synced < self._shown_synced:
            return
        self._shown_synced = synced
        ordered = sorted(catalogue.items, key=lambda t: (t.name, t.language))
        self.catalogue = [template_row(t) for t in ordered]
        previews: dict[str, list[dict[str, str]]] = {}
        for template in ordered:
            previews[template_key(template) + "|header"] = segments(template.header_text or "")
            previews[template_key(template) + "|body"] = segments(template.body_text or "")
        self.previews = previews
        self.synced_at = synced_label(catalogue.synced_at)
        self.load_error = ""


def _template_card(row: rx.Var) -> rx.Component:
    key = row["key"].to(str)
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(row["name"], weight="bold", font_family="monospace", size="3", class_name="template-name"),
                rx.spacer(),
                rx.badge(row["status"], color_scheme=row["status_color"].to(str), class_name="template-status"),
                align="center",
                width="100%",
            ),
            rx.hstack(
                rx.tooltip(
                    rx.badge(rx.icon("languages", size=12), row["language"], variant="outline", color_scheme="gray"),
                    content=row["language_label"],
                ),
                rx.badge(row["category"], variant="soft", color_scheme="blue"),
                rx.badge(rx.icon("gauge", size=12), row["quality"], variant="soft", color_scheme=row["quality_color"].to(str)),
                spacing="2",
                wrap="wrap",
            ),
            bubble(
                TemplateCatalogueState.previews.get(key + "|header", []),
                TemplateCatalogueState.previews.get(key + "|body", []),
                row["footer"].to(str),
                placeholder_text="(no body text)",
            ),
            rx.text(row["parameters"], size="1", color=rx.color("gray", 10)),
            spacing="3",
            width="100%",
        ),
        class_name="template-row",
        width="100%",
    )


def _filters() -> rx.Component:
    return rx.hstack(
        search_input(
            TemplateCatalogueState.query,
            TemplateCatalogueState.set_query,
            "Search by name…",
            debounce_timeout=200,
            width="100%",
            max_width="360px",
            id="templates-search",
        ),
        rx.select(
            STATUS_CHOICES,
            value=TemplateCatalogueState.status_filter,
            on_change=TemplateCatalogueState.set_status_filter,
            id="templates-status",
        ),
        rx.spacer(),
        rx.text(TemplateCatalogueState.summary, size="2", color=rx.color("gray", 10), id="templates-summary"),
        align="center",
        spacing="3",
        width="100%",
        wrap="wrap",
    )


def _catalogue() -> rx.Component:
    grid = rx.grid(
        rx.foreach(TemplateCatalogueState.visible, _template_card),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
    )
    none_match = no_matches(
        "No templates match",
        "No template name contains that text with this status. Names are lower case with underscores.",
        TemplateCatalogueState.clear_filters,
    )
    nothing = rx.cond(
        TemplateCatalogueState.load_error != "",
        empty_state(
            "cloud-off",
            "Could not load templates",
            TemplateCatalogueState.load_error,
            rx.button("Try again", variant="soft", on_click=TemplateCatalogueState.sync),
        ),
        empty_state(
            "file-text",
            "No templates yet",
            "Templates are the pre-approved messages WhatsApp lets you send outside the 24-hour customer-service "
            "window. Create one here, or sync if you made them in WhatsApp Manager.",
            writers_only(rx.link(rx.button(rx.icon("plus", size=16), "New template"), href="/templates/new")),
        ),
    )
    return results(
        TemplateCatalogueState.loading,
        TemplateCatalogueState.catalogue,
        rx.vstack(
            _filters(),
            rx.cond(TemplateCatalogueState.visible.length() > 0, grid, none_match),
            spacing="4",
            width="100%",
        ),
        nothing,
    )


def templates_page() -> rx.Component:
    return signed_in_page(
        "Templates",
        _catalogue(),
        actions=rx.hstack(
            writers_only(
                rx.button(
                    rx.icon("refresh-cw", size=16),
                    "Sync with WhatsApp",
                    variant="soft",
                    loading=TemplateCatalogueState.syncing,
                    on_click=TemplateCatalogueState.sync,
                    id="templates-sync",
                )
            ),
            writers_only(rx.link(rx.button(rx.icon("plus", size=16), "New template", id="new-template-button"), href="/templates/new")),
            spacing="3",
        ),
        subtitle="WhatsApp message templates; only approved ones can be sent outside the 24-hour window",
    )
