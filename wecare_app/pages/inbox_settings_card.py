"""The team inbox's settings, for Admins (a section of /admin/config): the label catalog and the canned replies.
Each change saves the whole list through the service, which validates it (a refusal names the field) and
audits it with before and after."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.messaging import inbox_settings
from backend.services.rules.channels import CHANNEL_NAMES
from wecare_app.components.formatting import CHANNEL_LABELS
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState


class InboxSettingsState(SessionState):
    labels: list[dict[str, str]] = []
    replies: list[dict] = []
    new_label: str = ""
    new_color: str = "blue"
    new_shortcut: str = ""
    new_title: str = ""
    new_text: str = ""
    new_channel: str = "any"
    saving: bool = False

    @rx.event(background=True)
    async def load(self):
        if not await self.signed_in():
            return None
        try:
            labels = await self.run(inbox_settings.list_labels)
            replies = await self.run(inbox_settings.list_canned_replies)
        except DomainError as error:
            return error_toast(error)
        async with self:
            self._show(labels, replies)
        return None

    def _show(self, labels, replies) -> None:
        self.labels = [{"name": label.name, "color": label.color} for label in labels]
        self.replies = [{"shortcut": r.shortcut, "title": r.title, "text": r.text, "channels": list(r.channels),
                         "where": ", ".join(CHANNEL_LABELS[c] for c in r.channels) or "Every channel"} for r in replies]

    async def _save(self, service, payload: dict, done: str, after=None):
        async with self:
            if self.saving:
                return None
            self.saving = True
        try:
            await self.run(service, payload)
            labels = await self.run(inbox_settings.list_labels)
            replies = await self.run(inbox_settings.list_canned_replies)
        except DomainError as error:
            async with self:
                self.saving = False
            return error_toast(error)
        async with self:
            self.saving = False
            self._show(labels, replies)
            if after is not None:
                after()
        return rx.toast.success(done, duration=1500)

    @rx.event
    def set_new_label(self, value: str):
        self.new_label = value

    @rx.event
    def set_new_color(self, value: str):
        self.new_color = value

    @rx.event
    def set_new_shortcut(self, value: str):
        self.new_shortcut = value

    @rx.event
    def set_new_title(self, value: str):
        self.new_title = value

    @rx.event
    def set_new_text(self, value: str):
        self.new_text = value

    @rx.event
    def set_new_channel(self, value: str):
        self.new_channel = value

    def _label_list(self, extra: list[dict] | None = None, without: str | None = None) -> dict:
        return {"labels": [label for label in self.labels if label["name"] != without] + (extra or [])}

    def _reply_list(self, extra: list[dict] | None = None, without: str | None = None) -> dict:
        kept = [{k: r[k] for k in ("shortcut", "title", "text", "channels")} for r in self.replies if r["shortcut"] != without]
        return {"replies": kept + (extra or [])}

    @rx.event(background=True)
    async def add_label(self):
        async with self:
            payload = self._label_list([{"name": self.new_label.strip(), "color": self.new_color}])

        def clear() -> None:
            self.new_label = ""

        return await self._save(inbox_settings.save_labels, payload, "Label added", clear)

    @rx.event(background=True)
    async def remove_label(self, name: str):
        async with self:
            payload = self._label_list(without=name)
        return await self._save(inbox_settings.save_labels, payload, f"Label {name} removed")

    @rx.event(background=True)
    async def add_reply(self):
        async with self:
            channels = [] if self.new_channel == "any" else [self.new_channel]
            reply = {"shortcut": self.new_shortcut.strip().lstrip("/"), "title": self.new_title, "text": self.new_text, "channels": channels}
            payload = self._reply_list([reply])

        def clear() -> None:
            self.new_shortcut = self.new_title = self.new_text = ""

        return await self._save(inbox_settings.save_canned_replies, payload, "Canned reply added", clear)

    @rx.event(background=True)
    async def remove_reply(self, shortcut: str):
        async with self:
            payload = self._reply_list(without=shortcut)
        return await self._save(inbox_settings.save_canned_replies, payload, f"/{shortcut} removed")


def _labels_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Conversation labels", size="3"),
            rx.text("Operators put these on conversations and filter the inbox by them.", size="2", color=rx.color("gray", 11)),
            rx.hstack(
                rx.foreach(InboxSettingsState.labels, lambda label: rx.badge(
                    label["name"],
                    rx.icon("x", size=12, cursor="pointer", on_click=InboxSettingsState.remove_label(label["name"]), aria_label="Remove"),
                    color_scheme=label["color"].to(str), size="2", class_name="settings-label",
                )),
                wrap="wrap",
                spacing="2",
            ),
            rx.hstack(
                rx.input(placeholder="New label, e.g. billing", value=InboxSettingsState.new_label, on_change=InboxSettingsState.set_new_label, max_length=32, id="new-label"),
                rx.select(list(inbox_settings.LABEL_COLORS), value=InboxSettingsState.new_color, on_change=InboxSettingsState.set_new_color),
                rx.button("Add label", on_click=InboxSettingsState.add_label, loading=InboxSettingsState.saving, id="add-label"),
                spacing="2",
                align="center",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="labels-card",
    )


def _reply_row(reply: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(rx.code("/" + reply["shortcut"].to(str)), rx.text(reply["title"], weight="medium", size="2"),
                      rx.badge(reply["where"], variant="soft", size="1"), spacing="2", align="center"),
            rx.text(reply["text"], size="1", color=rx.color("gray", 11), white_space="pre-wrap"),
            spacing="1",
            min_width="0",
        ),
        rx.spacer(),
        rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red",
                       on_click=InboxSettingsState.remove_reply(reply["shortcut"].to(str)), aria_label="Remove"),
        width="100%",
        padding_y="6px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="settings-reply",
    )


def _replies_card() -> rx.Component:
    channel_choices = ["any", *CHANNEL_NAMES]
    return rx.card(
        rx.vstack(
            rx.heading("Canned replies", size="3"),
            rx.text("Typed as /shortcut in a conversation's reply box. Placeholders: {{name}}, {{first_name}}, {{phone}}, {{email}}.",
                    size="2", color=rx.color("gray", 11)),
            rx.cond(InboxSettingsState.replies.length() > 0, rx.vstack(rx.foreach(InboxSettingsState.replies, _reply_row), spacing="0", width="100%"),
                    rx.text("No canned replies yet.", size="2", color=rx.color("gray", 10))),
            rx.hstack(
                rx.input(placeholder="shortcut", value=InboxSettingsState.new_shortcut, on_change=InboxSettingsState.set_new_shortcut, max_length=33, width="140px", id="new-shortcut"),
                rx.input(placeholder="Title", value=InboxSettingsState.new_title, on_change=InboxSettingsState.set_new_title, max_length=80, id="new-title"),
                rx.select.root(
                    rx.select.trigger(),
                    rx.select.content(*[rx.select.item("Every channel" if c == "any" else CHANNEL_LABELS[c], value=c) for c in channel_choices]),
                    value=InboxSettingsState.new_channel,
                    on_change=InboxSettingsState.set_new_channel,
                ),
                spacing="2",
                wrap="wrap",
            ),
            rx.text_area(placeholder="Hi {{first_name}}, …", value=InboxSettingsState.new_text, on_change=InboxSettingsState.set_new_text,
                         max_length=inbox_settings.CANNED_TEXT_MAX, width="100%", id="new-text"),
            rx.button("Add canned reply", on_click=InboxSettingsState.add_reply, loading=InboxSettingsState.saving, id="add-reply"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="canned-card",
    )


def inbox_settings_section() -> rx.Component:
    """The two cards (the page shows them to Admins only; the service refuses anyone else's change)."""
    return rx.vstack(rx.heading("Team inbox", size="4"), _labels_card(), _replies_card(), spacing="3", width="100%")
