"""/inbox/[contact_id]: one conversation, live: status ticks, media, reply and react, the 24-hour window, and a
template picker instead of the free-text box when the window is closed."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import reflex as rx
from reflex.config import get_config

from backend.errors import DomainError
from backend.services.media import files as media_files
from backend.services.media.rules import MAX_UPLOAD_BYTES
from backend.services.messaging import messages
from backend.services.rules import consent as rules
from backend.services.channels.whatsapp import send as whatsapp_send
from backend.services.contacts.contacts import get_contact
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.components.template_fields import template_fields
from wecare_app.components.formatting import duration
from wecare_app.pages.inbox.display import message_bubble
from wecare_app.pages.layout import signed_in_page, writers_only
from wecare_app.state.feedback import error_toast
from wecare_app.state.live_feed import follow_changes
from wecare_app.state.session_state import SessionState
from wecare_app.state.template_picker import TemplatePicker
from wecare_app.state.uploads import read_upload

UPLOAD_ID = "thread-media"
MAX_FILE_BYTES = MAX_UPLOAD_BYTES  # the upload guard's cap for send_media (wecare_app.py)
REACTIONS = ("👍", "❤️", "😂", "😮", "😢", "🙏")
THREAD_SIZE = 100


class ThreadState(TemplatePicker, SessionState):
    contact_id: str = ""
    contact_name: str = ""
    contact_address: str = ""  # the phone, or the email for a contact without one: shown under the name
    bubbles: list[dict] = []
    loading: bool = True
    window_closes_at: str = ""  # ISO; the countdown is recomputed on every tick
    window_text: str = ""
    window_open: bool = False
    opted_out: bool = False
    opted_out_text: str = ""
    reply_allowed: bool = False  # the view's verdict at the last read: a free-form reply may go out
    draft: str = ""
    reply_to_id: str = ""
    reply_to_text: str = ""
    compose_mode: str = "text"  # text | template
    sending: bool = False
    follow_generation: int = 0
    last_inbound_id: str = ""
    _upload: tuple[str, bytes, str] | None = None  # (name, data, content type) handed from send_media to send_upload

    @rx.var
    def heading(self) -> str:
        """The page's title: who the conversation is with, once the contact is read."""
        return self.contact_name or "Conversation"

    @rx.var
    def can_send_text(self) -> bool:
        # The service's verdict (consent, opt-out, window) as last read, and the window still open on the clock.
        return self.reply_allowed and self.window_open

    # ------------------------------------------------------------ loading

    @rx.event(background=True)
    async def load(self):
        async with self:
            contact_id = self.router.page.params.get("contact_id", "")
            self.contact_id = contact_id
            self.draft = self.reply_to_id = self.reply_to_text = ""
            self.loading = True
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        error = await self._reload(contact_id)
        if error is not None:
            return error
        await self._mark_read_if_new(contact_id, "")
        return ThreadState.follow

    async def _fetch(self, contact_id: str, fresh_message_ids: tuple[str, ...] = ()):
        """Off the lock: the contact, the newest messages and signed links to their stored media."""
        await self.actor()  # resolved once here, so the calls below (run side by side) share it
        contact, page = await asyncio.gather(
            self.run(get_contact, contact_id),
            self.run(messages.conversation, contact_id, limit=THREAD_SIZE, fresh_message_ids=fresh_message_ids),
        )
        stored = list(dict.fromkeys(
            m.media.file_id for m in page.items if m.media and m.media.file_id and m.media.status == "stored"
        ))
        links = await asyncio.gather(*(self.run(media_files.media_link, file_id) for file_id in stored))
        return contact, page.items, dict(zip(stored, links))

    async def _reload(self, contact_id: str):
        """Read and show the whole thread (the template picker too); the error toast when it cannot be read."""
        try:
            contact, items, links = await self._fetch(contact_id)
        except DomainError as error:
            async with self:
                if self.contact_id == contact_id:
                    self.loading = False
            return error_toast(error)
        async with self:
            if self.contact_id != contact_id:
                return None  # the tab has moved on to another conversation
            self._show_contact(contact)
            self._show(items, links)
            if not self.window_open and self.compose_mode == "text":
                self.compose_mode = "template"
        await self._load_template_options()
        return None

    def _show_contact(self, contact) -> None:
        self.contact_name = contact.name
        self.contact_address = contact.phone or contact.email or ""
        whatsapp = contact.channels.get("whatsapp")  # the rules' verdict, as the service computed it
        self.opted_out = bool(whatsapp and whatsapp.opted_out)
        self.opted_out_text = (whatsapp.reason or "") if self.opted_out else ""
        self.reply_allowed = bool(whatsapp and whatsapp.can_reply)
        closes = contact.window_closes_at
        self.window_closes_at = closes.isoformat() if closes else ""
        self._update_window()

    def _show(self, items, links: dict[str, str]) -> None:
        api_url = get_config().api_url
        bubbles = []
        for message in reversed(items):
            media = message.media
            link = links.get(media.file_id) if media and media.file_id and media.status == "stored" else None
            bubbles.append(message_bubble(message, api_url + link if link else ""))
        self.bubbles = bubbles
        inbound = [b for b in bubbles if not b["outbound"] and b["can_reply"]]
        self.last_inbound_id = inbound[-1]["message_id"] if inbound else ""
        self.loading = False

    def _update_window(self) -> None:
        now = datetime.now(timezone.utc)
        closes = datetime.fromisoformat(self.window_closes_at) if self.window_closes_at else None
        self.window_open = rules.window_open(closes, now)
        if self.window_open:
            self.window_text = f"Window open · {duration((closes - now).total_seconds())} left"
        elif closes:
            self.window_text = f"Window closed {closes:%d %b %H:%M} UTC · templates only"
        else:
            self.window_text = "No message from the customer yet · templates only"

    async def _mark_read_if_new(self, contact_id: str, previous_inbound: str) -> None:
        """An operator looking at the thread has read it: clear the unread count and send the read receipt
        for the newest customer message, when it is not `previous_inbound` (already marked). Off the lock."""
        async with self:
            inbound = self.last_inbound_id if self.contact_id == contact_id else ""
            can_write = self.can_write
        if not can_write or not inbound or inbound == previous_inbound:
            return
        try:
            await self.run(messages.mark_conversation_read, contact_id)
            await self.run(whatsapp_send.send_whatsapp, {"contactId": contact_id, "type": "read", "messageId": inbound}, via="ui")
        except DomainError:
            pass  # a read receipt that does not go out is not worth interrupting the operator

    @rx.event(background=True)
    async def follow(self):
        async def refresh(batch):
            async with self:
                if not batch:
                    self._update_window()
                    return
                contact_id, previous_inbound = self.contact_id, self.last_inbound_id
                changed = tuple(change.message_id for change in batch if change.contact_id == contact_id)
            if not changed:
                return
            try:
                contact, items, links = await self._fetch(contact_id, changed)
            except DomainError:
                return
            async with self:
                if self.contact_id != contact_id:
                    return
                self._show_contact(contact)
                self._show(items, links)
            await self._mark_read_if_new(contact_id, previous_inbound)

        await follow_changes(self, "/inbox/", refresh, tick=30)

    # ------------------------------------------------------------ composing

    @rx.event
    def set_draft(self, value: str):
        self.draft = value

    @rx.event
    def set_compose_mode(self, value: str | list[str]):
        value = value if isinstance(value, str) else (value[0] if value else "")
        self.compose_mode = value

    @rx.event
    def reply_to(self, message_id: str, text: str):
        self.reply_to_id = message_id
        self.reply_to_text = text[:120]

    @rx.event
    def cancel_reply(self):
        self.reply_to_id = self.reply_to_text = ""

    async def _send(self, request: dict, done: str, *, after=None):
        """Off the lock: send `request` on WhatsApp to this thread's contact and show the thread again;
        `after()` runs under the lock once the send is queued. The events to send back."""
        async with self:
            if self.sending:
                return None  # one send at a time: a second click while the first is on its way does nothing
            self.sending = True
            contact_id = self.contact_id
        try:
            await self.run(whatsapp_send.send_whatsapp, {"contactId": contact_id, **request}, via="ui")
        except DomainError as error:
            async with self:
                self.sending = False
            return error_toast(error)
        async with self:
            self.sending = False
            if after is not None:
                after()
        reload_error = await self._reload(contact_id)
        return [rx.toast.success(done, duration=1500), *([reload_error] if reload_error is not None else [])]

    @rx.event(background=True)
    async def send_text(self):
        async with self:
            text, reply_to = self.draft.strip(), self.reply_to_id
        if not text:
            return rx.toast.error("Write a message first.")
        request = {"type": "text", "text": text}
        if reply_to:
            request["replyTo"] = reply_to

        def sent() -> None:
            if self.draft.strip() == text:  # not if they started a new message meanwhile
                self.draft = self.reply_to_id = self.reply_to_text = ""

        return await self._send(request, "Queued", after=sent)

    @rx.event(background=True)
    async def send_template(self):
        async with self:
            chosen = self._selected_template()
            request = self._template_request() if chosen else None
        if not chosen:
            return rx.toast.error("Choose a template first.")
        return await self._send(request, f"Template {chosen['name']} queued")

    @rx.event(background=True)
    async def react(self, message_id: str, emoji: str):
        return await self._send({"type": "reaction", "reaction": {"messageId": message_id, "emoji": emoji}}, f"Reacted {emoji}")

    @rx.event
    async def send_media(self, files: list[rx.UploadFile]):
        """The upload arrives here (a foreground handler: it owns the request's files); storing and sending it
        happen off the loop in `send_upload`. The role (as this session last read it) and the declared size are
        checked before a byte is read; the media service checks the role again and the type from the bytes."""
        if not self.can_write:
            return rx.toast.error("Sending files needs the Operator or Admin role.")
        if not files:
            return rx.toast.error("Choose a file first.")
        upload = files[0]
        try:
            data = await read_upload(upload, MAX_FILE_BYTES)
        except DomainError as error:
            return [rx.clear_selected_files(UPLOAD_ID), error_toast(error)]
        self._upload = (upload.name or "file", data, upload.content_type or "")
        return [rx.clear_selected_files(UPLOAD_ID), ThreadState.send_upload]

    @rx.event(background=True)
    async def send_upload(self):
        async with self:
            upload, self._upload = self._upload, None
            caption = self.draft.strip() or None
        if upload is None:
            return None
        try:
            stored = await self.run(media_files.upload, *upload)  # the S3 (or local store) write
        except DomainError as error:
            return error_toast(error)
        finally:
            del upload  # stored or refused, the file's bytes are not held while the send goes out

        def sent() -> None:
            self.draft = ""

        return await self._send({"type": "media", "media": {"fileId": stored.file_id, "caption": caption}}, "File queued", after=sent)


