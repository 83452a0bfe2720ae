"""/inbox/compose (writers): one message to up to 50 contacts on WhatsApp, SMS, email or voice.

Recipients are picked by search and shown as chips. The form follows the channel: SMS counts its parts as you
type, email shows its HTML exactly as it will be sent (sanitised), WhatsApp offers free text only while every
recipient's 24-hour window is open (otherwise an approved template), voice previews how long the call talks.
Before sending, the reachability list says who cannot be reached and why, in the send services' own words;
Send then calls the channel's send service once per reachable recipient. Viewers see a read-only notice."""
from __future__ import annotations

from datetime import datetime, timezone

import reflex as rx

from backend.errors import BadRequest, DomainError, ValidationError
from backend.services.contacts import contacts
from backend.services.channels.email import send as email_send
from backend.services.channels.sms import send as sms_send
from backend.services.channels.voice import calls as voice_calls
from backend.services.channels.whatsapp import send as whatsapp_send
from backend.services.channels.email.content import prepare_content, sanitise_html
from backend.services.messaging.reachability import MAX_CONTACTS, Reach, reachability
from backend.services.channels.sms.segments import segment_info
from backend.services.channels.sms.send import MAX_BODY
from wecare_app.components.controls import segment_value
from wecare_app.components.formatting import CHANNEL_ICONS, CHANNEL_LABELS
from wecare_app.components.shell import empty_state
from wecare_app.components.template_fields import template_fields
from wecare_app.pages.inbox.display import duration
from wecare_app.pages.layout import signed_in_page
from wecare_app.pages.voice.contact_search import ContactSearch, contact_choice, contact_matches_list, contact_search_box
from wecare_app.pages.voice.speech import SpeechForm, speech_fields, speech_preview, speech_summary
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState
from wecare_app.state.template_picker import TemplatePicker

CHANNELS = ("whatsapp", "sms", "email", "voice")
WHATSAPP_TEXT_MAX = 4096
_RECIPIENT_FIELDS = ("contactId", "to")  # an error naming these is about one recipient, not the content


# ---------------------------------------------------------------- how things read on screen


def window_text(reach: Reach, now: datetime) -> str:
    if reach.window_open is None:
        return ""
    if reach.window_open:
        return f"Window open · {duration((reach.window_closes_at - now).total_seconds())} left"
    if reach.window_closes_at:
        return f"Window closed {reach.window_closes_at:%d %b %H:%M} UTC"
    return "No message from them yet"


def reach_row(reach: Reach, now: datetime) -> dict:
    return {
        "contact_id": reach.contact_id,
        "name": reach.name,
        "address": reach.address or "",
        "ok": reach.ok,
        "reason": reach.reason or "",
        "window": window_text(reach, now),
        "window_open": bool(reach.window_open),
    }


def sms_counter(text: str) -> dict[str, str]:
    """The live segment counter: encoding, characters and parts, and how much a part holds."""
    info = segment_info(text)
    parts = f"{info.segments} part{'s' if info.segments != 1 else ''}"
    note = f"{info.per_segment} units a part" if info.segments > 1 else f"up to {info.per_segment} in one part"
    if info.units != info.characters:
        note = f"{info.units} units · " + note
    return {
        "encoding": info.encoding,
        "summary": f"{info.encoding} · {info.characters} character{'s' if info.characters != 1 else ''} · {parts}",
        "note": note,
        "ucs2": "yes" if info.encoding == "UCS-2" and info.characters else "",
    }


def _refusal(row: dict) -> str:
    """A refusal for the summary toast, naming the recipient once."""
    return row["detail"] if row["detail"].startswith(row["name"]) else f"{row['name']}: {row['detail']}"


def _without_field(error: DomainError) -> str:
    return error.message.removeprefix(f"{error.field}: ") if error.field else error.message


# ---------------------------------------------------------------- state


