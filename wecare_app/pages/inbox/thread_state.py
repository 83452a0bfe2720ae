"""The state of /inbox/[contact_id]: the timeline, the conversation's owner and status, the reply box (its
channel, `/` canned replies, private notes, an AI suggested reply), media and reactions on WhatsApp. Every
service call runs off the event loop (background events, `self.run`); the verdicts (which channel works, whether
a message may be sent again) come from the services' views.

A suggested reply (services/ai/answers.py `generate`) answers the customer's newest message with text: it fills
the reply box and stays pending beside it with its citations until the operator sends (through `send_text`, the
normal send path and its rules; the outcome, approved as is or edited, is recorded once the send is accepted)
or rejects it. Switching conversation or emptying the reply box drops it unrecorded."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import reflex as rx
from reflex.config import get_config

from backend.errors import DomainError
from backend.services.ai import answers as ai_answers
from backend.services.ai import interactions as ai_interactions
from backend.services.channels import reply as replies
from backend.services.channels.whatsapp import send as whatsapp_send
from backend.services.contacts.contacts import get_contact
from backend.services.media import files as media_files
from backend.services.media.rules import MAX_UPLOAD_BYTES
from backend.services.messaging import conversations, inbox_settings, messages
from backend.services.messaging.schemas import TimelineEntry
from backend.services.rules import consent as rules
from wecare_app.components.formatting import CHANNEL_ICONS, CHANNEL_LABELS, duration
from wecare_app.pages.contacts.display import consent_lines
from wecare_app.pages.inbox.display import STATUS_COLORS, message_bubble, timeline_row
from wecare_app.state.feedback import error_toast
from wecare_app.state.live_feed import follow_changes
from wecare_app.state.session_state import SessionState
from wecare_app.state.template_picker import TemplatePicker
from wecare_app.state.uploads import read_upload

UPLOAD_ID = "thread-media"
MAX_FILE_BYTES = MAX_UPLOAD_BYTES  # the upload guard's cap for send_media (wecare_app.py)
THREAD_SIZE = 100
SNOOZES = {"1h": ("1 hour", timedelta(hours=1)), "4h": ("4 hours", timedelta(hours=4)),
           "1d": ("Tomorrow", timedelta(days=1)), "7d": ("Next week", timedelta(days=7))}


class ThreadState(TemplatePicker, SessionState):
    contact_id: str = ""
    contact_name: str = ""
    contact_address: str = ""  # the phone, or the email for a contact without one: shown under the name
    contact_email: str = ""
    contact_phone: str = ""
    contact_tags: list[str] = []
    consent: list[dict[str, str]] = []
    bubbles: list[dict] = []
    loading: bool = True
    # the conversation
    status: str = ""
    assignee_id: str = ""
    labels: list[str] = []
    snoozed_text: str = ""
    # WhatsApp's window
    window_closes_at: str = ""  # ISO; the countdown is recomputed on every tick
    window_text: str = ""
    window_open: bool = False
    # the reply box
    reply_channels: list[dict] = []  # channel, label, can_reply, templates_only, reason, icon
    reply_channel: str = ""
    email_subject: str = ""
    compose_tab: str = "reply"  # reply | note
    canned: list[dict[str, str]] = []
    draft: str = ""
    note_draft: str = ""
    reply_to_id: str = ""
    reply_to_text: str = ""
    compose_mode: str = "text"  # text | template (WhatsApp)
    sending: bool = False
    follow_generation: int = 0
    last_inbound_id: str = ""
    last_inbound_receipt: bool = False
    # the AI suggested reply
    suggest_message_id: str = ""  # the customer's newest message with text: what a suggestion answers
    suggesting: bool = False
    ai_interaction_id: str = ""  # the pending suggestion (its outcome is recorded when it is sent or rejected)
    ai_text: str = ""  # the suggested reply as it came: sent unchanged it is "approved", else "edited"
    ai_draft_kept: bool = False  # the operator had written something: the suggestion waits in the panel
    ai_note: str = ""  # the knowledge base has no answer: why, and what to do
    ai_citations: list[dict[str, str]] = []  # number, title, location, content
    ai_confidence: str = ""  # "82%"
    ai_reject_reason: str = ""
    _upload: tuple[str, bytes, str] | None = None  # (name, data, content type) handed from send_media to send_upload

    @rx.var
    def heading(self) -> str:
        """The page's title: who the conversation is with, once the contact is read."""
        return self.contact_name or "Conversation"

    @rx.var
    def status_label(self) -> str:
        return conversations.STATUS_LABELS.get(self.status, self.status)

    @rx.var
    def status_color(self) -> str:
        return STATUS_COLORS.get(self.status, "gray")

    @rx.var
    def on_whatsapp(self) -> bool:
        return self.reply_channel == "whatsapp"

    @rx.var
    def templates_only(self) -> bool:
        """WhatsApp as the service judged it (templates only), or its window closed on the clock since."""
        chosen = next((c for c in self.reply_channels if c["channel"] == self.reply_channel), None)
        return bool(chosen and self.reply_channel == "whatsapp" and (chosen["templates_only"] or not self.window_open))

    @rx.var
    def suggestions(self) -> list[dict[str, str]]:
        """Canned replies whose shortcut starts with what follows a leading "/" in the reply box."""
        if not self.draft.startswith("/") or " " in self.draft:
            return []
        typed = self.draft[1:].lower()
        return [c for c in self.canned if c["shortcut"].startswith(typed)][:8]

    @rx.var
    def ai_panel(self) -> bool:
        """A suggestion is pending, or the knowledge base's note that it has none."""
        return bool(self.ai_interaction_id or self.ai_note)

    @rx.var
    def notes(self) -> list[dict]:
        return [b for b in self.bubbles if b["entry"] == "note"][-5:]

    @rx.var
    def calls(self) -> list[dict]:
        return [b for b in self.bubbles if b["channel"] == "Voice"][-5:]

    # ------------------------------------------------------------ loading

    @rx.event(background=True)
    async def load(self):
        async with self:
            contact_id = self.router.page.params.get("contact_id", "")
            self.contact_id = contact_id
            self.draft = self.note_draft = self.reply_to_id = self.reply_to_text = ""
            self.reply_channel = ""
            self.suggest_message_id = ""
            self._drop_suggestion()  # a suggestion belongs to the conversation it answers
            self.suggesting = False
            self.loading = True
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        error = await self._reload(contact_id)
        if error is not None:
            return error
        await self._mark_read_if_new(contact_id, "")
        return ThreadState.follow

    async def _fetch(self, contact_id: str, fresh_message_ids: tuple[str, ...] = ()):
        """Off the lock: the contact, its conversation, the reply options, the newest timeline and signed links
        to stored media."""
        await self.actor()  # resolved once here, so the calls below (run side by side) share it
        contact, page, summary, options = await asyncio.gather(
            self.run(get_contact, contact_id),
            self.run(messages.conversation, contact_id, limit=THREAD_SIZE, fresh_message_ids=fresh_message_ids),
            self.run(messages.conversation_summary, contact_id),
            self.run(replies.reply_options, contact_id),
        )
        stored = list(dict.fromkeys(
            m.media.file_id for m in page.items
            if not isinstance(m, TimelineEntry) and m.media and m.media.file_id and m.media.status == "stored"
        ))
        links = await asyncio.gather(*(self.run(media_files.media_link, file_id) for file_id in stored))
        return contact, summary, options, page.items, dict(zip(stored, links))

    async def _reload(self, contact_id: str):
        """Read and show the whole thread (the template picker too); the error toast when it cannot be read."""
        try:
            contact, summary, options, items, links = await self._fetch(contact_id)
        except DomainError as error:
            async with self:
                if self.contact_id == contact_id:
                    self.loading = False
            return error_toast(error)
        async with self:
            if self.contact_id != contact_id:
                return None  # the tab has moved on to another conversation
            self._show_contact(contact, summary, options)
            self._show(items, links)
        await self._load_template_options()
        await self._load_canned()
        return None

    def _show_contact(self, contact, summary, options) -> None:
        self.contact_name = contact.name
        self.contact_address = contact.phone or contact.email or ""
        self.contact_phone, self.contact_email = contact.phone or "", contact.email or ""
        self.contact_tags = list(contact.tags)
        self.consent = consent_lines(contact)
        self.status = summary.status if summary else ""
        self.assignee_id = (summary.assignee_id or "") if summary else ""
        self.labels = list(summary.labels) if summary else []
        until = summary.snoozed_until if summary else None
        self.snoozed_text = f"until {until:%d %b %H:%M} UTC" if until else ""
        self.reply_channels = [{**option.model_dump(), "icon": CHANNEL_ICONS.get(option.channel, "message-circle"),
                                "label": CHANNEL_LABELS.get(option.channel, option.label)} for option in options.channels]
        self.email_subject = options.email_subject or ""
        usable = {c["channel"] for c in self.reply_channels if c["can_reply"] or c["templates_only"]}
        if self.reply_channel not in usable:
            self.reply_channel = options.default_channel or ""
        closes = contact.window_closes_at
        self.window_closes_at = closes.isoformat() if closes else ""
        self._update_window()

    def _show(self, items, links: dict[str, str]) -> None:
        api_url = get_config().api_url
        bubbles = []
        for item in reversed(items):
            if isinstance(item, TimelineEntry):
                bubbles.append(timeline_row(item))
                continue
            media = item.media
            link = links.get(media.file_id) if media and media.file_id and media.status == "stored" else None
            bubbles.append(message_bubble(item, api_url + link if link else ""))
        self.bubbles = bubbles
        inbound = [b for b in bubbles if b["entry"] == "message" and not b["outbound"]]
        self.last_inbound_id = inbound[-1]["message_id"] if inbound else ""
        self.last_inbound_receipt = bool(inbound) and bool(inbound[-1]["can_reply"])  # a WhatsApp message: a read receipt
        answerable = [b for b in inbound if b["kind"] != "reaction" and b["body"].strip()]
        self.suggest_message_id = answerable[-1]["message_id"] if answerable else ""
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
            self.window_text = "No WhatsApp message from the customer yet · templates only"

    async def _load_canned(self) -> None:
        async with self:
            channel = self.reply_channel
        if not channel:
            return
        try:
            found = await self.run(inbox_settings.list_canned_replies, channel)
        except DomainError:
            return
        async with self:
            self.canned = [{"shortcut": c.shortcut, "title": c.title, "text": c.text} for c in found]

    async def _mark_read_if_new(self, contact_id: str, previous_inbound: str) -> None:
        """An operator looking at the thread has read it: clear the unread count and send the read receipt
        for the newest customer message, when it is not `previous_inbound` (already marked). Off the lock."""
        async with self:
            inbound = self.last_inbound_id if self.contact_id == contact_id else ""
            receipt, can_write = self.last_inbound_receipt, self.can_write
        if not can_write or not inbound or inbound == previous_inbound:
            return
        try:
            await self.run(messages.mark_conversation_read, contact_id)
            if receipt:
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
                contact, summary, options, items, links = await self._fetch(contact_id, changed)
            except DomainError:
                return
            async with self:
                if self.contact_id != contact_id:
                    return
                self._show_contact(contact, summary, options)
                self._show(items, links)
            await self._mark_read_if_new(contact_id, previous_inbound)

        await follow_changes(self, "/inbox/", refresh, tick=30)

    # ------------------------------------------------------------ the conversation

    async def _change(self, service, payload: dict, done: str):
        async with self:
            contact_id = self.contact_id
        try:
            await self.run(service, contact_id, payload)
        except DomainError as error:
            return error_toast(error)
        error = await self._reload(contact_id)
        return error or rx.toast.success(done, duration=1500)

    @rx.event(background=True)
    async def assign(self, user_id: str):
        return await self._change(conversations.assign, {"assigneeId": user_id or None}, "Assigned" if user_id else "Unassigned")

    @rx.event(background=True)
    async def assign_to_me(self):
        actor = await self.actor()
        return await self._change(conversations.assign, {"assigneeId": actor.user_id}, "Assigned to you")

    @rx.event(background=True)
    async def set_status(self, status: str):
        return await self._change(conversations.set_status, {"status": status}, f"Marked {status}")

    @rx.event(background=True)
    async def snooze(self, key: str):
        until = datetime.now(timezone.utc) + SNOOZES[key][1]
        return await self._change(conversations.set_status, {"status": "snoozed", "snoozedUntil": until.isoformat()}, f"Snoozed for {SNOOZES[key][0].lower()}")

    @rx.event(background=True)
    async def toggle_label(self, name: str):
        async with self:
            labels = set(self.labels) ^ {name}
        return await self._change(conversations.set_labels, {"labels": sorted(labels)}, "Labels saved")

    # ------------------------------------------------------------ composing

    @rx.event
    def set_draft(self, value: str):
        self.draft = value
        if not value.strip():
            self._drop_suggestion()  # emptied: the suggestion is no longer what is being written

    @rx.event
    def set_note_draft(self, value: str):
        self.note_draft = value

    @rx.event
    def set_compose_tab(self, value: str | list[str]):
        self.compose_tab = value if isinstance(value, str) else (value[0] if value else "reply")

    @rx.event(background=True)
    async def set_reply_channel(self, value: str):
        async with self:
            self.reply_channel = value
            self.compose_mode = "text"
        await self._load_canned()

    @rx.event
    def set_compose_mode(self, value: str | list[str]):
        self.compose_mode = value if isinstance(value, str) else (value[0] if value else "")

    @rx.event
    def reply_to(self, message_id: str, text: str):
        self.reply_to_id = message_id
        self.reply_to_text = text[:120]

    @rx.event
    def cancel_reply(self):
        self.reply_to_id = self.reply_to_text = ""

    @rx.event(background=True)
    async def use_canned(self, shortcut: str):
        async with self:
            contact_id = self.contact_id
        try:
            filled = await self.run(inbox_settings.use_canned_reply, contact_id, shortcut)
        except DomainError as error:
            return error_toast(error)
        async with self:
            self.draft = filled.text
        return None

    async def _send(self, send, done: str, *, after=None, then=None):
        """Off the lock: `send(contact_id)` (a service call through self.run) and show the thread again;
        `after()` runs under the lock once it is queued, then `await then(sent)` off the lock with what the
        service returned (it may return an event to show). One send at a time."""
        async with self:
            if self.sending:
                return None  # a second click while the first is on its way does nothing
            self.sending = True
            contact_id = self.contact_id
        try:
            sent = await send(contact_id)
        except DomainError as error:
            async with self:
                self.sending = False
            return error_toast(error)
        async with self:
            self.sending = False
            if after is not None:
                after()
        followed = await then(sent) if then is not None else None
        reload_error = await self._reload(contact_id)
        return [rx.toast.success(done, duration=1500), *(e for e in (followed, reload_error) if e is not None)]

    def _whatsapp(self, request: dict):
        return lambda contact_id: self.run(whatsapp_send.send_whatsapp, {"contactId": contact_id, **request}, via="ui")

    @rx.event(background=True)
    async def send_text(self):
        async with self:
            text, reply_to, channel = self.draft.strip(), self.reply_to_id, self.reply_channel
            suggestion = (self.ai_interaction_id, self.ai_text)
        if not text:
            return rx.toast.error("Write a message first.")
        request = {"channel": channel, "text": text, **({"replyTo": reply_to} if reply_to and channel == "whatsapp" else {})}
        from_suggestion = False

        def sent() -> None:
            nonlocal from_suggestion
            if self.draft.strip() == text:  # not if they started a new message meanwhile
                self.draft = self.reply_to_id = self.reply_to_text = ""
            if suggestion[0] and self.ai_interaction_id == suggestion[0]:  # still pending: this send was its outcome
                from_suggestion = True
                self._drop_suggestion()

        async def record(message):
            if not from_suggestion:
                return None
            return await self._record_sent(suggestion, text, message.message_id)

        return await self._send(lambda contact_id: self.run(replies.send_reply, contact_id, request, via="ui"), "Queued",
                                after=sent, then=record)

    @rx.event(background=True)
    async def add_note(self):
        async with self:
            text = self.note_draft.strip()
        if not text:
            return rx.toast.error("Write the note first.")

        def saved() -> None:
            self.note_draft = ""

        return await self._send(lambda contact_id: self.run(conversations.add_note, contact_id, {"text": text}), "Note added", after=saved)

    @rx.event(background=True)
    async def retry(self, message_id: str):
        return await self._send(lambda contact_id: self.run(replies.retry_message, message_id), "Sent again")

    @rx.event(background=True)
    async def send_template(self):
        async with self:
            chosen = self._selected_template()
            request = self._template_request() if chosen else None
        if not chosen:
            return rx.toast.error("Choose a template first.")
        return await self._send(self._whatsapp(request), f"Template {chosen['name']} queued")

    @rx.event(background=True)
    async def react(self, message_id: str, emoji: str):
        return await self._send(self._whatsapp({"type": "reaction", "reaction": {"messageId": message_id, "emoji": emoji}}), f"Reacted {emoji}")

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

        return await self._send(self._whatsapp({"type": "media", "media": {"fileId": stored.file_id, "caption": caption}}), "File queued", after=sent)

    # ------------------------------------------------------------ the AI suggested reply

    def _drop_suggestion(self) -> None:
        """Forget the suggestion (its outcome, if any, is recorded by the caller)."""
        self.ai_interaction_id = self.ai_text = self.ai_note = self.ai_confidence = self.ai_reject_reason = ""
        self.ai_citations = []
        self.ai_draft_kept = False

    def _show_suggestion(self, suggestion) -> None:
        previous = self.ai_text  # a reply box still holding the last suggestion may take the new one
        self._drop_suggestion()
        self.ai_confidence = f"{round(suggestion.confidence * 100)}%"
        if not suggestion.suggested_response:
            self.ai_note = suggestion.note or "The knowledge base has no answer to this message."
            return  # the reply box keeps what the operator wrote
        self.ai_interaction_id = suggestion.interaction_id
        self.ai_text = suggestion.suggested_response
        self.ai_citations = [{"number": str(c.number), "title": c.source.title, "location": c.source.location,
                              "content": c.content} for c in suggestion.citations]
        self.compose_tab, self.compose_mode = "reply", "text"
        if self.draft.strip() and self.draft.strip() != previous.strip():
            self.ai_draft_kept = True  # a half-written reply is the operator's: never overwritten unasked
            return
        self.draft = suggestion.suggested_response

    @rx.event(background=True)
    async def suggest_reply(self):
        """Ask for a suggested reply to the customer's newest message with text (Operators and Admins)."""
        async with self:
            if self.suggesting:
                return None
            contact_id, message_id, can_write = self.contact_id, self.suggest_message_id, self.can_write
            if can_write and message_id:
                self.suggesting = True
        if not can_write:
            return rx.toast.error("Suggested replies need the Operator or Admin role.")
        if not message_id:
            return rx.toast.error("There is no message from the customer with text to answer yet.")
        try:
            suggestion = await self.run(ai_answers.generate, {"messageId": message_id, "contactId": contact_id})
        except DomainError as error:
            async with self:
                self.suggesting = False
            return error_toast(error)  # the reply box is left as it was
        async with self:
            self.suggesting = False
            if self.contact_id != contact_id:
                return None  # the tab has moved on to another conversation
            self._show_suggestion(suggestion)
        return None

    @rx.event
    def use_suggestion(self):
        """Put the waiting suggestion in the reply box, in place of what the operator had written."""
        if self.ai_interaction_id and self.ai_draft_kept:
            self.draft = self.ai_text
            self.ai_draft_kept = False

    @rx.event
    def set_ai_reject_reason(self, value: str):
        self.ai_reject_reason = value

    @rx.event
    def dismiss_note(self):
        """Close the knowledge base's "no answer" note (nothing to record: there was no suggestion)."""
        if not self.ai_interaction_id:
            self._drop_suggestion()

    @rx.event(background=True)
    async def reject_suggestion(self):
        """Record that the suggestion was rejected (with the operator's reason, if given) and put it away."""
        async with self:
            interaction_id, suggestion, reason = self.ai_interaction_id, self.ai_text, self.ai_reject_reason.strip()
        if not interaction_id:
            return None
        try:
            await self.run(ai_interactions.record_outcome, interaction_id, {"outcome": "rejected", "feedback": reason or None})
        except DomainError as error:
            return error_toast(error)
        async with self:
            if self.ai_interaction_id == interaction_id:
                if self.draft.strip() == suggestion.strip():  # untouched: the rejected text goes too
                    self.draft = ""
                self._drop_suggestion()
        return rx.toast.info("Suggestion rejected", duration=1500)

    async def _record_sent(self, suggestion: tuple[str, str], text: str, message_id: str):
        """The suggestion went out: as it came ("approved") or changed ("edited", with what was sent)."""
        interaction_id, suggested = suggestion
        if text == suggested.strip():
            outcome = {"outcome": "approved", "sentMessageId": message_id}
        else:
            outcome = {"outcome": "edited", "sentMessageId": message_id, "sentText": text}
        try:
            await self.run(ai_interactions.record_outcome, interaction_id, outcome)
        except DomainError as error:
            return error_toast(error)
        return None
