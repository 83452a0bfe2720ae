"""/admin/config (Admins): the app's settings.

- Settings: the typed settings of the catalog (backend/services/platform/settings_catalog.py), one card per
  group. Each shows its value in force, its default, who changed it last and when, an edit control suited to
  its kind, Save, Reset to default and its history; a refused value shows the reason under the field it names.
  Settings set by the environment (the send mode, the default country) are shown with where to change them.
  The same state and cards serve another page's group (`SettingsState.load(group)`, `group_card`): /ai/settings
  shows the AI group.
- Webhook: the URL to give the provider, where the signing secret comes from, the secret masked, Reveal (audited)
  and, for a local run's own secret, Rotate behind a confirmation (backend/services/platform/webhook_settings.py).
- Team inbox: the labels and canned replies (inbox_settings_card.py).

What an Admin can do, and why not, is the services' answer; the page only shows it. Every call runs off the
event loop."""
from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.config import get_config

from backend.errors import DomainError, PermissionDenied, ValidationError
from backend.services.platform import settings_catalog, webhook_settings
from backend.services.platform.settings_catalog import SettingChange, SettingView
from backend.services.platform.webhook_settings import WebhookInfo
from wecare_app.components.formatting import utc_stamp
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.inbox_settings_card import InboxSettingsState, inbox_settings_section
from wecare_app.pages.layout import add_signed_in_page, field_error, signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState

__all__ = ["ConfigState", "SettingsState", "admin_config_page", "group_card", "history_dialog", "register"]

DENIED = "Only administrators can see or change the app's configuration."


def webhook_url(path: str) -> str:
    """Where the provider posts: the app's API address (Reflex's api_url) and the webhook's path."""
    return get_config().api_url.rstrip("/") + path


class ConfigState(SessionState):
    loading: bool = True
    denied: str = ""
    busy: bool = False  # a reveal or a rotation is running
    url: str = ""
    source_label: str = ""
    configured: bool = False
    masked_secret: str = ""
    revealed: str = ""  # the full secret, only after Reveal, until Hide or the next load
    can_reveal: bool = False
    can_rotate: bool = False
    rotate_reason: str = ""
    meta_secret_configured: bool = False
    rotate_open: bool = False

    def _show(self, info: WebhookInfo) -> None:
        """Under the lock: the service's view of the webhook."""
        self.loading, self.denied = False, ""
        self.url = webhook_url(info.path)
        self.source_label = info.source_label
        self.configured = info.configured
        self.masked_secret = info.masked_secret
        self.can_reveal, self.can_rotate, self.rotate_reason = info.can_reveal, info.can_rotate, info.rotate_reason
        self.meta_secret_configured = info.meta_secret_configured

    @rx.event(background=True)
    async def load(self):
        async with self:
            self.loading, self.revealed, self.rotate_open = True, "", False
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        try:
            info = await self.run(webhook_settings.webhook_info)
        except DomainError as error:
            async with self:
                self.loading = False
                self.denied = DENIED if isinstance(error, PermissionDenied) else ""
            return None if isinstance(error, PermissionDenied) else error_toast(error)
        async with self:
            self._show(info)
        return None

    @rx.event(background=True)
    async def reveal(self):
        if not await self._start():
            return None
        try:
            secret = await self.run(webhook_settings.reveal_secret)
        except DomainError as error:
            async with self:
                self.busy = False
            return error_toast(error)
        async with self:
            self.busy, self.revealed = False, secret
        return None

    @rx.event
    def hide(self):
        self.revealed = ""

    @rx.event
    def set_rotate_open(self, value: bool):
        self.rotate_open = value

    @rx.event(background=True)
    async def rotate(self):
        if not await self._start():
            return None
        try:
            info = await self.run(webhook_settings.rotate_secret)
        except DomainError as error:
            async with self:
                self.busy, self.rotate_open = False, False
            return error_toast(error)
        async with self:
            self.busy, self.rotate_open, self.revealed = False, False, ""
            self._show(info)
        return rx.toast.success("New webhook secret in force: give it to the provider (Reveal shows it).")

    async def _start(self) -> bool:
        """Mark the card busy; False when an action is already running (a double click does nothing)."""
        async with self:
            if self.busy:
                return False
            self.busy = True
            return True


# ---------------------------------------------------------------- settings (the catalog)

