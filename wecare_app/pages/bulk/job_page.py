"""/bulk/[job_id]: one campaign, live: its progress, the count of each recipient status, throughput and ETA, why
recipients were skipped, the message, and the actions the job's state allows (the view's `can…` flags)."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError
from backend.services.campaigns import jobs
from wecare_app.components.controls import confirm_dialog
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.bulk.display import channel_tag, count_tiles, job_view, progress_bar, skipped_lines, status_badge
from wecare_app.pages.layout import signed_in_page, writers_only
from wecare_app.state.feedback import error_toast
from wecare_app.state.live_feed import follow_changes
from wecare_app.state.session_state import SessionState

LIVE_TICK_SECONDS = 1.0  # while preparing or sending: the counts of recipients that have no message event yet


def message_lines(job: jobs.BulkJob) -> list[dict]:
    """The campaign's message, field by field, as the operator wrote it."""
    message = job.message or {}
    if job.channel == "whatsapp" and message.get("type") == "template":
        template = message.get("template") or {}
        params = [*template.get("headerParameters", []), *template.get("bodyParameters", [])]
        lines = [("Template", f"{template.get('name', '')} ({template.get('language', '')})")]
        lines += [("Parameters", ", ".join(params))] if params else []
    else:
        names = {"body": "Text", "subject": "Subject", "text": "Text", "html": "HTML", "textType": "Type", "voiceId": "Voice",
                 "type": "Type"}
        lines = [(names.get(key, key), str(value)) for key, value in message.items() if value not in (None, "", []) and not isinstance(value, dict)]
    return [{"label": label, "value": value} for label, value in lines]


class BulkJobState(SessionState):
    job: dict = {}
    tiles: list[dict] = []
    skipped: list[dict] = []
    message: list[dict] = []
    missing: str = ""
    loading: bool = True
    busy: bool = False
    follow_generation: int = 0
    _load_request: int = 0

    def _job_id(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    @rx.event(background=True)
    async def load(self):
        async with self:
            self.loading, self.missing, self.job = True, "", {}
            self._load_request += 1
            ticket, job_id = self._load_request, self._job_id()
        if not await self.signed_in():
            return None
        try:
            job = await self.run(jobs.get_job, job_id)
        except DomainError as error:
            async with self:
                if ticket == self._load_request:
                    self.missing, self.loading = error.message, False
            return None
        async with self:
            if ticket != self._load_request:
                return None
            self._show(job)
        return BulkJobState.follow

    def _show(self, job: jobs.BulkJob) -> None:
        self.job = job_view(job)
        self.tiles = count_tiles(job)
        self.skipped = skipped_lines(job)
        self.message = message_lines(job)
        self.loading = False

    async def _reload(self) -> None:
        async with self:
            job_id = self.job.get("job_id", "")
        if not job_id:
            return
        try:
            job = await self.run(jobs.get_job, job_id)
        except DomainError:
            return
        async with self:
            if self.job.get("job_id") == job.job_id:
                self._show(job)

    @rx.event(background=True)
    async def follow(self):
        async def refresh(batch):
            async with self:
                job_id, live = self.job.get("job_id", ""), bool(self.job.get("live"))
            if (batch and any(c.job_id == job_id for c in batch)) or (not batch and live):
                await self._reload()

        await follow_changes(self, "/bulk/", refresh, tick=LIVE_TICK_SECONDS)

    async def _act(self, change: dict, done: str):
        async with self:
            job_id, self.busy = self.job.get("job_id", ""), True
        try:
            job = await self.run(jobs.change_job, job_id, change)
        except DomainError as error:
            async with self:
                self.busy = False
            return error_toast(error)
        async with self:
            self.busy = False
            self._show(job)
        return rx.toast.success(done)

    @rx.event(background=True)
    async def pause(self):
        return await self._act({"action": "pause"}, "Paused: nothing more is sent until you resume")

    @rx.event(background=True)
    async def resume(self):
        return await self._act({"action": "resume"}, "Resumed")

    @rx.event(background=True)
    async def cancel(self):
        return await self._act({"action": "cancel"}, "Cancelled: the recipients not reached yet get nothing")

    @rx.event(background=True)
    async def retry_failed(self):
        return await self._act({"action": "retry_failed"}, "The failed recipients are being sent to again")

    @rx.event(background=True)
    async def delete(self):
        async with self:
            job_id = self.job.get("job_id", "")
        try:
            await self.run(jobs.delete_job, job_id)
        except DomainError as error:
            return error_toast(error)
        return [rx.redirect("/bulk"), rx.toast.success("Campaign deleted")]


# ---------------------------------------------------------------- components


def _tile(tile: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(tile["label"], size="1", color=rx.color("gray", 10), text_transform="uppercase", letter_spacing="0.04em"),
            rx.text(tile["count"], size="6", weight="bold", color=rx.color(tile["color"].to(str), 11)),
            spacing="1",
        ),
        class_name="count-tile count-" + tile["status"].to(str),
        id="count-" + tile["status"].to(str),
    )