class ComposeState(ContactSearch, SpeechForm, TemplatePicker, SessionState):
    recipients: list[dict[str, str]] = []
    channel: str = "sms"
    body: str = ""  # SMS and WhatsApp text
    subject: str = ""
    email_text: str = ""
    html: str = ""
    whatsapp_choice: str = "text"  # what the operator picked; templates are forced while a window is closed
    all_windows_open: bool = False
    reach: list[dict] = []
    sending: bool = False
    outcome: list[dict] = []
    outcome_channel: str = ""

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
    def html_preview(self) -> str:
        return sanitise_html(self.html) if self.html.strip() else ""

    @rx.var
    def html_trimmed(self) -> bool:
        """Something in the HTML will not be sent (a script, a style, a handler, an unsafe link)."""
        return bool(self.html.strip()) and sanitise_html(self.html).strip() != self.html.strip()

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

    @rx.event
    def load(self):
        actor = self.actor()
        if not actor.is_authenticated:
            return None
        if not self.voice_id:
            self._reset_speech()
        self.outcome = []
        self._clear_search()
        wanted = [c for c in self.router.url.query_parameters.get("to", "").split(",") if c]
        if wanted:
            self.recipients = []
            for contact_id in wanted[:MAX_CONTACTS]:
                try:
                    self.recipients = [*self.recipients, contact_choice(contacts.get_contact(actor, contact_id))]
                except DomainError:
                    continue
        self._load_template_options(actor)
        return self._check_reach()

    # ------------------------------------------------------------ recipients

    @rx.event
    def add_recipient(self, contact_id: str):
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
        return self._check_reach()

    @rx.event
    def remove_recipient(self, contact_id: str):
        self.recipients = [r for r in self.recipients if r["contact_id"] != contact_id]
        return self._check_reach()

    @rx.event
    def clear_recipients(self):
        self.recipients = []
        self.reach = []

    def _check_reach(self):
        """Ask the send services' rules about every recipient on the chosen channel (and, for WhatsApp, whether
        free text is possible: only when every window is open)."""
        ids = [r["contact_id"] for r in self.recipients]
        if not ids:
            self.reach, self.all_windows_open = [], False
            return None
        actor = self.actor()
        try:
            found = reachability(actor, ids, self.channel, free_form=True)
            if self.channel == "whatsapp":
                windows = [r.window_open for r in found if r.window_open is not None]
                self.all_windows_open = bool(windows) and all(windows)
                if self._whatsapp_mode() == "template":
                    found = reachability(actor, ids, "whatsapp", free_form=False)
        except DomainError as error:
            return error_toast(error)
        now = datetime.now(timezone.utc)
        self.reach = [reach_row(r, now) for r in found]
        return None

    # ------------------------------------------------------------ the form

    @rx.event
    def set_channel(self, value: str | list[str]):
        value = segment_value(value)
        if value in CHANNELS and value != self.channel:
            self.channel = value
            self.outcome = []
            return self._check_reach()
        return None

    @rx.event
    def set_body(self, value: str):
        self.body = value

    @rx.event
    def set_subject(self, value: str):
        self.subject = value

    @rx.event
    def set_email_text(self, value: str):
        self.email_text = value

    @rx.event
    def set_html(self, value: str):
        self.html = value

    @rx.event
    def set_whatsapp_choice(self, value: str | list[str]):
        self.whatsapp_choice = segment_value(value) or "text"
        return self._check_reach()

    # ------------------------------------------------------------ sending

    def _content_problem(self) -> str:
        """Why the content cannot go to anyone (checked once, before the per-recipient sends)."""
        if self.channel == "sms" and not self.body.strip():
            return "Write the text message first."
        if self.channel == "email":
            try:
                prepare_content(self.subject, self.email_text or None, self.html or None)
            except ValidationError as error:
                return _without_field(error)
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
        if self.channel == "sms":
            return {"body": self.body}
        if self.channel == "email":
            return {"subject": self.subject, "text": self.email_text or None, "html": self.html or None}
        if self.channel == "voice":
            return self._speech_request()
        if self._whatsapp_mode() == "text":
            return {"type": "text", "text": self.body.strip()}
        return self._template_request()

    def _send_one(self, actor, contact_id: str, request: dict) -> str:
        """Queue one recipient's message through the channel's send service; the link to follow it."""
        data = {"contactId": contact_id, **request}
        if self.channel == "sms":
            sms_send.send_sms(actor, data, via="ui")
        elif self.channel == "email":
            email_send.send_email(actor, data, via="ui")
        elif self.channel == "whatsapp":
            whatsapp_send.send_whatsapp(actor, data, via="ui")
        else:
            return f"/voice/{voice_calls.place_call(actor, data, via='ui').call_id}"
        return f"/inbox/{contact_id}"

    @rx.event
    def send(self):
        if self.sending:
            return
        if not self.recipients:
            yield rx.toast.error("Add at least one recipient.")
            return
        problem = self._content_problem()
        if problem:
            yield rx.toast.error(problem, close_button=True)
            return
        self.sending = True
        yield
        actor = self.actor()
        check = self._check_reach()  # the rules as they are now, not as they were when the list was drawn
        if check is not None:
            self.sending = False
            yield check
            return
        request = self._request()
        outcome, attempted = [], 0
        for row in self.reach:
            base = {"contact_id": row["contact_id"], "name": row["name"], "thread": f"/inbox/{row['contact_id']}"}
            if not row["ok"]:
                outcome.append({**base, "queued": False, "detail": row["reason"], "follow": ""})
                continue
            attempted += 1
            try:
                follow = self._send_one(actor, row["contact_id"], request)
            except DomainError as error:
                if isinstance(error, (ValidationError, BadRequest)) and error.field not in _RECIPIENT_FIELDS and attempted == 1:
                    self.sending = False  # the content itself was refused: it would be for everyone
                    yield error_toast(error)
                    return
                outcome.append({**base, "queued": False, "detail": _without_field(error), "follow": ""})
                continue
            outcome.append({**base, "queued": True, "detail": "Queued", "follow": follow})
        self.sending = False
        self.outcome = outcome
        self.outcome_channel = self.channel
        queued = sum(1 for r in outcome if r["queued"])
        refused = [r for r in outcome if not r["queued"]]
        if queued:
            self._clear_content()
        title = f"{queued} queued, {len(refused)} refused"
        reasons = "; ".join(_refusal(r) for r in refused[:3]) + ("; …" if len(refused) > 3 else "")
        toast = rx.toast.success if not refused else (rx.toast.warning if queued else rx.toast.error)
        yield toast(title, description=reasons or None, close_button=True, duration=8000)
        self._check_reach()

    def _clear_content(self) -> None:
        if self.channel in ("sms", "whatsapp"):
            self.body = ""
            self.template_params = [""] * len(self.template_params)
        elif self.channel == "email":
            self.subject = self.email_text = self.html = ""
        else:
            self.speech_text = ""