QUIET_DRAFT = ("21:00", "08:00", "UTC")  # what the quiet-hours fields offer when none are set
SLOTS = {"perSecond": "a", "burst": "b", "start": "a", "end": "b", "timeZone": "c"}  # a value's parts → draft fields
LONG_TEXT = 200  # a text setting whose default is longer than this (a prompt) gets a tall box
_DRAFTS = ("draft_a", "draft_b", "draft_c")
_ERRORS = ("error", "error_a", "error_b", "error_c")


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def setting_row(view: SettingView) -> dict[str, Any]:
    """A setting as the page holds it: its words, and its value split into the edit controls' drafts."""
    value = view.value
    drafts = {"draft_a": "", "draft_b": "", "draft_c": "", "draft_on": False}
    if view.kind == "rate" and isinstance(value, dict):
        drafts.update(draft_a=_plain(value.get("perSecond")), draft_b=_plain(value.get("burst")))
    elif view.kind == "quiet_hours":
        start, end, zone = (value["start"], value["end"], value["timeZone"]) if value else QUIET_DRAFT
        drafts.update(draft_on=bool(value), draft_a=start, draft_b=end, draft_c=zone)
    elif view.kind == "switch":
        drafts.update(draft_on=bool(value))
    else:
        drafts.update(draft_a=_plain(value))
    changed = (f"Changed by {view.updated_by} on {utc_stamp(view.updated_at)}" if view.updated_at is not None else "")
    lines = 8 if view.kind == "text" and len(view.default_text) > LONG_TEXT else 3  # the text box's height
    return {
        "key": view.key, "label": view.label, "group": view.group, "help": view.help, "kind": view.kind,
        "unit": view.unit, "note": view.note, "reader": view.reader, "value_text": view.value_text,
        "default_text": view.default_text, "is_default": view.is_default, "changed": changed,
        "can_edit": view.can_edit, "edit_reason": view.edit_reason, "lines": str(lines), **drafts, **dict.fromkeys(_ERRORS, ""),
    }


def setting_value(row: dict[str, Any]) -> Any:
    """The value to save from a row's drafts, shaped as the setting's kind takes it (the service checks it)."""
    kind = row["kind"]
    if kind == "rate":
        return {"perSecond": row["draft_a"].strip(), "burst": row["draft_b"].strip() or None}
    if kind == "quiet_hours":
        return {"start": row["draft_a"], "end": row["draft_b"], "timeZone": row["draft_c"].strip()} if row["draft_on"] else None
    if kind == "switch":
        return bool(row["draft_on"])
    return row["draft_a"].strip()


def field_messages(key: str, error: DomainError) -> dict[str, str]:
    """The refusal under the field it names: `key.perSecond` under the first box, `key` under the setting."""
    field = error.field or key
    part = field[len(key) + 1:] if field.startswith(key + ".") else ""
    reason = error.message.partition(": ")[2] if error.message.startswith(field + ": ") else error.message
    return {f"error_{SLOTS[part]}" if part in SLOTS else "error": reason}


