"""/voice/[call_id]: one call, live: its status, the timeline of provider events with their times, the duration
and what it said. The call's message (channel "voice") changes with every event, so the change feed tells the
page when to read the call again."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.channels.voice import calls as voice_calls
from backend.services.contacts.contacts import get_contact
from backend.services.channels.voice.calls import VoiceCall
from wecare_app.components.formatting import utc_stamp
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.layout import signed_in_page, writers_only
from wecare_app.pages.voice.display import STATUS_COLORS, STATUS_LABELS, call_duration, call_events, is_live, voice_label
from wecare_app.state.live_feed import follow_changes
from wecare_app.state.session_state import SessionState


LIVE_TICK_SECONDS = 30.0  # every call step writes the call's message row, so the change feed announces it


def call_view(call: VoiceCall, contact_name: str) -> dict[str, str]:
    return {
        "call_id": call.call_id,
        "message_id": call.message_id or "",
        "contact_id": call.contact_id or "",
        "contact_name": contact_name or call.to,
        "to": call.to,
        "status": call.status,
        "status_label": STATUS_LABELS.get(call.status, call.status),
        "status_color": STATUS_COLORS.get(call.status, "gray"),
        "live": "yes" if is_live(call.status) else "",
        "duration": call_duration(call.duration_seconds),
        "voice": voice_label(call.voice_id),
        "text": call.text or "",
        "text_type": "SSML" if call.text_type == "SSML" else "Plain text",
        "started": utc_stamp(call.started_at),
        "answered": utc_stamp(call.answered_at) or "—",
        "ended": utc_stamp(call.ended_at) or "—",
        "provider_id": call.provider_message_id or "—",
        "error_code": call.error_code or "",
        "error": call.error_message or call.error_code or "",
    }


class VoiceCallState(SessionState):
    call: dict[str, str] = {}
    events: list[dict[str, str]] = []
    missing: str = ""
    loading: bool = True
    follow_generation: int = 0
    _contact_name: str = ""
    _load_request: int = 0  # the newest load's number: a call read for a page left behind is dropped

    @rx.event(background=True)
    async def load(self):
        async with self:
            self.loading, self.missing = True, ""
            self.call, self.events = {}, []
            self._load_request += 1
            ticket = self._load_request
            call_id = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        try:
            call = await self.run(voice_calls.get_call, call_id)
        except DomainError as error:
            async with self:
                if ticket == self._load_request:
                    self.missing, self.loading = error.message, False
            return None
        name = await self._name(call)
        async with self:
            if ticket != self._load_request:
                return None  # another call's page was opened meanwhile
            self._contact_name = name
            self._show(call)
        return VoiceCallState.follow

    async def _name(self, call: VoiceCall) -> str:
        """Off the lock: the name of the call's contact ("" without one, or for a deleted contact)."""
        if not call.contact_id:
            return ""
        try:
            return (await self.run(get_contact, call.contact_id)).name
        except DomainError:
            return ""

    def _show(self, call: VoiceCall) -> None:
        self.call = call_view(call, self._contact_name)
        self.events = call_events(call)
        self.loading = False

    @rx.event(background=True)
    async def follow(self):
        async def refresh(batch):
            if not batch:
                return  # the tick: nothing on this page runs on a clock
            async with self:
                call = dict(self.call)
                here = bool(call) and self.router.url.path.rstrip("/").endswith(call["call_id"])
            if not here or not any(c.message_id == call["message_id"] for c in batch):
                return
            try:
                fresh = await self.run(voice_calls.get_call, call["call_id"])
            except DomainError:
                return
            async with self:
                if self.call.get("call_id") == fresh.call_id:
                    self._show(fresh)

        await follow_changes(self, "/voice/", refresh, tick=LIVE_TICK_SECONDS)


# ---------------------------------------------------------------- components


def _fact(label: str, value, **props) -> rx.Component:
    return rx.fragment(
        rx.text(label, size="2", color=rx.color("gray", 10)),
        rx.text(value, **{"size": "2", **props}),
    )


def _live_dot() -> rx.Component:
    return rx.cond(
        VoiceCallState.call["live"] != "",
        rx.hstack(
            rx.box(width="8px", height="8px", border_radius="50%", background=rx.color("green", 9), class_name="live-dot",
                   style={"animation": "pulse 1.5s ease-in-out infinite"}),
            rx.text("Live", size="1", color=rx.color("gray", 10)),
            rx.el.style("@keyframes pulse { 0%, 100% { opacity: 1 } 50% { opacity: .25 } }"),
            align="center",
            spacing="1",
        ),
    )


