"""/bulk/new: the campaign wizard. Channel → audience (everyone with a tag, picked contacts, or the contacts a CSV
file's phones and emails name) with the live
count of who can be reached and why not the others → the message in the channel's own form → when → review and
confirm. The service decides everything (validation, the confirmation threshold, the reach rule): the page
shows its verdicts and errors, field by field."""
from __future__ import annotations

from datetime import datetime, timezone

import reflex as rx

from backend.services.channels.sms.send import segment_info
from backend.errors import DomainError
from backend.services.campaigns import audience_csv, jobs
from wecare_app.components.controls import segment_value
from wecare_app.components.formatting import CHANNEL_ICONS, CHANNEL_LABELS
from wecare_app.components.template_fields import template_fields
from wecare_app.pages.layout import field_error, signed_in_page
from wecare_app.state.contact_search import ContactSearch, contact_matches_list, contact_search_box
from wecare_app.state.feedback import error_toast, field_errors
from wecare_app.state.session_state import SessionState
from wecare_app.state.template_picker import TemplatePicker
from wecare_app.state.uploads import read_upload

STEPS = ("Channel", "Audience", "Message", "When", "Review")
CSV_UPLOAD_ID = "audience-csv"
MAX_CSV_BYTES = audience_csv.MAX_BYTES  # the upload guard's cap for receive_csv (wecare_app.py)
UNMATCHED_SHOWN = 5
CHANNELS = ("sms", "email", "whatsapp", "voice")