class SettingsState(SessionState):
    settings_loading: bool = True
    settings: list[dict[str, Any]] = []
    settings_group: str = ""  # the group the rows are of ("": every group)
    saving_key: str = ""  # the setting a save or reset is running for
    history_open: bool = False
    history_title: str = ""
    history: list[dict[str, str]] = []

    def _replace(self, key: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Under the lock: change one setting's row (a new list, so Reflex sends the change)."""
        found = None
        rows = []
        for row in self.settings:
            if row["key"] == key:
                row = found = {**row, **changes}
            rows.append(row)
        self.settings = rows
        return found

    @rx.event(background=True)
    async def load(self, group: str = ""):
        """The settings of every group, or of one (`group`, e.g. "AI" for /ai/settings)."""
        async with self:
            self.settings_loading = not self.settings or self.settings_group != group
        if not await self.signed_in():
            return None
        try:
            views = await self.run(settings_catalog.list_settings)
        except DomainError as error:
            async with self:
                self.settings_loading = False
            return None if isinstance(error, PermissionDenied) else error_toast(error)  # the page says Admins only
        async with self:
            self.settings = [setting_row(view) for view in views if not group or view.group == group]
            self.settings_group, self.settings_loading = group, False
        return None

    @rx.event
    def set_draft(self, key: str, name: str, value: Any):
        if name in (*_DRAFTS, "draft_on"):
            self._replace(key, {name: value, **dict.fromkeys(_ERRORS, "")})

    async def _change(self, key: str, service, *args: Any):
        async with self:
            if self.saving_key:
                return None
            self.saving_key = key
        try:
            view = await self.run(service, key, *args)
        except ValidationError as error:
            async with self:
                self.saving_key = ""
                self._replace(key, {**dict.fromkeys(_ERRORS, ""), **field_messages(key, error)})
            return None
        except DomainError as error:
            async with self:
                self.saving_key = ""
                self._replace(key, {**dict.fromkeys(_ERRORS, ""), **field_messages(key, error)})
            return error_toast(error)
        async with self:
            self.saving_key = ""
            self._replace(key, setting_row(view))
        return rx.toast.success(f"{view.label}: {view.value_text}", duration=2000)

    @rx.event(background=True)
    async def save(self, key: str):
        async with self:
            row = next((r for r in self.settings if r["key"] == key), None)
        if row is None:
            return None
        return await self._change(key, settings_catalog.update_setting, setting_value(row))

    @rx.event(background=True)
    async def set_switch(self, key: str, on: bool):
        """Turn a switch setting on or off at once, without a draft (/ai/settings' kill switch): the row shows the
        value in force once the service has stored it, and stays as it was when it refuses."""
        return await self._change(key, settings_catalog.update_setting, bool(on))

    @rx.event(background=True)
    async def reset_to_default(self, key: str):
        return await self._change(key, settings_catalog.reset_setting)

    @rx.event(background=True)
    async def show_history(self, key: str):
        async with self:
            label = next((r["label"] for r in self.settings if r["key"] == key), key)
            self.history_title, self.history, self.history_open = label, [], True
        try:
            changes: list[SettingChange] = await self.run(settings_catalog.setting_history, key)
        except DomainError as error:
            return error_toast(error)
        async with self:
            self.history = [{"at": utc_stamp(c.at), "actor": c.actor, "action": c.action, "before": c.before, "after": c.after}
                            for c in changes]
        return None

    @rx.event
    def set_history_open(self, value: bool):
        self.history_open = value


def _draft_input(row: rx.Var, slot: str, **props: Any) -> rx.Component:
    return rx.input(
        value=row[f"draft_{slot}"].to(str),
        on_change=lambda value: SettingsState.set_draft(row["key"].to(str), f"draft_{slot}", value),
        id="setting-" + row["key"].to(str) + f"-{slot}",
        size="2",
        **props,
    )


def _labelled_part(label: str, control: rx.Component, error: rx.Var) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color=rx.color("gray", 11)), control, field_error(error), spacing="1")


def _number_control(row: rx.Var) -> rx.Component:
    return rx.hstack(
        _labelled_part("Value", _draft_input(row, "a", type="number", step="any", width="140px"), row["error_a"].to(str)),
        rx.text(row["unit"], size="2", color=rx.color("gray", 10), padding_top="20px"),
        align="start",
        spacing="2",
    )


def _region_control(row: rx.Var) -> rx.Component:
    return rx.hstack(
        _labelled_part("Country code", _draft_input(row, "a", width="90px", max_length=2, placeholder="GB",
                                                     text_transform="uppercase"), row["error_a"].to(str)),
        align="start",
        spacing="2",
    )


def _rate_control(row: rx.Var) -> rx.Component:
    return rx.hstack(
        _labelled_part("Per second", _draft_input(row, "a", type="number", step="any", min="0", width="120px"), row["error_a"].to(str)),
        _labelled_part("Burst", _draft_input(row, "b", type="number", step="any", min="1", width="120px", placeholder="= per second"),
                       row["error_b"].to(str)),
        align="start",
        spacing="3",
    )


def _switch(row: rx.Var, label: str | rx.Var) -> rx.Component:
    return rx.hstack(
        rx.switch(checked=row["draft_on"].to(bool),
                  on_change=lambda value: SettingsState.set_draft(row["key"].to(str), "draft_on", value),
                  id="setting-" + row["key"].to(str) + "-on"),
        rx.text(label, size="2"),
        align="center",
        spacing="2",
    )


def _text_control(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text_area(
            value=row["draft_a"].to(str),
            on_change=lambda value: SettingsState.set_draft(row["key"].to(str), "draft_a", value),
            id="setting-" + row["key"].to(str) + "-a",
            rows=row["lines"].to(str),
            resize="vertical",
            width="100%",
            size="2",
        ),
        rx.text(row["draft_a"].to(str).length().to_string(), " characters", size="1", color=rx.color("gray", 10)),
        spacing="1",
        width="100%",
    )


