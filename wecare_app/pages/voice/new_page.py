"""/voice/new (writers): place a text-to-speech call to a contact (found by search) or a contact's number, with
plain text or SSML, a Polly voice and a preview of how long the call talks; then follow it on /voice/[call_id]."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.contacts import contacts
from backend.services.channels.voice import calls as voice_calls
from backend.services.messaging.reachability import reachability
from wecare_app.components.controls import segment_value
from wecare_app.components.shell import empty_state
from wecare_app.pages.layout import signed_in_page
from wecare_app.state.contact_search import ContactSearch, contact_choice, contact_matches_list, contact_search_box
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState
from wecare_app.state.speech_form import SpeechForm, speech_fields, speech_preview, speech_summary


class NewCallState(ContactSearch, SpeechForm, SessionState):
    target: str = "contact"  # contact | number
    callee: dict[str, str] = {}
    callee_reason: str = ""  # why the chosen contact cannot be called, from the call rules
    number: str = ""
    placing: bool = False
    _callee_request: int = 0  # the newest callee choice's number: an older one checked late is dropped

    @rx.var
    def ready(self) -> bool:
        who = (self.target == "contact" and bool(self.callee) and not self.callee_reason) or (
            self.target == "number" and bool(self.number.strip())
        )
        preview = speech_summary(self.speech_text, self.speech_type)
        return who and bool(self.speech_text.strip()) and not preview["error"] and not preview["warning"]

    @rx.event(background=True)
    async def start(self):
        """on_load: a blank form; `?contact=<id>` picks the callee."""
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        async with self:
            self._reset_speech()
            self._clear_search()
            self.target, self.callee, self.callee_reason, self.number, self.placing = "contact", {}, "", "", False
            self._callee_request += 1
            ticket = self._callee_request
            contact_id = self.router.url.query_parameters.get("contact", "")
        if not contact_id:
            return None
        try:
            contact = await self.run(contacts.get_contact, contact_id)
        except DomainError as error:
            return error_toast(error)
        await self._choose(contact_choice(contact), unless_changed_since=ticket)
        return None

    async def _choose(self, choice: dict[str, str], *, unless_changed_since: int | None = None) -> None:
        """Off the lock: check the call rules for `choice`, then show it as the callee with why it cannot be
        called, if it cannot. Only the newest choice is shown; `unless_changed_since` (a request number) skips
        `choice` if the visitor has chosen or cleared since."""
        async with self:
            if unless_changed_since is not None and self._callee_request != unless_changed_since:
                return
            self._callee_request += 1
            ticket = self._callee_request
        try:
            (reach,) = await self.run(reachability, [choice["contact_id"]], "voice")
            reason = "" if reach.ok else (reach.reason or "cannot be called")
        except DomainError as error:
            reason = error.message
        async with self:
            if ticket != self._callee_request:
                return  # another contact was chosen (or the choice cleared) meanwhile
            self.callee, self.callee_reason = choice, reason
            self._clear_search()

    @rx.event
    def set_target(self, value: str | list[str]):
        self.target = segment_value(value) or "contact"

    @rx.event
    def set_number(self, value: str):
        self.number = value

    @rx.event(background=True)
    async def pick(self, contact_id: str):
        async with self:
            match = next((m for m in self.contact_matches if m["contact_id"] == contact_id), None)
        if match is not None:
            await self._choose(match)

    @rx.event
    def clear_callee(self):
        self.callee, self.callee_reason = {}, ""
        self._callee_request += 1  # a choice still being checked is dropped

    @rx.event(background=True)
    async def place(self):
        async with self:
            if self.placing:
                return None
            if self.target == "contact" and not self.callee:
                return rx.toast.error("Choose who to call first.")
            self.placing = True
            who = {"contactId": self.callee["contact_id"]} if self.target == "contact" else {"to": self.number.strip()}
            request = {**who, **self._speech_request()}
        try:
            call = await self.run(voice_calls.place_call, request, via="ui")
        except DomainError as error:
            async with self:
                self.placing = False
            return error_toast(error)
        async with self:
            self.placing = False
        return [rx.toast.success("Call queued.", duration=2000), rx.redirect(f"/voice/{call.call_id}")]


# ---------------------------------------------------------------- components


def _card(title: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(title, size="2", weight="bold", color=rx.color("gray", 11), text_transform="uppercase", letter_spacing="0.04em"),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _callee() -> rx.Component:
    chosen = NewCallState.callee
    return rx.hstack(
        rx.avatar(fallback=chosen["initials"].to(str), size="3", radius="full"),
        rx.vstack(
            rx.text(chosen["name"], size="3", weight="medium", id="voice-callee"),
            rx.text(chosen["phone"], size="2", font_family="monospace", color=rx.color("gray", 10)),
            rx.cond(
                NewCallState.callee_reason != "",
                rx.text(NewCallState.callee_reason, size="1", color=rx.color("red", 11), id="voice-callee-reason"),
                rx.text("Can be called", size="1", color=rx.color("green", 11)),
            ),
            spacing="0",
        ),
        rx.spacer(),
        rx.button("Change", size="1", variant="soft", color_scheme="gray", on_click=NewCallState.clear_callee),
        align="center",
        width="100%",
        padding="8px 12px",
        border_radius="8px",
        background=rx.color("gray", 2),
        border=f"1px solid {rx.color('gray', 5)}",
    )


def _who() -> rx.Component:
    return _card(
        "Who",
        rx.segmented_control.root(
            rx.segmented_control.item("Contact", value="contact"),
            rx.segmented_control.item("Phone number", value="number"),
            value=NewCallState.target,
            on_change=NewCallState.set_target,
            size="1",
        ),
        rx.cond(
            NewCallState.target == "contact",
            rx.cond(
                NewCallState.callee.contains("contact_id"),
                _callee(),
                rx.vstack(
                    contact_search_box(NewCallState.contact_query, NewCallState.search_contacts, "Search by name, phone or email", box_id="voice-search", size="3"),
                    contact_matches_list(NewCallState.contact_matches, NewCallState.contact_query, NewCallState.pick, item_class="voice-match"),
                    spacing="2",
                    width="100%",
                ),
            ),
            rx.vstack(
                rx.input(
                    value=NewCallState.number,
                    on_change=NewCallState.set_number,
                    placeholder="+44 7700 900123",
                    size="3",
                    width="100%",
                    font_family="monospace",
                    id="voice-number",
                ),
                rx.text("The number must belong to a contact, so the call lands in their conversation; create the contact first if it is new.", size="1", color=rx.color("gray", 10)),
                spacing="1",
                width="100%",
            ),
        ),
    )


def _what() -> rx.Component:
    return _card(
        "What",
        speech_fields(
            NewCallState.speech_text,
            NewCallState.speech_type,
            NewCallState.voice_id,
            NewCallState.set_speech_text,
            NewCallState.set_speech_type,
            NewCallState.set_voice_id,
            NewCallState.use_ssml_example,
            text_id="voice-text",
            voice_select_id="voice-voice",
        ),
    )


def _summary() -> rx.Component:
    return _card(
        "Call",
        speech_preview(NewCallState.speech_preview, NewCallState.voice_id, estimate_id="voice-estimate"),
        rx.text(
            "The call is placed through the send queue and its status (dialling, ringing, answered, completed) "
            "appears live on the next page.",
            size="2",
            color=rx.color("gray", 10),
        ),
        rx.button(
            rx.icon("phone-outgoing", size=16),
            "Place call",
            size="3",
            width="100%",
            on_click=NewCallState.place,
            loading=NewCallState.placing,
            disabled=~NewCallState.ready,
            id="voice-call",
        ),
    )


def _read_only() -> rx.Component:
    return rx.box(
        empty_state(
            "eye",
            "Read only",
            "Viewers can read the call log but cannot place calls. Ask an administrator for the Operator role.",
            rx.link(rx.button("Open the call log", variant="soft"), href="/voice"),
        ),
        width="100%",
        id="voice-read-only",
    )


def new_call_page() -> rx.Component:
    return signed_in_page(
        "New call",
        rx.cond(
            SessionState.can_write,
            rx.grid(
                rx.vstack(_who(), _what(), spacing="4", width="100%"),
                rx.box(_summary(), position="sticky", top="24px", width="100%"),
                columns=rx.breakpoints(initial="1", lg="minmax(0, 3fr) minmax(0, 2fr)"),
                spacing="4",
                width="100%",
                align_items="start",
            ),
            _read_only(),
        ),
        actions=rx.link(rx.button(rx.icon("list", size=16), "Call log", variant="soft"), href="/voice"),
        subtitle="A text-to-speech call read by Amazon Polly",
    )