# ---------------------------------------------------------------- components


def _section(title: str, *children: rx.Component, trailing: rx.Component | None = None, **props) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(title, size="2", weight="bold", color=rx.color("gray", 11), text_transform="uppercase", letter_spacing="0.04em"),
                rx.spacer(),
                trailing if trailing is not None else rx.fragment(),
                align="center",
                width="100%",
            ),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
        **props,
    )


def _chip(recipient: rx.Var) -> rx.Component:
    return rx.badge(
        rx.text(recipient["name"], size="2"),
        rx.icon(
            "x",
            size=14,
            cursor="pointer",
            on_click=ComposeState.remove_recipient(recipient["contact_id"]),
            aria_label="Remove",
            class_name="compose-recipient-remove",
        ),
        size="2",
        variant="soft",
        radius="full",
        padding="4px 8px 4px 12px",
        class_name="compose-recipient",
        title=recipient["address"],
    )


def _recipients() -> rx.Component:
    return _section(
        "To",
        contact_search_box(
            ComposeState.contact_query,
            ComposeState.search_contacts,
            "Add a recipient: name, phone or email",
            box_id="compose-search",
            size="3",
        ),
        contact_matches_list(
            ComposeState.contact_matches,
            ComposeState.contact_query,
            ComposeState.add_recipient,
            item_class="compose-suggestion",
            chosen=ComposeState.recipient_ids,
        ),
        rx.cond(
            ComposeState.recipients.length() > 0,
            rx.flex(rx.foreach(ComposeState.recipients, _chip), wrap="wrap", gap="8px", width="100%", id="compose-recipients"),
            rx.text("Nobody yet. Search above and click a contact to add them.", size="2", color=rx.color("gray", 10)),
        ),
        trailing=rx.hstack(
            rx.text(ComposeState.recipients.length(), f" / {MAX_CONTACTS}", size="1", color=rx.color("gray", 10)),
            rx.cond(
                ComposeState.recipients.length() > 0,
                rx.button("Clear", size="1", variant="ghost", color_scheme="gray", on_click=ComposeState.clear_recipients),
            ),
            align="center",
            spacing="2",
        ),
    )


def _channel_picker() -> rx.Component:
    return rx.segmented_control.root(
        *[
            rx.segmented_control.item(
                rx.hstack(rx.icon(CHANNEL_ICONS[c], size=14), rx.text(CHANNEL_LABELS[c]), spacing="2", align="center"),
                value=c,
            )
            for c in CHANNELS
        ],
        value=ComposeState.channel,
        on_change=ComposeState.set_channel,
        size="2",
        width="100%",
        id="compose-channel",
    )