class NewCampaignState(ContactSearch, TemplatePicker, SessionState):
    step: int = 0
    channel: str = "sms"
    name: str = ""
    audience_mode: str = "tags"
    tags_text: str = ""
    picked: list[dict[str, str]] = []
    csv_file: str = ""
    csv_summary: dict = {}  # rows, matched, unmatched (count), problems (the first few: line, value, reason)
    csv_reading: bool = False
    _csv_ids: list[str] = []  # the matched contacts (server side only)
    _csv_data: bytes = b""
    preview: dict = {}
    previewing: bool = False
    body: str = ""
    subject: str = ""
    email_text: str = ""
    speech: str = ""
    when_mode: str = "now"
    when_at: str = ""
    confirm_needed: str = ""  # the service's words when the job needs confirming
    confirmed: bool = False
    errors: dict[str, str] = {}
    creating: bool = False

    @rx.var
    def picked_ids(self) -> list[str]:
        return [p["contact_id"] for p in self.picked]

    @rx.var
    def segments(self) -> str:
        info = segment_info(self.body or "")
        return f"{info.segments} part{'s' if info.segments != 1 else ''} ({info.encoding})" if self.body else ""

    @rx.event(background=True)
    async def start(self):
        async with self:
            self.step, self.errors, self.confirm_needed, self.confirmed, self.preview = 0, {}, "", False, {}
        await self._load_template_options()

    @rx.event
    def set_channel(self, value: str | list[str]):
        self.channel = segment_value(value)
        self.preview = {}

    @rx.event
    def set_name(self, value: str):
        self.name = value

    @rx.event
    def set_audience_mode(self, value: str | list[str]):
        self.audience_mode = segment_value(value)
        self.preview = {}

    @rx.event
    def set_tags_text(self, value: str):
        self.tags_text, self.preview = value, {}

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
    def set_speech(self, value: str):
        self.speech = value

    @rx.event
    def set_when_mode(self, value: str | list[str]):
        self.when_mode = segment_value(value)

    @rx.event
    def set_when_at(self, value: str):
        self.when_at = value

    @rx.event
    def set_confirmed(self, value: bool):
        self.confirmed = bool(value)

    @rx.event(background=True)
    async def pick(self, contact_id: str):
        async with self:
            if contact_id in [p["contact_id"] for p in self.picked]:
                return None
            match = next((m for m in self.contact_matches if m["contact_id"] == contact_id), None)
            if match:
                self.picked = [*self.picked, match]
                self.preview = {}
            self._clear_search()
        return NewCampaignState.check_audience

    @rx.event
    def unpick(self, contact_id: str):
        self.picked = [p for p in self.picked if p["contact_id"] != contact_id]
        self.preview = {}

    @rx.event
    async def receive_csv(self, files: list[rx.UploadFile]):
        """The declared size is checked before a byte is read; the service checks the role."""
        if not self.can_write:
            return rx.toast.error("Creating a campaign needs the Operator or Admin role.")
        if not files:
            return rx.toast.error("Choose a CSV file first.")
        try:
            data = await read_upload(files[0], MAX_CSV_BYTES)
        except DomainError as error:
            return error_toast(error)
        self.csv_file, self._csv_data, self.csv_reading = files[0].name or "audience.csv", data, True
        self.csv_summary, self._csv_ids, self.preview = {}, [], {}
        return NewCampaignState.match_csv

    @rx.event(background=True)
    async def match_csv(self):
        async with self:
            data, self._csv_data = self._csv_data, b""
        try:
            found = await self.run(audience_csv.match_csv, data)
        except DomainError as error:
            async with self:
                self.csv_reading, self.csv_file = False, ""
            return error_toast(error)
        async with self:
            self.csv_reading, self._csv_ids = False, found.contact_ids
            self.csv_summary = {
                "rows": f"{found.rows:,}", "matched": f"{len(found.contact_ids):,}", "unmatched": found.unmatched_count,
                "problems": [{"line": str(p["line"]), "value": p["value"], "reason": p["reason"]} for p in found.unmatched[:UNMATCHED_SHOWN]],
            }
        return NewCampaignState.check_audience

    def _tags(self) -> list[str]:
        return [t.strip() for t in self.tags_text.split(",") if t.strip()]

    def _audience_ids(self) -> list[str]:
        return list(self._csv_ids) if self.audience_mode == "csv" else [p["contact_id"] for p in self.picked]

    @rx.event(background=True)
    async def check_audience(self):
        """The live count: who the campaign would reach on this channel, and why not the others."""
        async with self:
            channel, mode, tags, ids = self.channel, self.audience_mode, self._tags(), self._audience_ids()
            template = self.channel == "whatsapp"
            self.previewing = True
        try:
            if mode == "tags":
                found = await self.run(jobs.preview_audience, channel, tags=tags, template=template) if tags else None
            else:
                found = await self.run(jobs.preview_audience, channel, contact_ids=ids, template=template) if ids else None
        except DomainError as error:
            async with self:
                self.previewing = False
            return error_toast(error)
        async with self:
            self.previewing = False
            self.preview = {} if found is None else {
                "total": found.total, "reachable": found.reachable,
                "excluded": [{"reason": r, "count": n} for r, n in sorted(found.excluded.items(), key=lambda i: -i[1])],
                "partial": not found.examined_all,
            }
        return None

    def _message(self) -> dict:
        if self.channel == "sms":
            return {"body": self.body}
        if self.channel == "email":
            return {"subject": self.subject, "text": self.email_text}
        if self.channel == "voice":
            return {"text": self.speech}
        return self._template_request() if self._selected_template() else {"type": "template"}

    def _request(self) -> dict:
        request = {"name": self.name.strip() or "Untitled campaign", "channel": self.channel, "message": self._message(),
                   "confirmed": self.confirmed}
        if self.audience_mode == "tags":
            request["audience"] = {"tags": self._tags()}
        else:
            request["contactIds"] = self._audience_ids()
        if self.when_mode == "later" and self.when_at:
            try:
                request["scheduledAt"] = datetime.fromisoformat(self.when_at).replace(tzinfo=timezone.utc).isoformat()
            except ValueError:
                request["scheduledAt"] = self.when_at
        return request

    @rx.event
    def go_to(self, step: int):
        if 0 <= step < len(STEPS):
            self.step = step

    @rx.event
    def next_step(self):
        problem = self._step_problem()
        if problem:
            self.errors = problem
            return None
        self.errors = {}
        self.step = min(self.step + 1, len(STEPS) - 1)
        return NewCampaignState.check_audience if self.step in (1, 4) else None

    def _step_problem(self) -> dict[str, str]:
        if self.step == 1 and (not self._tags() if self.audience_mode == "tags" else not self._audience_ids()):
            return {"audience": {"tags": "Choose who gets it: a tag.", "contacts": "Choose who gets it: at least one contact.",
                                 "csv": "Choose who gets it: a CSV file whose phones or emails match your contacts."}.get(self.audience_mode, "")}
        if self.step == 3 and self.when_mode == "later" and not self.when_at:
            return {"scheduledAt": "Choose the date and time it starts (UTC)."}
        return {}

    @rx.event
    def previous_step(self):
        self.errors = {}
        self.step = max(0, self.step - 1)

    @rx.event(background=True)
    async def create(self):
        async with self:
            request, self.creating, self.errors = self._request(), True, {}
        try:
            job = await self.run(jobs.create_job, request)
        except DomainError as error:
            async with self:
                self.creating = False
                if error.code == "CONFIRMATION_REQUIRED":
                    count = next((d.get("recipients") for d in error.details or [] if d.get("recipients")), None)
                    self.confirm_needed = (f"This campaign goes to {count:,} contacts. Please confirm before it is created."
                                           if count else "This campaign goes to many contacts. Please confirm.")
                    return None
                self.errors = field_errors(error)
                if any(f.startswith("message") for f in self.errors):
                    self.step = 2
                elif "scheduledAt" in self.errors:
                    self.step = 3
                elif any(f.startswith(("audience", "contactIds")) for f in self.errors):
                    self.step = 1
            return error_toast(error)
        async with self:
            self.creating = False
            self.picked, self.preview, self.confirm_needed, self.confirmed, self.step = [], {}, "", False, 0
            self.csv_file, self.csv_summary, self._csv_ids = "", {}, []
        return [rx.redirect(f"/bulk/{job.job_id}"), rx.toast.success("Campaign created: preparing its recipients")]