# ---------------------------------------------------------------- components


def _media(bubble: rx.Var) -> rx.Component:
    kind = bubble["media_kind"].to(str)
    status = bubble["media_status"].to(str)
    return rx.cond(
        kind != "",
        rx.cond(
            status == "stored",
            rx.cond(
                (kind == "image") | (kind == "sticker"),
                rx.image(src=bubble["media_url"].to(str), width="240px", height="auto", border_radius="8px", alt=bubble["media_name"].to(str)),
                rx.cond(
                    kind == "video",
                    rx.video(src=bubble["media_url"].to(str), width="260px", height="160px", controls=True),
                    rx.cond(
                        kind == "audio",
                        rx.audio(src=bubble["media_url"].to(str), width="260px", height="40px", controls=True),
                        rx.link(rx.hstack(rx.icon("file-text", size=16), rx.text(bubble["media_name"])), href=bubble["media_url"].to(str), is_external=True),
                    ),
                ),
            ),
            rx.hstack(
                rx.icon(rx.cond(status == "pending", "loader", "file-x"), size=14),
                rx.text(rx.cond(status == "pending", "Media is being fetched…", "Media unavailable: " + bubble["media_name"].to(str)), size="1"),
                color=rx.color("gray", 10),
            ),
        ),
    )


def _bubble_actions(bubble: rx.Var) -> rx.Component:
    return writers_only(
        rx.cond(
            bubble["can_reply"].to(bool),
            rx.hstack(
                rx.icon_button(rx.icon("reply", size=14), size="1", variant="ghost", on_click=ThreadState.reply_to(bubble["message_id"].to(str), bubble["body"].to(str)), title="Reply"),
                rx.popover.root(
                    rx.popover.trigger(rx.icon_button(rx.icon("smile-plus", size=14), size="1", variant="ghost", title="React")),
                    rx.popover.content(
                        rx.hstack(*[rx.button(e, variant="ghost", size="2", on_click=ThreadState.react(bubble["message_id"].to(str), e)) for e in REACTIONS], spacing="1"),
                        padding="4px",
                    ),
                ),
                spacing="1",
                opacity="0.7",
            ),
        )
    )