def _label(text: str, trailing=None) -> rx.Component:
    return rx.hstack(
        rx.text(text, size="2", weight="medium"),
        rx.spacer(),
        trailing if trailing is not None else rx.fragment(),
        width="100%",
        align="center",
    )


def _sms_form() -> rx.Component:
    counter = ComposeState.segments
    return rx.vstack(
        _label("Text message", rx.text(ComposeState.body.length(), f" / {MAX_BODY:,}", size="1", color=rx.color("gray", 9))),
        rx.text_area(
            value=ComposeState.body,
            on_change=ComposeState.set_body,
            placeholder="Hi, your order is ready for collection. Reply STOP to opt out.",
            rows="6",
            width="100%",
            max_length=MAX_BODY,
            id="compose-body",
        ),
        rx.hstack(
            rx.icon("message-square", size=14, color=rx.cond(counter["ucs2"] != "", rx.color("amber", 10), rx.color("blue", 10))),
            rx.text(counter["summary"], size="2", weight="medium", id="compose-segments"),
            rx.text(counter["note"], size="1", color=rx.color("gray", 10)),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(
            counter["ucs2"] != "",
            rx.callout(
                "A character outside the GSM-7 alphabet (an emoji, curly quotes, many accents) sends the whole text as "
                "UCS-2: 70 characters a part instead of 160.",
                icon="info",
                size="1",
                color_scheme="amber",
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
    )


# The app's CSS reset strips the browser's default look of headings, lists and links; the preview puts back
# roughly what a mail client shows.
EMAIL_PREVIEW_STYLE = {
    "& h1, & h2, & h3, & h4": {"font_weight": "700", "line_height": "1.3", "margin": "0 0 0.5em"},
    "& h1": {"font_size": "1.6em"},
    "& h2": {"font_size": "1.35em"},
    "& h3": {"font_size": "1.15em"},
    "& p, & ul, & ol, & blockquote, & table": {"margin": "0 0 0.75em"},
    "& ul": {"list_style": "disc", "padding_left": "1.5em"},
    "& ol": {"list_style": "decimal", "padding_left": "1.5em"},
    "& a": {"color": "#0b57d0", "text_decoration": "underline"},
    "& blockquote": {"border_left": "3px solid #ccc", "padding_left": "12px", "color": "#555"},
    "& td, & th": {"border": "1px solid #ddd", "padding": "4px 8px"},
    "& img": {"max_width": "100%"},
}


def _email_form() -> rx.Component:
    return rx.vstack(
        _label("Subject"),
        rx.input(value=ComposeState.subject, on_change=ComposeState.set_subject, placeholder="Your appointment on Friday", width="100%", id="compose-subject"),
        _label("HTML", rx.text("optional", size="1", color=rx.color("gray", 9))),
        rx.text_area(
            value=ComposeState.html,
            on_change=ComposeState.set_html.debounce(300),
            placeholder="<h2>See you on Friday</h2>\n<p>Hello <b>Sam</b>, your appointment is at <b>10:00</b>.</p>",
            rows="7",
            width="100%",
            font_family="monospace",
            font_size="12px",
            id="compose-html",
        ),
        rx.cond(
            ComposeState.html.strip() != "",
            rx.vstack(
                _label(
                    "Preview, as it will be sent",
                    rx.cond(
                        ComposeState.html_trimmed,
                        rx.tooltip(
                            rx.badge(rx.icon("shield-check", size=12), "unsafe markup removed", color_scheme="amber", variant="soft", size="1"),
                            content="Scripts, styles, event handlers and unsafe links are not sent",
                        ),
                    ),
                ),
                rx.box(
                    rx.cond(
                        ComposeState.html_preview != "",
                        rx.html(ComposeState.html_preview, id="compose-html-preview"),
                        rx.text("Nothing is left once unsafe markup is removed.", size="2", color="#777"),
                    ),
                    padding="16px 20px",
                    max_height="320px",
                    overflow_y="auto",
                    width="100%",
                    border_radius="8px",
                    background="white",
                    color="#1a1a1a",
                    border=f"1px solid {rx.color('gray', 6)}",
                    font_size="14px",
                    line_height="1.5",
                    style=EMAIL_PREVIEW_STYLE,
                    class_name="email-preview",
                ),
                spacing="1",
                width="100%",
            ),
        ),
        _label("Plain text", rx.text("optional with HTML: made from it when empty", size="1", color=rx.color("gray", 9))),
        rx.text_area(
            value=ComposeState.email_text,
            on_change=ComposeState.set_email_text,
            placeholder="Hello Sam, see you on Friday at 10:00.",
            rows="3",
            width="100%",
            id="compose-body",
        ),
        rx.text(
            "Scripts, styles, forms, event handlers and non-HTTPS images are removed before the email is stored. "
            "Every email carries an unsubscribe header.",
            size="1",
            color=rx.color("gray", 10),
        ),
        spacing="2",
        width="100%",
    )


def _whatsapp_text() -> rx.Component:
    return rx.vstack(
        _label("Message", rx.text(ComposeState.body.length(), f" / {WHATSAPP_TEXT_MAX:,}", size="1", color=rx.color("gray", 9))),
        rx.text_area(
            value=ComposeState.body,
            on_change=ComposeState.set_body,
            placeholder="Hi! Thanks for your message, here is the update you asked for…",
            rows="5",
            width="100%",
            max_length=WHATSAPP_TEXT_MAX,
            id="compose-body",
        ),
        spacing="2",
        width="100%",
    )


def _whatsapp_template() -> rx.Component:
    return rx.vstack(
        _label("Approved template"),
        template_fields(
            ComposeState, select_id="compose-template", param_class="compose-template-param",
            extra=rx.text("Every recipient gets the same values.", size="1", color=rx.color("gray", 10)),
        ),
        spacing="2",
        width="100%",
        id="compose-template-picker",
    )


def _whatsapp_form() -> rx.Component:
    return rx.vstack(
        rx.cond(
            ComposeState.all_windows_open,
            rx.segmented_control.root(
                rx.segmented_control.item("Message", value="text"),
                rx.segmented_control.item("Template", value="template"),
                value=ComposeState.whatsapp_mode,
                on_change=ComposeState.set_whatsapp_choice,
                size="1",
            ),
            rx.callout(
                rx.cond(
                    ComposeState.recipients.length() > 0,
                    "Not every recipient's 24-hour window is open, so only an approved template can go to all of them.",
                    "Free text needs every recipient's 24-hour window open; otherwise choose an approved template.",
                ),
                icon="clock",
                size="1",
                color_scheme="amber",
                width="100%",
            ),
        ),
        rx.cond(ComposeState.whatsapp_mode == "text", _whatsapp_text(), _whatsapp_template()),
        spacing="3",
        width="100%",
    )


def _voice_form() -> rx.Component:
    return rx.vstack(
        speech_fields(
            ComposeState.speech_text,
            ComposeState.speech_type,
            ComposeState.voice_id,
            ComposeState.set_speech_text,
            ComposeState.set_speech_type,
            ComposeState.set_voice_id,
            ComposeState.use_ssml_example,
            text_id="compose-body",
            voice_select_id="compose-voice",
        ),
        speech_preview(ComposeState.speech_preview, ComposeState.voice_id, estimate_id="compose-estimate"),
        spacing="3",
        width="100%",
    )


def _message() -> rx.Component:
    return _section(
        "Message",
        _channel_picker(),
        rx.match(
            ComposeState.channel,
            ("sms", _sms_form()),
            ("email", _email_form()),
            ("whatsapp", _whatsapp_form()),
            _voice_form(),
        ),
        rx.divider(),
        rx.hstack(
            rx.cond(
                ComposeState.unreachable_count > 0,
                rx.text(ComposeState.unreachable_count, " can't be reached and will be skipped", size="2", color=rx.color("amber", 11)),
                rx.text("Each recipient gets their own message, in their conversation.", size="2", color=rx.color("gray", 10)),
            ),
            rx.spacer(),
            rx.button(
                rx.icon(rx.cond(ComposeState.channel == "voice", "phone-outgoing", "send"), size=16),
                ComposeState.send_label,
                size="3",
                on_click=ComposeState.send,
                loading=ComposeState.sending,
                disabled=ComposeState.reachable_count == 0,
                id="compose-send",
            ),
            align="center",
            width="100%",
        ),
    )


def _reach_row(row: rx.Var) -> rx.Component:
    ok = row["ok"].to(bool)
    return rx.hstack(
        rx.icon(rx.cond(ok, "circle-check", "circle-x"), size=18, color=rx.cond(ok, rx.color("green", 10), rx.color("red", 10)), flex_shrink="0", margin_top="2px"),
        rx.vstack(
            rx.hstack(
                rx.link(row["name"], href="/contacts/" + row["contact_id"].to(str), size="2", weight="medium", color="inherit"),
                rx.text(row["address"], size="1", color=rx.color("gray", 10), font_family="monospace"),
                spacing="2",
                align="baseline",
                wrap="wrap",
            ),
            rx.cond(row["reason"] != "", rx.text(row["reason"], size="1", color=rx.color("red", 11), class_name="reach-reason")),
            rx.cond(
                row["window"] != "",
                rx.badge(
                    rx.icon("clock", size=11),
                    row["window"],
                    size="1",
                    variant="soft",
                    color_scheme=rx.cond(row["window_open"].to(bool), "green", "amber"),
                ),
            ),
            spacing="1",
            min_width="0",
            width="100%",
        ),
        spacing="2",
        align="start",
        width="100%",
        padding_y="8px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name=rx.cond(ok, "reach-row reach-ok", "reach-row reach-refused"),
    )


def _reach() -> rx.Component:
    return _section(
        "Who can be reached",
        rx.cond(
            ComposeState.reach.length() > 0,
            rx.vstack(rx.foreach(ComposeState.reach, _reach_row), spacing="0", width="100%", id="compose-reach"),
            rx.text("Add recipients to check them against the channel's rules: consent, opt-outs and, on WhatsApp, the 24-hour window.", size="2", color=rx.color("gray", 10)),
        ),
        trailing=rx.cond(
            ComposeState.reach.length() > 0,
            rx.badge(
                ComposeState.reachable_count, " of ", ComposeState.reach.length(), " reachable",
                color_scheme=rx.cond(ComposeState.unreachable_count > 0, "amber", "green"),
                variant="soft",
                id="compose-reach-summary",
            ),
        ),
    )


def _outcome_row(row: rx.Var) -> rx.Component:
    queued = row["queued"].to(bool)
    return rx.hstack(
        rx.icon(rx.cond(queued, "send", "ban"), size=16, color=rx.cond(queued, rx.color("green", 10), rx.color("red", 10)), flex_shrink="0"),
        rx.vstack(
            rx.text(row["name"], size="2", weight="medium"),
            rx.text(row["detail"], size="1", color=rx.cond(queued, rx.color("gray", 10), rx.color("red", 11))),
            spacing="0",
            min_width="0",
        ),
        rx.spacer(),
        rx.cond(
            row["follow"].to(str).startswith("/voice/"),
            rx.link("Follow call", href=row["follow"].to(str), size="2"),
        ),
        rx.link(rx.icon("message-square", size=14), "Thread", href=row["thread"].to(str), size="2", display="flex", align_items="center", gap="4px"),
        align="center",
        spacing="2",
        width="100%",
        class_name="send-result",
    )


def _outcome() -> rx.Component:
    return rx.cond(
        ComposeState.outcome.length() > 0,
        _section(
            "Last send",
            rx.vstack(rx.foreach(ComposeState.outcome, _outcome_row), spacing="2", width="100%", id="compose-outcome"),
            trailing=rx.text(ComposeState.outcome_summary, size="1", color=rx.color("gray", 10)),
        ),
    )


def _read_only() -> rx.Component:
    return rx.box(
        empty_state(
            "eye",
            "Read only",
            "Viewers can read every conversation but cannot send. Ask an administrator for the Operator role to compose messages.",
            rx.link(rx.button("Open the inbox", variant="soft"), href="/inbox"),
        ),
        width="100%",
        id="compose-read-only",
    )


def compose_page() -> rx.Component:
    return signed_in_page(
        "Compose",
        rx.cond(
            SessionState.can_write,
            rx.grid(
                rx.vstack(_recipients(), _message(), spacing="4", width="100%"),
                rx.vstack(_reach(), _outcome(), spacing="4", width="100%"),
                columns=rx.breakpoints(initial="1", lg="minmax(0, 3fr) minmax(0, 2fr)"),
                spacing="4",
                width="100%",
                align_items="start",
            ),
            _read_only(),
        ),
        actions=rx.link(rx.button(rx.icon("inbox", size=16), "Inbox", variant="soft"), href="/inbox"),
        subtitle=f"One message to up to {MAX_CONTACTS} contacts on WhatsApp, SMS, email or voice",
    )


def register(app: rx.App) -> None:
    app.add_page(
        compose_page,
        route="/inbox/compose",
        title="Compose · WECARE",
        on_load=[SessionState.require_session, ComposeState.load],
    )