# ---------------------------------------------------------------- components

S = NewCampaignState


def _stepper() -> rx.Component:
    def item(index: int, label: str) -> rx.Component:
        return rx.hstack(
            rx.center(rx.text(str(index + 1), size="1", weight="bold"), width="22px", height="22px", border_radius="50%",
                      background=rx.cond(S.step >= index, rx.color("accent", 9), rx.color("gray", 5)),
                      color=rx.cond(S.step >= index, "white", rx.color("gray", 11))),
            rx.text(label, size="2", weight=rx.cond(S.step == index, "bold", "regular")),
            spacing="2", align="center", cursor="pointer", on_click=S.go_to(index), class_name=f"wizard-step-{index}",
        )

    return rx.hstack(*[item(i, label) for i, label in enumerate(STEPS)], spacing="5", wrap="wrap", id="wizard-steps")


def _channel_step() -> rx.Component:
    return rx.vstack(
        rx.text("Name", size="2", weight="medium"),
        rx.input(value=S.name, on_change=S.set_name, placeholder="Spring sale, Tuesday reminder…", width="100%", max_length=120, id="campaign-name"),
        rx.text("Channel", size="2", weight="medium", margin_top="8px"),
        rx.segmented_control.root(
            *[rx.segmented_control.item(rx.hstack(rx.icon(CHANNEL_ICONS[c], size=14), rx.text(CHANNEL_LABELS[c]), spacing="2", align="center"), value=c)
              for c in CHANNELS],
            value=S.channel, on_change=S.set_channel, width="100%", id="campaign-channel",
        ),
        rx.cond(S.channel == "whatsapp", rx.text("A WhatsApp campaign starts conversations, so it sends an approved template.", size="1",
                                                 color=rx.color("gray", 10))),
        spacing="2", width="100%",
    )


def _preview() -> rx.Component:
    p = S.preview
    return rx.cond(
        S.previewing,
        rx.hstack(rx.spinner(size="1"), rx.text("Counting…", size="2"), spacing="2"),
        rx.cond(
            p.contains("total"),
            rx.card(rx.vstack(
                rx.text(p["reachable"].to(str), " of ", p["total"].to(str), " can be reached on this channel", size="3", weight="bold", id="audience-count"),
                rx.foreach(p["excluded"].to(list[dict]), lambda line: rx.hstack(rx.text(line["reason"], size="2", color=rx.color("gray", 11)), rx.spacer(),
                                                                               rx.text(line["count"].to(str), size="2"), width="100%", class_name="audience-excluded")),
                rx.cond(p["partial"].to(bool), rx.text("Counted over the first 5,000 contacts.", size="1", color=rx.color("gray", 10))),
                spacing="1", width="100%"), width="100%"),
        ),
    )