def _quiet_control(row: rx.Var) -> rx.Component:
    return rx.vstack(
        _switch(row, "Hold campaign messages during quiet hours"),
        rx.cond(
            row["draft_on"].to(bool),
            rx.hstack(
                _labelled_part("From", _draft_input(row, "a", type="time", width="120px"), row["error_a"].to(str)),
                _labelled_part("Until", _draft_input(row, "b", type="time", width="120px"), row["error_b"].to(str)),
                _labelled_part("Time zone", _draft_input(row, "c", placeholder="Europe/London", width="200px"), row["error_c"].to(str)),
                align="start",
                spacing="3",
                wrap="wrap",
            ),
            rx.fragment(),
        ),
        spacing="2",
    )


def _control(row: rx.Var) -> rx.Component:
    return rx.match(
        row["kind"].to(str),
        ("rate", _rate_control(row)),
        ("switch", _switch(row, rx.cond(row["draft_on"].to(bool), "On", "Off"))),
        ("quiet_hours", _quiet_control(row)),
        ("region", _region_control(row)),
        ("text", _text_control(row)),
        _number_control(row),
    )


def _setting_actions(row: rx.Var) -> rx.Component:
    key = row["key"].to(str)
    return rx.hstack(
        rx.button("Save", size="2", on_click=SettingsState.save(key), loading=SettingsState.saving_key == key,
                  id="setting-" + key + "-save"),
        rx.button("Reset to default", size="2", variant="soft", color_scheme="gray", on_click=SettingsState.reset_to_default(key),
                  disabled=row["is_default"].to(bool) & (row["changed"].to(str) == ""), id="setting-" + key + "-reset"),
        rx.button(rx.icon("history", size=14), "History", size="2", variant="ghost", on_click=SettingsState.show_history(key)),
        spacing="2",
        align="center",
    )


def _setting(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(row["label"], weight="bold", size="2"),
            rx.cond(row["is_default"].to(bool), rx.badge("Default", color_scheme="gray", variant="soft", size="1"),
                    rx.badge("Changed", color_scheme="blue", variant="soft", size="1")),
            rx.spacer(),
            rx.text(row["changed"], size="1", color=rx.color("gray", 10)),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        rx.text(row["help"], size="2", color=rx.color("gray", 11)),
        rx.cond(row["note"].to(str) != "", rx.callout(row["note"], icon="clock", color_scheme="amber", size="1"), rx.fragment()),
        rx.cond(
            row["can_edit"].to(bool),
            rx.vstack(
                _control(row),
                field_error(row["error"].to(str)),
                _setting_actions(row),
                spacing="2",
                width="100%",
            ),
            rx.vstack(
                rx.code(row["value_text"], size="3", class_name="setting-fixed-value"),
                rx.callout(row["edit_reason"], icon="lock", color_scheme="gray", size="1"),
                spacing="2",
                width="100%",
            ),
        ),
        rx.cond(
            row["kind"].to(str) == "text",  # the box shows the words in force: only the default, once changed
            rx.cond(row["is_default"].to(bool), rx.fragment(),
                    rx.text("Default: ", row["default_text"], size="1", color=rx.color("gray", 10), class_name="setting-default",
                            style={"display": "-webkit-box", "-webkit-line-clamp": "2", "-webkit-box-orient": "vertical",
                                   "overflow": "hidden"})),
            rx.text("In force: ", rx.text.strong(row["value_text"]), " · Default: ", row["default_text"], size="1", color=rx.color("gray", 10)),
        ),
        spacing="2",
        width="100%",
        padding_y="12px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        id="setting-" + row["key"].to(str),
        class_name="setting-row",
    )


def group_card(group: str, *, title: str | None = None, hide: str = "") -> rx.Component:
    """A group's settings in a card (`hide`: a key another control of the page shows)."""
    more = (rx.link("Usage and per-sender limits", rx.icon("arrow-right", size=14), href="/admin/rate-limits", size="2", white_space="nowrap")
            if group == settings_catalog.RATE_LIMITS else rx.fragment())
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(title or group, size="3"), rx.spacer(), more, align="center", width="100%"),
            rx.foreach(SettingsState.settings, lambda row: rx.cond((row["group"] == group) & (row["key"] != hide), _setting(row),
                                                                   rx.fragment())),
            spacing="0",
            width="100%",
        ),
        width="100%",
    )