def _actions() -> rx.Component:
    job = BulkJobState.job
    return writers_only(rx.hstack(
        rx.cond(job["can_pause"].to(bool), rx.button(rx.icon("pause", size=16), "Pause", on_click=BulkJobState.pause, variant="soft",
                                                     color_scheme="amber", loading=BulkJobState.busy, id="job-pause")),
        rx.cond(job["can_resume"].to(bool), rx.button(rx.icon("play", size=16), "Resume", on_click=BulkJobState.resume,
                                                      loading=BulkJobState.busy, id="job-resume")),
        rx.cond(job["can_retry"].to(bool), rx.button(rx.icon("rotate-ccw", size=16), "Retry failed", on_click=BulkJobState.retry_failed,
                                                     variant="soft", loading=BulkJobState.busy, id="job-retry")),
        rx.cond(job["can_cancel"].to(bool), confirm_dialog(
            "Cancel this campaign?", "Recipients not reached yet will get nothing. This cannot be undone.",
            rx.button("Cancel campaign", color_scheme="red", on_click=BulkJobState.cancel, id="job-cancel-confirm"),
            trigger=rx.button(rx.icon("x", size=16), "Cancel", variant="soft", color_scheme="red", id="job-cancel"),
            cancel_label="Keep sending")),
        rx.cond(job["can_delete"].to(bool), confirm_dialog(
            "Delete this campaign?", "Its recipient list goes; the messages it sent stay in the message log.",
            rx.button("Delete", color_scheme="red", on_click=BulkJobState.delete, id="job-delete-confirm"),
            trigger=rx.button(rx.icon("trash-2", size=16), "Delete", variant="soft", color_scheme="gray", id="job-delete"))),
        spacing="2",
    ))


def _header() -> rx.Component:
    job = BulkJobState.job
    return rx.vstack(
        rx.hstack(
            rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("Campaigns"), align="center", spacing="1"), href="/bulk"),
            rx.spacer(),
            rx.link(rx.button(rx.icon("list", size=14), "Recipients", variant="soft", size="2"),
                    href="/bulk/" + job["job_id"].to(str) + "/recipients", id="job-recipients-link"),
            width="100%", align="center",
        ),
        rx.hstack(
            rx.vstack(
                rx.hstack(rx.heading(job["name"], size="5", id="job-name"), status_badge(job, "3"), align="center", spacing="3"),
                rx.hstack(channel_tag(job), rx.text("·", color=rx.color("gray", 8)),
                          rx.text("Created ", job["created"], size="2", color=rx.color("gray", 10)),
                          rx.cond(job["scheduled"] != "", rx.text("· starts ", job["scheduled"], size="2", color=rx.color("violet", 11))),
                          spacing="2", align="center"),
                spacing="1",
            ),
            rx.spacer(),
            _actions(),
            width="100%", align="center",
        ),
        spacing="3",
        width="100%",
    )


def _progress() -> rx.Component:
    job = BulkJobState.job
    fact = lambda label, value, id_: rx.vstack(rx.text(label, size="1", color=rx.color("gray", 10)), rx.text(value, size="3", weight="medium", id=id_), spacing="0")  # noqa: E731
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text(job["done"], " of ", job["total"], " recipients done", size="2", weight="medium", id="job-done"), rx.spacer(),
                      rx.cond(job["live"] != "", rx.badge("Live", color_scheme="green", variant="soft")), width="100%"),
            progress_bar(job),
            rx.cond(job["quiet"] != "", rx.callout(job["quiet"], icon="moon", color_scheme="violet", size="1", id="job-quiet")),
            rx.hstack(fact("Throughput", job["rate"], "job-rate"), fact("Time left", job["eta"], "job-eta"),
                      fact("Started", job["started"], "job-started"), fact("Finished", job["finished"], "job-finished"),
                      spacing="6", wrap="wrap"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _skipped() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Skipped, and why", size="2", weight="bold", color=rx.color("gray", 11)),
            rx.cond(
                BulkJobState.skipped.length() > 0,
                rx.vstack(rx.foreach(BulkJobState.skipped, lambda line: rx.hstack(rx.text(line["reason"], size="2"), rx.spacer(),
                                                                                 rx.text(line["count"], size="2", weight="medium"), width="100%")),
                          spacing="1", width="100%", id="job-skipped"),
                rx.text("Nobody: every recipient could be reached.", size="2", color=rx.color("gray", 10)),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _message() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Message", size="2", weight="bold", color=rx.color("gray", 11)),
            rx.grid(rx.foreach(BulkJobState.message, lambda line: rx.fragment(
                rx.text(line["label"], size="2", color=rx.color("gray", 10)),
                rx.text(line["value"], size="2", white_space="pre-wrap", word_break="break-word"))),
                columns="100px 1fr", spacing="2", width="100%", id="job-message"),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def bulk_job_page() -> rx.Component:
    body = rx.cond(
        BulkJobState.missing != "",
        empty_state("megaphone", "Campaign not found", BulkJobState.missing, rx.link(rx.button("Back to campaigns", variant="soft"), href="/bulk")),
        rx.vstack(
            _header(),
            _progress(),
            rx.grid(rx.foreach(BulkJobState.tiles, _tile), columns=rx.breakpoints(initial="2", sm="4"), spacing="3", width="100%"),
            rx.grid(_skipped(), _message(), columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%", align_items="start"),
            spacing="4",
            width="100%",
        ),
    )
    return signed_in_page("Campaign", loading_block(BulkJobState.loading, body), subtitle="Counts and progress update live")