def _csv_audience() -> rx.Component:
    summary = S.csv_summary
    return rx.vstack(
        rx.upload.root(
            rx.vstack(
                rx.icon("file-spreadsheet", size=26, color=rx.color("accent", 10)),
                rx.text("Drop a CSV file here or click to choose one", weight="medium", size="2"),
                rx.text("A phone or email column (headers such as phone, mobile, email); each row is matched to the contact "
                        "that has it. Nothing is imported.", size="1", color=rx.color("gray", 10), text_align="center"),
                rx.foreach(rx.selected_files(CSV_UPLOAD_ID), lambda f: rx.badge(f, variant="soft")),
                align="center", spacing="1",
            ),
            id=CSV_UPLOAD_ID, accept={"text/csv": [".csv"], "text/plain": [".txt"]}, max_files=1, max_size=MAX_CSV_BYTES,
            border=f"2px dashed {rx.color('gray', 7)}", border_radius="12px", padding="24px", width="100%", cursor="pointer",
        ),
        rx.button("Match contacts", on_click=S.receive_csv(rx.upload_files(upload_id=CSV_UPLOAD_ID)), loading=S.csv_reading,
                  disabled=rx.selected_files(CSV_UPLOAD_ID).length() == 0, variant="soft", id="audience-csv-read"),
        rx.cond(
            summary.contains("rows"),
            rx.vstack(
                rx.text(S.csv_file, ": ", summary["matched"].to(str), " contacts matched from ", summary["rows"].to(str), " rows",
                        size="2", weight="medium", id="audience-csv-summary"),
                rx.cond(summary["unmatched"].to(int) > 0, rx.vstack(
                    rx.text(summary["unmatched"].to(str), " rows matched nobody (not sent to):", size="2", color=rx.color("amber", 11)),
                    rx.foreach(summary["problems"].to(list[dict]), lambda p: rx.text("Line ", p["line"], ": ", p["value"], " — ", p["reason"],
                                                                                      size="1", color=rx.color("gray", 11), class_name="audience-csv-problem")),
                    spacing="1")),
                spacing="1", width="100%",
            ),
        ),
        spacing="2", width="100%",
    )


def _audience_step() -> rx.Component:
    return rx.vstack(
        rx.segmented_control.root(rx.segmented_control.item("Everyone with a tag", value="tags"), rx.segmented_control.item("Pick contacts", value="contacts"),
                                  rx.segmented_control.item("From a CSV file", value="csv"),
                                  value=S.audience_mode, on_change=S.set_audience_mode, id="audience-mode"),
        rx.match(
            S.audience_mode,
            ("tags", rx.hstack(rx.input(value=S.tags_text, on_change=S.set_tags_text, placeholder="vip, newsletter (any of them)", width="100%", id="audience-tags"),
                               rx.button("Count", variant="soft", on_click=S.check_audience, id="audience-check"), width="100%")),
            ("csv", _csv_audience()),
            rx.vstack(
                contact_search_box(S.contact_query, S.search_contacts, "Search contacts by name, phone or email", box_id="audience-search"),
                contact_matches_list(S.contact_matches, S.contact_query, S.pick, item_class="audience-match", chosen=S.picked_ids),
                rx.flex(rx.foreach(S.picked, lambda c: rx.badge(c["name"], rx.icon("x", size=12, cursor="pointer", on_click=S.unpick(c["contact_id"])),
                                                               variant="soft", size="2", class_name="audience-chip")), wrap="wrap", gap="2"),
                spacing="2", width="100%",
            ),
        ),
        field_error(S.errors.get("audience", "")),
        field_error(S.errors.get("audience.tags", "")),
        field_error(S.errors.get("contactIds", "")),
        _preview(),
        spacing="3", width="100%",
    )