def history_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(SettingsState.history_title, ": history"),
            rx.cond(
                SettingsState.history.length() > 0,
                rx.vstack(
                    rx.foreach(SettingsState.history, lambda change: rx.vstack(
                        rx.text(change["at"], " · ", change["actor"], " ", change["action"], " it", size="1", color=rx.color("gray", 10)),
                        rx.text(change["before"], " → ", rx.text.strong(change["after"]), size="2"),
                        spacing="0",
                        width="100%",
                    )),
                    spacing="3",
                    max_height="60vh",
                    overflow_y="auto",
                ),
                rx.text("No changes yet: it has had its default since the app started.", size="2", color=rx.color("gray", 10)),
            ),
            rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")), justify="end", margin_top="16px"),
            max_width="560px",
        ),
        open=SettingsState.history_open,
        on_open_change=SettingsState.set_history_open,
    )


def settings_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Settings", size="4"),
        rx.text("A change holds at once, without a restart, and is kept in the audit log.", size="2", color=rx.color("gray", 10)),
        loading_block(SettingsState.settings_loading,
                      rx.vstack(*[group_card(group) for group in settings_catalog.GROUPS], spacing="3", width="100%")),
        history_dialog(),
        spacing="3",
        width="100%",
        id="settings-section",
    )


def _row(label: str, *value: rx.Component) -> rx.Component:
    return rx.hstack(rx.text(label, weight="medium", size="2", width="120px", flex_shrink="0"), *value, align="center", width="100%")


def _secret_value() -> rx.Component:
    return rx.cond(
        ConfigState.configured,
        rx.hstack(
            rx.code(rx.cond(ConfigState.revealed != "", ConfigState.revealed, ConfigState.masked_secret), id="webhook-secret", word_break="break-all"),
            rx.cond(
                ConfigState.revealed != "",
                rx.button("Hide", size="1", variant="soft", color_scheme="gray", on_click=ConfigState.hide, id="webhook-hide"),
                rx.button("Reveal", size="1", variant="soft", on_click=ConfigState.reveal, loading=ConfigState.busy,
                          disabled=~ConfigState.can_reveal, id="webhook-reveal"),
            ),
            align="center",
            wrap="wrap",
        ),
        rx.badge("Not configured: every delivery is refused", color_scheme="red"),
    )


def _rotate_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(rx.icon("rotate-cw", size=16), "Rotate secret", color_scheme="orange", variant="soft", id="webhook-rotate")
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Rotate the webhook secret?"),
            rx.alert_dialog.description(
                "A new random secret replaces the current one at once. Deliveries signed with the old secret will be "
                "refused from now on, until the provider is given the new one."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep the current secret", variant="soft", color_scheme="gray")),
                rx.button("Rotate", color_scheme="orange", on_click=ConfigState.rotate, loading=ConfigState.busy, id="webhook-rotate-confirm"),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=ConfigState.rotate_open,
        on_open_change=ConfigState.set_rotate_open,
    )


def _webhook_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Webhook", size="4"),
            rx.text("Inbound WhatsApp events are posted here, signed with the secret below.", size="2", color=rx.color("gray", 10)),
            _row("URL", rx.code(ConfigState.url, id="webhook-url")),
            _row("Secret from", rx.text(ConfigState.source_label, size="2", id="webhook-source")),
            _row("Secret", _secret_value()),
            _row("Meta's format", rx.text(
                rx.cond(ConfigState.meta_secret_configured, "checked with WECARE_META_APP_SECRET",
                        "refused: WECARE_META_APP_SECRET is not set"), size="2")),
            rx.cond(
                ConfigState.can_rotate,
                _rotate_dialog(),
                rx.callout(ConfigState.rotate_reason, icon="info", color_scheme="gray", size="1", id="webhook-rotate-reason"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        max_width="760px",
    )


def admin_config_page() -> rx.Component:
    return signed_in_page(
        "Configuration",
        rx.cond(
            ConfigState.denied != "",
            empty_state("shield-alert", "Admins only", ConfigState.denied + " Ask an administrator for a change."),
            loading_block(ConfigState.loading, rx.vstack(
                rx.box(settings_section(), max_width="760px", width="100%"),
                _webhook_card(),
                rx.box(inbox_settings_section(), max_width="760px", width="100%"),
                spacing="6",
                width="100%",
            )),
        ),
        subtitle="The app's settings, the webhook and the team inbox's labels and replies",
    )


def register(app: rx.App) -> None:
    add_signed_in_page(app, admin_config_page, route="/admin/config", title="Configuration", on_load=[ConfigState.load, SettingsState.load, InboxSettingsState.load])