def _bubble(bubble: rx.Var) -> rx.Component:
    outbound = bubble["outbound"].to(bool)
    content = rx.vstack(
        _media(bubble),
        rx.cond(bubble["body"].to(str) != "", rx.text(bubble["body"], size="2", white_space="pre-wrap", class_name="bubble-text")),
        rx.cond(bubble["failed"].to(bool), rx.text(bubble["error"], size="1", color=rx.color("red", 11))),
        rx.hstack(
            rx.text(bubble["time"], size="1", color=rx.color("gray", 10)),
            rx.cond(
                outbound,
                rx.tooltip(
                    rx.icon(bubble["tick"].to(str), size=14, color=rx.cond(bubble["read"].to(bool), rx.color("blue", 10), rx.cond(bubble["failed"].to(bool), rx.color("red", 10), rx.color("gray", 10)))),
                    content=bubble["status_label"].to(str),
                ),
            ),
            spacing="1",
            align="center",
            justify="end",
            width="100%",
        ),
        spacing="1",
        padding="8px 12px",
        border_radius="12px",
        max_width="520px",
        background=rx.cond(outbound, rx.color("teal", 4), rx.color("gray", 3)),
        class_name=rx.cond(outbound, "bubble bubble-out status-", "bubble bubble-in status-") + bubble["status"].to(str),
    )
    return rx.hstack(
        rx.cond(outbound, _bubble_actions(bubble), rx.fragment()),
        content,
        rx.cond(outbound, rx.fragment(), _bubble_actions(bubble)),
        justify=rx.cond(outbound, "end", "start"),
        align="center",
        width="100%",
        id="m-" + bubble["message_id"].to(str),
    )


