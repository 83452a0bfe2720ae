"""The composer's state: the recipients, the message as the form holds it, who can be reached, and the send.

Every service call runs off the event loop from a background event: the reachability list is asked again
whenever the recipients, the channel or the WhatsApp choice change (only the newest answer is shown), and Send
hands the whole multi-recipient send to `send_many.send_to_contacts` in one worker-thread hop. The "Last send"
rows then follow their messages live (Queued → Sent → Delivered → Read, or Failed and why): the page follows the
Message table's change feed from the moment it loads, and each change to one of those messages is read again by
key; right after a send they are read once, for whatever happened before the rows were shown."""
from __future__ import annotations

from datetime import datetime, timezone

import reflex as rx

from backend.errors import DomainError, ValidationError
from backend.services.channels.email.content import prepare_content, sanitise_html
from backend.services.channels import send_many
from backend.services.messaging.progress import message_progress
from backend.services.messaging.reachability import MAX_CONTACTS, reachability
from wecare_app.components.controls import segment_value
from wecare_app.pages.compose.display import (
    CHANNELS,
    followed_ids,
    outcome_row,
    reach_row,
    refusal,
    sms_counter,
    with_progress,
    without_field,
)
from wecare_app.state.contact_search import ContactSearch, contact_choice
from wecare_app.state.feedback import error_toast
from wecare_app.state.live_feed import follow_changes
from wecare_app.state.session_state import SessionState
from wecare_app.state.speech_form import SpeechForm, speech_summary
from wecare_app.state.template_picker import TemplatePicker