def _header() -> rx.Component:
    call = VoiceCallState.call
    return rx.hstack(
        rx.vstack(
            rx.hstack(
                rx.heading(call["contact_name"], size="5", id="call-contact"),
                rx.text(call["to"], font_family="monospace", color=rx.color("gray", 10)),
                align="baseline",
                spacing="3",
            ),
            rx.hstack(
                rx.text("Placed ", call["started"], size="2", color=rx.color("gray", 10)),
                _live_dot(),
                spacing="3",
                align="center",
            ),
            spacing="1",
        ),
        rx.spacer(),
        rx.badge(
            rx.icon("phone", size=14),
            call["status_label"],
            color_scheme=call["status_color"].to(str),
            size="3",
            variant="solid",
            id="call-status",
            class_name="call-status-" + call["status"].to(str),
        ),
        align="center",
        width="100%",
    )


def _event(event: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.center(
            rx.icon(event["icon"].to(str), size=14, color=event["fg"].to(str)),
            width="28px",
            height="28px",
            border_radius="50%",
            background=event["bg"].to(str),
            flex_shrink="0",
        ),
        rx.vstack(
            rx.hstack(
                rx.text(event["label"], size="2", weight="medium"),
                rx.tooltip(rx.text(event["time"], size="1", color=rx.color("gray", 10), font_family="monospace"), content=event["time_full"]),
                rx.text(event["elapsed"], size="1", color=rx.color("gray", 9)),
                spacing="2",
                align="baseline",
            ),
            rx.cond(event["detail"] != "", rx.text(event["detail"], size="1", color=rx.color("gray", 10))),
            spacing="0",
        ),
        align="start",
        spacing="3",
        width="100%",
        class_name="call-event call-event-" + event["status"].to(str),
    )


def _timeline() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Timeline", size="2", weight="bold", color=rx.color("gray", 11), text_transform="uppercase", letter_spacing="0.04em"),
            rx.vstack(rx.foreach(VoiceCallState.events, _event), spacing="3", width="100%", id="call-timeline"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _facts() -> rx.Component:
    call = VoiceCallState.call
    return rx.card(
        rx.vstack(
            rx.text("Details", size="2", weight="bold", color=rx.color("gray", 11), text_transform="uppercase", letter_spacing="0.04em"),
            rx.grid(
                _fact("Duration", call["duration"], id="call-duration", weight="medium"),
                _fact("Voice", call["voice"]),
                _fact("Answered", call["answered"]),
                _fact("Ended", call["ended"]),
                _fact("Provider id", call["provider_id"], font_family="monospace", size="1", word_break="break-all"),
                columns="110px 1fr",
                spacing="2",
                width="100%",
            ),
            rx.cond(
                call["error"] != "",
                rx.callout.root(
                    rx.callout.icon(rx.icon("triangle-alert", size=16)),
                    rx.hstack(
                        rx.cond(call["error_code"] != "", rx.code(call["error_code"], color_scheme="red", size="1")),
                        rx.text(call["error"], size="2"),
                        spacing="2",
                        align="center",
                    ),
                    color_scheme="red",
                    size="1",
                    width="100%",
                    id="call-error",
                ),
            ),
            rx.divider(),
            rx.hstack(
                rx.text("What it says", size="2", weight="medium"),
                rx.badge(call["text_type"], size="1", variant="soft", color_scheme="gray"),
                align="center",
                spacing="2",
            ),
            rx.box(
                rx.text(call["text"], size="2", white_space="pre-wrap", word_break="break-word",
                        font_family=rx.cond(call["text_type"] == "SSML", "monospace", "inherit"), id="call-text"),
                padding="10px 12px",
                border_radius="8px",
                background=rx.color("gray", 2),
                border=f"1px solid {rx.color('gray', 5)}",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _links() -> rx.Component:
    call = VoiceCallState.call
    return rx.hstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("Call log"), align="center", spacing="1"), href="/voice"),
        rx.spacer(),
        rx.cond(
            call["contact_id"] != "",
            rx.hstack(
                rx.link(rx.button(rx.icon("message-square", size=14), "Conversation", variant="soft", size="2"), href="/inbox/" + call["contact_id"].to(str)),
                writers_only(rx.link(rx.button(rx.icon("phone-outgoing", size=14), "Call again", variant="soft", size="2"), href="/voice/new?contact=" + call["contact_id"].to(str))),
                spacing="2",
            ),
        ),
        align="center",
        width="100%",
    )


def voice_call_page() -> rx.Component:
    body = rx.cond(
        VoiceCallState.missing != "",
        empty_state("phone-off", "Call not found", VoiceCallState.missing + " Calls are kept for 90 days.",
                    rx.link(rx.button("Back to the call log", variant="soft"), href="/voice")),
        rx.vstack(
            _links(),
            _header(),
            rx.grid(_timeline(), _facts(), columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%", align_items="start"),
            spacing="4",
            width="100%",
        ),
    )
    return signed_in_page("Voice call", loading_block(VoiceCallState.loading, body), subtitle="Status and events as the provider reports them, live")