def _window_badge() -> rx.Component:
    return rx.cond(
        ThreadState.opted_out,
        rx.badge(rx.icon("ban", size=12), "Opted out", color_scheme="red", size="2"),
        rx.badge(
            rx.icon("clock", size=12),
            ThreadState.window_text,
            color_scheme=rx.cond(ThreadState.window_open, "green", "amber"),
            size="2",
            id="window-state",
        ),
    )


def _text_composer() -> rx.Component:
    return rx.vstack(
        rx.cond(
            ThreadState.reply_to_id != "",
            rx.hstack(
                rx.icon("reply", size=14),
                rx.text("Replying to: ", ThreadState.reply_to_text, size="1", trim="both"),
                rx.spacer(),
                rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", on_click=ThreadState.cancel_reply),
                width="100%",
                padding="4px 8px",
                background=rx.color("gray", 3),
                border_radius="6px",
            ),
        ),
        rx.hstack(
            rx.text_area(
                placeholder="Write a reply…",
                value=ThreadState.draft,
                on_change=ThreadState.set_draft,
                rows="2",
                width="100%",
                max_length=4096,
                id="thread-draft",
            ),
            rx.vstack(
                rx.button(rx.icon("send", size=16), "Send", on_click=ThreadState.send_text, loading=ThreadState.sending, id="thread-send"),
                rx.upload.root(
                    rx.button(rx.icon("paperclip", size=16), "File", variant="soft", type="button"),
                    id=UPLOAD_ID,
                    max_files=1,
                    max_size=MAX_FILE_BYTES,
                    no_drag=True,
                    on_drop=ThreadState.send_media(rx.upload_files(upload_id=UPLOAD_ID)),
                ),
                spacing="2",
            ),
            width="100%",
            align="start",
        ),
        rx.text(ThreadState.draft.length().to_string() + " / 4096", size="1", color=rx.color("gray", 9)),
        width="100%",
        spacing="2",
    )


def _template_composer() -> rx.Component:
    send = rx.button(rx.icon("send", size=16), "Send template", on_click=ThreadState.send_template, loading=ThreadState.sending, id="template-send")
    return rx.box(
        template_fields(ThreadState, select_id="template-select", param_class="template-param", extra=send),
        width="100%",
        id="template-picker",
    )


def _composer() -> rx.Component:
    return writers_only(
        rx.card(
            rx.cond(
                ThreadState.opted_out,
                rx.callout(ThreadState.opted_out_text, icon="ban", color_scheme="red"),
                rx.vstack(
                    rx.cond(
                        ThreadState.window_open,
                        rx.segmented_control.root(
                            rx.segmented_control.item("Message", value="text"),
                            rx.segmented_control.item("Template", value="template"),
                            value=ThreadState.compose_mode,
                            on_change=ThreadState.set_compose_mode,
                            size="1",
                        ),
                        rx.callout("The 24-hour window is closed: only an approved template can start the conversation again.", icon="info", size="1"),
                    ),
                    rx.cond(ThreadState.can_send_text & (ThreadState.compose_mode == "text"), _text_composer(), _template_composer()),
                    width="100%",
                ),
            ),
            width="100%",
        )
    )


def thread_page() -> rx.Component:
    thread = rx.cond(
        ThreadState.bubbles.length() > 0,
        rx.vstack(rx.foreach(ThreadState.bubbles, _bubble), spacing="3", width="100%", id="thread", padding_y="8px"),
        empty_state("messages-square", "No messages yet", "Messages with this contact on any channel will appear here as they happen."),
    )
    return signed_in_page(
        ThreadState.heading,
        rx.vstack(
            rx.hstack(
                rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("Inbox")), href="/inbox"),
                rx.link("Contact details", href="/contacts/" + ThreadState.contact_id, size="2", id="thread-contact"),
                rx.spacer(),
                _window_badge(),
                width="100%",
                align="center",
                spacing="4",
            ),
            loading_block(ThreadState.loading, rx.scroll_area(thread, max_height="60vh", scrollbars="vertical", type="auto")),
            _composer(),
            spacing="4",
            width="100%",
        ),
        subtitle=ThreadState.contact_address,
    )