class ComposeState(ContactSearch, SpeechForm, TemplatePicker, SessionState):
    recipients: list[dict[str, str]] = []
    channel: str = "sms"
    body: str = ""  # SMS and WhatsApp text
    subject: str = ""
    email_text: str = ""
    html: str = ""
    html_preview: str = ""  # the HTML as it will be sent (sanitised off the loop as it is typed)
    html_trimmed: bool = False  # something in the HTML will not be sent (a script, a style, a handler, an unsafe link)
    whatsapp_choice: str = "text"  # what the operator picked; templates are forced while a window is closed
    all_windows_open: bool = False
    reach: list[dict] = []
    sending: bool = False
    outcome: list[dict] = []
    outcome_channel: str = ""
    follow_generation: int = 0
    _reach_request: int = 0  # the newest reachability question: older answers are dropped
    _html_request: int = 0  # likewise for the HTML preview

    # ------------------------------------------------------------ derived

    @rx.var
    def recipient_ids(self) -> list[str]:
        return [r["contact_id"] for r in self.recipients]

    @rx.var
    def reachable_count(self) -> int:
        return sum(1 for r in self.reach if r["ok"])

    @rx.var
    def unreachable_count(self) -> int:
        return sum(1 for r in self.reach if not r["ok"])

    @rx.var
    def whatsapp_mode(self) -> str:
        return self._whatsapp_mode()

    @rx.var
    def segments(self) -> dict[str, str]:
        return sms_counter(self.body)

    @rx.var
    def send_label(self) -> str:
        count = sum(1 for r in self.reach if r["ok"])
        verb = "Call" if self.channel == "voice" else "Send to"
        return f"{verb} {count} recipient{'s' if count != 1 else ''}" if count else ("Call" if self.channel == "voice" else "Send")

    @rx.var
    def outcome_summary(self) -> str:
        queued = sum(1 for r in self.outcome if r["queued"])
        refused = len(self.outcome) - queued
        return f"{queued} queued · {refused} refused" if self.outcome else ""

    # Plain methods behind the computed vars, for the event handlers (which read the state as it is now).

    def _whatsapp_mode(self) -> str:
        return self.whatsapp_choice if self.all_windows_open else "template"

    # ------------------------------------------------------------ loading

    @rx.event(background=True)
    async def load(self):
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        async with self:
            if not self.voice_id:
                self._reset_speech()
            self.outcome = []
            self._clear_search()
            wanted = [c for c in self.router.url.query_parameters.get("to", "").split(",") if c]
            follow = [ComposeState.follow] if self.can_write else []  # only writers send, so only they follow
        if wanted:  # /inbox/compose?to=id1,id2: one hop for all of them
            try:
                found = await self.run(send_many.recipients, wanted[:MAX_CONTACTS])
            except DomainError as error:
                return [error_toast(error), *follow]
            async with self:
                self.recipients = [contact_choice(c) for c in found]
        await self._load_template_options()
        problem = await self._check_reach()
        return [problem, *follow] if problem is not None else follow

    # ------------------------------------------------------------ recipients

    @rx.event(background=True)
    async def add_recipient(self, contact_id: str):
        async with self:
            if any(r["contact_id"] == contact_id for r in self.recipients):
                self._clear_search()
                return None
            if len(self.recipients) >= MAX_CONTACTS:
                return rx.toast.error(f"At most {MAX_CONTACTS} recipients; for more, use a bulk campaign.", close_button=True)
            match = next((m for m in self.contact_matches if m["contact_id"] == contact_id), None)
            if match is None:
                return None
            self.recipients = [*self.recipients, match]
            self._clear_search()
        return await self._check_reach()

    @rx.event(background=True)
    async def remove_recipient(self, contact_id: str):
        async with self:
            self.recipients = [r for r in self.recipients if r["contact_id"] != contact_id]
        return await self._check_reach()

    @rx.event
    def clear_recipients(self):
        self.recipients = []
        self.reach = []
        self._reach_request += 1  # an answer on its way is about the old list

    async def _check_reach(self):
        """Ask the send services' rules about every recipient on the chosen channel (and, for WhatsApp, whether
        free text is possible: only when every window is open). Off the lock; only the newest answer is shown.
        The error toast to send, if the question was refused."""
        async with self:
            self._reach_request += 1
            ticket = self._reach_request
            ids = [r["contact_id"] for r in self.recipients]
            channel, choice = self.channel, self.whatsapp_choice
            if not ids:
                self.reach, self.all_windows_open = [], False
                return None
        all_open = False
        try:
            found = await self.run(reachability, ids, channel, free_form=True)
            if channel == "whatsapp":
                windows = [r.window_open for r in found if r.window_open is not None]
                all_open = bool(windows) and all(windows)
                if (choice if all_open else "template") == "template":
                    found = await self.run(reachability, ids, "whatsapp", free_form=False)
        except DomainError as error:
            return error_toast(error)
        now = datetime.now(timezone.utc)
        async with self:
            if ticket != self._reach_request:
                return None  # the recipients or the channel changed meanwhile: a newer answer is coming
            if channel == "whatsapp":
                self.all_windows_open = all_open
            self.reach = [reach_row(r, now) for r in found]
        return None

    # ------------------------------------------------------------ the form

    @rx.event(background=True)
    async def set_channel(self, value: str | list[str]):
        value = segment_value(value)
        async with self:
            if value not in CHANNELS or value == self.channel:
                return None
            self.channel = value
            self.outcome = []
        return await self._check_reach()

    @rx.event
    def set_body(self, value: str):
        self.body = value

    @rx.event
    def set_subject(self, value: str):
        self.subject = value

    @rx.event
    def set_email_text(self, value: str):
        self.email_text = value

    @rx.event(background=True)
    async def set_html(self, value: str):
        async with self:
            self.html = value
            self._html_request += 1
            ticket = self._html_request
        clean = await self.offload(sanitise_html, value) if value.strip() else ""
        async with self:
            if ticket == self._html_request:
                self.html_preview = clean
                self.html_trimmed = bool(value.strip()) and clean.strip() != value.strip()

    @rx.event(background=True)
    async def set_whatsapp_choice(self, value: str | list[str]):
        async with self:
            self.whatsapp_choice = segment_value(value) or "text"
        return await self._check_reach()

    # ------------------------------------------------------------ sending

    def _content_problem(self) -> str:
        """Why the content cannot go to anyone, as far as the form can tell (the email content is checked by its
        service in `send`, and the send services check everything again)."""
        if self.channel == "sms" and not self.body.strip():
            return "Write the text message first."
        if self.channel == "whatsapp":
            if self._whatsapp_mode() == "text" and not self.body.strip():
                return "Write the message first."
            if self._whatsapp_mode() == "template" and not self._selected_template():
                return "Choose an approved template first."
        if self.channel == "voice":
            preview = speech_summary(self.speech_text, self.speech_type)
            if not self.speech_text.strip():
                return "Write what the call says first."
            if preview["error"] or preview["warning"]:
                return preview["error"] or preview["warning"]
        return ""

    def _request(self) -> dict:
        """The channel's send request without its recipient (send_to_contacts adds each one)."""
        if self.channel == "sms":
            return {"body": self.body}
        if self.channel == "email":
            return {"subject": self.subject, "text": self.email_text or None, "html": self.html or None}
        if self.channel == "voice":
            return self._speech_request()
        if self._whatsapp_mode() == "text":
            return {"type": "text", "text": self.body.strip()}
        return self._template_request()

    @rx.event(background=True)
    async def send(self):
        async with self:
            if self.sending:
                return
            stop = rx.toast.error("Add at least one recipient.") if not self.recipients else None
            if stop is None and (problem := self._content_problem()):
                stop = rx.toast.error(problem, close_button=True)
            if stop is None:
                channel, request = self.channel, self._request()
                ids = [r["contact_id"] for r in self.recipients]
                self.sending = True
        if stop is not None:
            yield stop
            return
        if channel == "email":
            try:  # the email service's own content check (sanitising, sizes), before anyone is asked
                await self.offload(prepare_content, request["subject"], request["text"], request["html"])
            except ValidationError as error:
                async with self:
                    self.sending = False
                yield rx.toast.error(without_field(error), close_button=True)
                return
        try:
            # Reachability as it is now, then one send per reachable recipient: one hop for all of them.
            outcomes = await self.run(send_many.send_to_contacts, channel, ids, request, via="ui")
        except DomainError as error:  # refused for everyone (the role, the content): nothing was queued
            async with self:
                self.sending = False
            yield error_toast(error)
            return
        rows = [outcome_row(o) for o in outcomes]
        queued = sum(1 for r in rows if r["queued"])
        refused = [r for r in rows if not r["queued"]]
        async with self:
            self.sending = False
            self.outcome = rows
            self.outcome_channel = channel
            if queued:
                self._clear_content(channel)
        title = f"{queued} queued, {len(refused)} refused"
        reasons = "; ".join(refusal(r) for r in refused[:3]) + ("; …" if len(refused) > 3 else "")
        toast = rx.toast.success if not refused else (rx.toast.warning if queued else rx.toast.error)
        yield toast(title, description=reasons or None, close_button=True, duration=8000)
        await self._show_progress(followed_ids(rows))  # what happened before the rows were shown
        problem = await self._check_reach()  # the list as it is after the send
        if problem is not None:
            yield problem

    # ------------------------------------------------------------ following the last send

    @rx.event(background=True)
    async def follow(self):
        """The page's live loop: a change the feed names for a message of the last send is read again."""
        async def refresh(batch):
            async with self:
                wanted = followed_ids(self.outcome)
            changed = {change.message_id for change in batch} & wanted
            if changed:
                await self._show_progress(changed)

        await follow_changes(self, "/inbox/compose", refresh, tick=30)

    async def _show_progress(self, message_ids: set[str]) -> None:
        """Read these messages by key (off the lock) and show how far each has got."""
        if not message_ids:
            return
        try:
            found = await self.run(message_progress, sorted(message_ids))
        except DomainError:
            return  # the row keeps its last status; the next change tries again
        by_id = {progress.message_id: progress for progress in found}
        async with self:
            self.outcome = [with_progress(row, by_id.get(row["message_id"])) for row in self.outcome]

    def _clear_content(self, channel: str) -> None:
        if channel in ("sms", "whatsapp"):
            self.body = ""
            self.template_params = [""] * len(self.template_params)
        elif channel == "email":
            self.subject = self.email_text = self.html = self.html_preview = ""
            self.html_trimmed = False
            self._html_request += 1
        else:
            self.speech_text = ""