def _message_step() -> rx.Component:
    return rx.vstack(
        rx.match(
            S.channel,
            ("sms", rx.vstack(rx.text_area(value=S.body, on_change=S.set_body, rows="6", width="100%", max_length=1600,
                                           placeholder="Hi {first name}, … Reply STOP to opt out.", id="campaign-body"),
                              rx.text(S.segments, size="1", color=rx.color("gray", 10), id="campaign-segments"),
                              field_error(S.errors.get("message.body", "")), width="100%")),
            ("email", rx.vstack(rx.input(value=S.subject, on_change=S.set_subject, placeholder="Subject", width="100%", id="campaign-subject"),
                                field_error(S.errors.get("message.subject", "")),
                                rx.text_area(value=S.email_text, on_change=S.set_email_text, rows="8", width="100%", placeholder="The text of the email",
                                             id="campaign-email-text"),
                                field_error(S.errors.get("message.text", "")), field_error(S.errors.get("message", "")), width="100%")),
            ("voice", rx.vstack(rx.text_area(value=S.speech, on_change=S.set_speech, rows="5", width="100%", placeholder="What the call says",
                                             id="campaign-speech"),
                                field_error(S.errors.get("message.text", "")), width="100%")),
            rx.vstack(template_fields(S, select_id="campaign-template", param_class="campaign-template-param"),
                      field_error(S.errors.get("message.template", "")), field_error(S.errors.get("message.template.name", "")),
                      field_error(S.errors.get("message", "")), width="100%"),
        ),
        spacing="2", width="100%",
    )


def _when_step() -> rx.Component:
    return rx.vstack(
        rx.radio_group.root(rx.radio_group.item("Now, as soon as its recipients are ready", value="now"),
                            rx.radio_group.item("Later, at a time (UTC)", value="later"),
                            value=S.when_mode, on_change=S.set_when_mode, direction="column", id="campaign-when"),
        rx.cond(S.when_mode == "later", rx.input(type="datetime-local", value=S.when_at, on_change=S.set_when_at, id="campaign-when-at")),
        field_error(S.errors.get("scheduledAt", "")),
        spacing="3", width="100%",
    )


def _review_step() -> rx.Component:
    return rx.vstack(
        rx.grid(
            rx.text("Name", size="2", color=rx.color("gray", 10)), rx.text(rx.cond(S.name != "", S.name, "Untitled campaign"), size="2"),
            rx.text("Channel", size="2", color=rx.color("gray", 10)), rx.text(S.channel.upper(), size="2"),
            rx.text("Starts", size="2", color=rx.color("gray", 10)), rx.text(rx.cond(S.when_mode == "now", "Now", S.when_at + " UTC"), size="2"),
            columns="100px 1fr", spacing="2",
        ),
        _preview(),
        rx.cond(
            S.confirm_needed != "",
            rx.callout.root(rx.callout.icon(rx.icon("triangle-alert", size=16)),
                            rx.vstack(rx.text(S.confirm_needed, size="2", id="confirm-needed"),
                                      rx.checkbox("Yes, send it to all of them", checked=S.confirmed, on_change=S.set_confirmed, id="campaign-confirm"),
                                      spacing="2"),
                            color_scheme="amber", width="100%"),
        ),
        spacing="3", width="100%",
    )


def new_campaign_page() -> rx.Component:
    body = rx.vstack(
        _stepper(),
        rx.card(rx.match(S.step, (0, _channel_step()), (1, _audience_step()), (2, _message_step()), (3, _when_step()), _review_step()),
                width="100%", id="wizard-body"),
        rx.hstack(
            rx.button("Back", variant="soft", color_scheme="gray", on_click=S.previous_step, disabled=S.step == 0, id="wizard-back"),
            rx.spacer(),
            rx.cond(S.step < len(STEPS) - 1,
                    rx.button("Next", rx.icon("arrow-right", size=16), on_click=S.next_step, id="wizard-next"),
                    rx.button(rx.icon("send", size=16), "Create campaign", on_click=S.create, loading=S.creating,
                              disabled=(S.confirm_needed != "") & ~S.confirmed, id="wizard-create")),
            width="100%",
        ),
        spacing="4", width="100%", max_width="760px",
    )
    return signed_in_page("New campaign", rx.cond(SessionState.can_write, body, rx.text("Your role can view campaigns but not create them.")),
                          subtitle="One message to many contacts, at the rate the provider allows")
