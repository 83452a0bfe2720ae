"""/ai/interactions (every signed-in role): the AI interaction log. Over the last 7 or 30 days or dates of your own
(at most 31): figures for the range (interactions, answered and declined, suggestions and what became of them:
the approval, edit and rejection rates, those still pending, errors, helpful and not helpful), filters by kind
and status, and the interactions newest first. A row opens the whole interaction: the question, the answer (or
why there was none), the passages it was drawn from with their source and score, the outcome (who, when, what
was sent) and the feedback, which anyone may give or change (helpful / not helpful, and why).

What a range holds, how much a request reads (at most 1,000 interactions, the newest) and the rates are the
service's (backend/services/ai/interactions.py). Every call runs off the event loop."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import reflex as rx

from backend.errors import DomainError, ValidationError
from backend.services.ai import interactions
from backend.services.ai.interactions import MAX_DAYS, MAX_FEEDBACK, MAX_ROWS, Interaction, InteractionLog, InteractionRates
from backend.services.platform import team
from backend.services.platform.team import TeamMember
from wecare_app.components.controls import clear_filters_button, data_table, filter_bar, labelled, segment_value
from wecare_app.components.formatting import as_utc, shorten, utc_stamp
from wecare_app.components.shell import empty_state, loading_block
from wecare_app.pages.layout import signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState

__all__ = ["InteractionsState", "ai_interactions_page"]

RANGE_CHOICES = (("7d", "7 days"), ("30d", "30 days"), ("custom", "Custom"))
RANGE_DAYS = {"7d": 7, "30d": 30}
ALL = "all"
KIND_LABELS = {"query": "Question", "suggest": "Suggested reply", "auto-reply": "Auto-reply"}
KIND_ICONS = {"query": "message-circle-question", "suggest": "reply", "auto-reply": "bot"}
STATUS_CHOICES = (("answered", "Answered question"), ("declined", "Declined"), ("suggested", "Suggestion pending"),
                  ("approved", "Approved"), ("edited", "Edited, then sent"), ("rejected", "Rejected"), ("auto-sent", "Auto-sent"),
                  ("error", "Error"))
OUTCOME_BADGES = {"suggested": ("Pending", "gray"), "approved": ("Approved", "green"), "edited": ("Edited", "blue"),
                  "rejected": ("Rejected", "red"), "auto-sent": ("Auto-sent", "violet")}
AUTO_REPLY_USER = "ai-auto-reply"
PAGE_SIZE = 50  # rows drawn at a time ("Show more" draws the next ones; the service has read them all)
QUESTION_CHARS = 70
SNIPPET_CHARS = 180  # a passage's text until it is opened
DECLINED = "The knowledge base had no answer, so none was given: nothing was guessed."
EMPTY_TITLE = "No AI interactions in this range"
EMPTY_TEXT = ("Ask the assistant or suggest a reply in a conversation: each answer shows up here, with the passages "
              "it came from and what became of it.")


# ---------------------------------------------------------------- how an interaction reads (plain Python)


def _number(value: int) -> str:
    return f"{value:,}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _day(value: date) -> str:
    return value.strftime("%d %b %Y")


def range_label(start: date, end: date) -> str:
    """'12 Mar – 18 Mar 2025' (the dates the service read, UTC)."""
    if start == end:
        return _day(start)
    first = start.strftime("%d %b") if start.year == end.year else _day(start)
    return f"{first} – {_day(end)}"


def person(user_id: str | None, names: dict[str, str]) -> str:
    if not user_id:
        return ""
    if user_id == AUTO_REPLY_USER:
        return "Auto-reply"
    return names.get(user_id, user_id)


def result_of(item: Interaction) -> tuple[str, str, str]:
    """(result, label, colour): whether the AI answered."""
    if item.status == "error":
        return "error", "Error", "red"
    if item.answered is False:
        return "declined", "Declined", "amber"
    return "answered", "Answered", "green"


def outcome_of(item: Interaction) -> tuple[str, str]:
    """(label, colour) of what became of a suggestion; ("", "") when there is nothing to act on."""
    if item.kind == "query" or item.answered is not True:
        return "", ""
    return OUTCOME_BADGES.get(item.status, ("", ""))


def interaction_row(item: Interaction, names: dict[str, str]) -> dict[str, str]:
    """One row of the table: plain strings only."""
    result, result_label, result_color = result_of(item)
    outcome_label, outcome_color = outcome_of(item)
    created = as_utc(item.created_at)
    return {
        "interaction_id": item.interaction_id,
        "time": created.strftime("%d %b, %H:%M"),
        "time_full": utc_stamp(created),
        "who": person(item.user_id, names),
        "who_id": item.user_id,
        "kind": item.kind,
        "kind_label": KIND_LABELS.get(item.kind, item.kind),
        "kind_icon": KIND_ICONS.get(item.kind, "sparkles"),
        "question": shorten(item.query, QUESTION_CHARS),
        "question_full": item.query,
        "result": result,
        "result_label": result_label,
        "result_color": result_color,
        "confidence": _percent(item.confidence),
        "outcome_label": outcome_label,
        "outcome_color": outcome_color,
        "rating": item.rating or "",
        "latency": f"{item.latency_ms:,} ms" if item.latency_ms is not None else "—",
    }


def _outcome_text(item: Interaction, names: dict[str, str]) -> str:
    """What became of the interaction, in a sentence."""
    result = result_of(item)[0]
    who = person(item.outcome_by, names) or "someone"
    when = f" on {utc_stamp(item.outcome_at)}" if item.outcome_at else ""
    if item.kind == "query":
        return "A question asked in the assistant: nothing goes to a customer."
    if result == "error":
        return "The AI did not answer, so nothing was suggested."
    if result == "declined":
        return "Nothing was suggested, so there was nothing to approve."
    return {
        "suggested": "No one has acted on this suggestion yet.",
        "approved": f"Sent as suggested by {who}{when}.",
        "edited": f"Edited, then sent by {who}{when}.",
        "rejected": f"Rejected by {who}{when}: nothing was sent.",
        "auto-sent": f"Sent automatically{when}.",
    }.get(item.status, item.status)


def declined_reason(item: Interaction) -> str:
    """Why there was no answer: the service's reason (older rows have none: the plain statement)."""
    return item.reason or DECLINED


def detail_view(item: Interaction, names: dict[str, str]) -> dict[str, str]:
    """The dialog's facts: the row's, and the full texts."""
    outcome_label, _ = outcome_of(item)
    return {
        **interaction_row(item, names),
        "answer": item.answer or "",
        "answer_title": "Suggested reply" if item.kind != "query" else "Answer",
        "declined_reason": declined_reason(item) if result_of(item)[0] == "declined" else "",
        "error": (item.error or "The AI did not answer.") if item.status == "error" else "",
        "model": item.model or "",
        "status": item.status,
        "outcome_text": _outcome_text(item, names),
        "sent_message_id": item.sent_message_id or "",
        "sent_text": item.sent_text or "",
        "contact_id": item.contact_id or "",
        "feedback": item.feedback or "",
    }


def passage_cards(item: Interaction) -> list[dict[str, str]]:
    """The passages retrieved, best first: their text and where they came from."""
    cards = []
    for rank, passage in enumerate(item.passages, start=1):
        source = passage.get("source") or {}
        title, location = source.get("title") or "Untitled document", source.get("location") or ""
        score = passage.get("score")
        content = passage.get("content") or ""
        cards.append({
            "rank": str(rank),
            # "Returns › How to return an item" already names its document; "Handbook · Shop handbook › Delivery" does not
            "source": location if location.startswith(title) else f"{title} · {location}" if location else title,
            "score": f"score {score:.2f}" if isinstance(score, (int, float)) else "",
            "content": content,
            "snippet": shorten(content, SNIPPET_CHARS),
            "long": "yes" if len(" ".join(content.split())) > SNIPPET_CHARS else "",
            "open": "",
        })
    return cards


def rate_tiles(rates: InteractionRates) -> list[dict[str, str]]:
    """The figures for the range: value, the words under it, a colour when it needs a look."""
    answered = rates.total - rates.declined - rates.errors
    acted = rates.approved + rates.edited + rates.rejected

    def of_acted(count: int, words: str) -> str:
        return f"{count:,} of {acted:,} {words}" if acted else "no suggestion acted on yet"

    return [
        {"id": "ai-kpi-total", "icon": "sparkles", "label": "Interactions", "value": _number(rates.total),
         "hint": "questions and suggested replies", "tone": "gray"},
        {"id": "ai-kpi-answered", "icon": "circle-check", "label": "Answered", "value": _number(answered),
         "hint": f"{answered / rates.total:.0%} of the interactions" if rates.total else "nothing asked yet",
         "tone": "green" if answered else "gray"},
        {"id": "ai-kpi-declined", "icon": "circle-slash", "label": "Declined", "value": _number(rates.declined),
         "hint": "no answer in the documents", "tone": "amber" if rates.declined else "gray"},
        {"id": "ai-kpi-suggestions", "icon": "reply", "label": "Suggestions", "value": _number(rates.suggestions),
         "hint": f"{acted:,} acted on", "tone": "gray"},
        {"id": "ai-kpi-pending", "icon": "hourglass", "label": "Pending", "value": _number(rates.pending),
         "hint": "suggestions no one acted on", "tone": "orange" if rates.pending else "gray"},
        {"id": "ai-kpi-approval", "icon": "check-check", "label": "Approval rate", "value": _percent(rates.approval_rate),
         "hint": of_acted(rates.approved, "sent as suggested"), "tone": "green" if acted else "gray"},
        {"id": "ai-kpi-edit", "icon": "pencil", "label": "Edit rate", "value": _percent(rates.edit_rate),
         "hint": of_acted(rates.edited, "edited, then sent"), "tone": "blue" if acted else "gray"},
        {"id": "ai-kpi-rejection", "icon": "x", "label": "Rejection rate", "value": _percent(rates.rejection_rate),
         "hint": of_acted(rates.rejected, "rejected"), "tone": "red" if rates.rejected else "gray"},
        {"id": "ai-kpi-errors", "icon": "triangle-alert", "label": "Errors", "value": _number(rates.errors),
         "hint": "the AI did not answer" if rates.errors else "none", "tone": "red" if rates.errors else "gray"},
        {"id": "ai-kpi-feedback", "icon": "message-square-heart", "label": "Feedback",
         "value": f"{rates.helpful:,} helpful · {rates.not_helpful:,} not", "up": _number(rates.helpful),
         "down": _number(rates.not_helpful), "hint": "helpful · not helpful", "tone": "gray"},
    ]


def truncated_note() -> str:
    return (f"More than {MAX_ROWS:,} interactions in this range: the newest {MAX_ROWS:,} are listed and counted in the "
            "figures above. Choose fewer days to see the rest.")


def _parse_day(value: str, field: str) -> date | None:
    """A date input's value (YYYY-MM-DD), None when empty; a ValidationError naming the field otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{field}: a date such as 2025-03-01", field=field) from None


def asked_range(range_name: str, start_day: str, end_day: str, today: date) -> dict[str, date | None]:
    """The dates the service is asked for: the last 7 or 30 days up to today (UTC), or the custom dates (an
    empty one is the service's default)."""
    if range_name in RANGE_DAYS:
        return {"start": today - timedelta(days=RANGE_DAYS[range_name] - 1), "end": today}
    return {"start": _parse_day(start_day, "start"), "end": _parse_day(end_day, "end")}


# ---------------------------------------------------------------- state


class InteractionsState(SessionState):
    range_name: str = "7d"
    start_day: str = ""  # the custom dates (YYYY-MM-DD); set to the range on screen until Custom is chosen
    end_day: str = ""
    today: str = ""  # the date inputs' upper bound
    kind: str = ALL
    status: str = ALL
    loading: bool = True
    load_error: str = ""  # the log could not be read
    range_error: str = ""  # the service refused the dates: its message (it names the field)
    range_label: str = ""
    truncated: bool = False
    in_range: int = 0  # interactions in the range, before the kind and status filters
    tiles: list[dict[str, str]] = []
    rows: list[dict[str, str]] = []  # the rows drawn (the first `shown` of what the filters choose)
    row_count: int = 0
    detail_open: bool = False
    detail_loading: bool = False
    detail: dict[str, str] = {}
    detail_passages: list[dict[str, str]] = []
    rating: str = ""  # the feedback being given in the dialog
    feedback: str = ""
    saved_rating: str = ""  # the feedback as recorded
    saved_feedback: str = ""
    feedback_error: str = ""
    saving_feedback: bool = False
    _all: list[dict[str, str]] = []  # every row the service returned (drawn PAGE_SIZE at a time)
    _shown: int = PAGE_SIZE
    _names: dict[str, str] = {}  # user id → name, for who asked and who acted
    _asked: dict = {}  # what the rows on screen were read with (a refresh after feedback reads it again)
    _request: int = 0  # the newest read's number: an older answer is dropped

    @rx.var
    def filtered(self) -> bool:
        return self.kind != ALL or self.status != ALL

    @rx.var
    def feedback_changed(self) -> bool:
        return self.rating != "" and (self.rating != self.saved_rating or self.feedback.strip() != self.saved_feedback)

    @rx.var
    def feedback_length(self) -> int:
        return len(self.feedback)

    # -- loading

    @rx.event(background=True)
    async def open_page(self):
        """on_load: the team's names, then the log for the range chosen (the last 7 days at first)."""
        async with self:
            self.detail_open = False
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        try:
            members: list[TeamMember] = await self.run(team.team_members)
        except DomainError:
            members = []  # without names, people show by id
        async with self:
            self._names = {m.user_id: m.name for m in members}
        return await self._search()

    @rx.event(background=True)
    async def reload(self):
        return await self._search()

    @rx.event(background=True)
    async def set_range(self, value: str | list[str]):
        async with self:
            self.range_name = segment_value(value)
            custom = self.range_name == "custom"
            self.range_error = ""
        if not custom:  # a custom range waits for Apply
            return await self._search()
        return None

    @rx.event
    def set_start_day(self, value: str):
        self.start_day = value

    @rx.event
    def set_end_day(self, value: str):
        self.end_day = value

    @rx.event(background=True)
    async def apply_custom(self):
        return await self._search()

    @rx.event(background=True)
    async def set_kind(self, value: str):
        async with self:
            self.kind = value
        return await self._search()

    @rx.event(background=True)
    async def set_status(self, value: str):
        async with self:
            self.status = value
        return await self._search()

    @rx.event(background=True)
    async def clear_filters(self):
        async with self:
            self.kind, self.status = ALL, ALL
        return await self._search()

    @rx.event
    def show_more(self):
        self._shown += PAGE_SIZE
        self.rows = self._all[: self._shown]

    async def _search(self, *, quiet: bool = False):
        """The log for the range and filters chosen. `quiet` (a refresh) reads what the rows on screen were read
        with again (not dates typed since without Apply), keeping the rows on screen meanwhile."""
        async with self:
            self._request += 1
            ticket = self._request
            today = datetime.now(timezone.utc).date()
            self.today = today.isoformat()
            if quiet and self._asked:
                asked = dict(self._asked)
            else:
                try:
                    asked = asked_range(self.range_name, self.start_day, self.end_day, today)
                except ValidationError as error:
                    self._failed(error)
                    return None
                asked |= {"kind": None if self.kind == ALL else self.kind, "status": None if self.status == ALL else self.status}
            self.loading = not quiet or self.loading
            self.load_error, self.range_error = "", ""
        try:
            log = await self.run(interactions.list_interactions, **asked)
        except DomainError as error:
            async with self:
                if ticket != self._request:
                    return None
                return self._failed(error)
        async with self:
            if ticket != self._request:
                return None  # a newer read is on its way
            self._asked = asked
            self._show(log, keep_shown=quiet)
        return None

    def _show(self, log: InteractionLog, *, keep_shown: bool = False) -> None:
        """Under the lock: the figures, the rows, the range as the service took it."""
        self._all = [interaction_row(item, self._names) for item in log.items]
        self._shown = max(self._shown, PAGE_SIZE) if keep_shown else PAGE_SIZE
        self.rows = self._all[: self._shown]
        self.row_count = len(self._all)
        self.tiles = rate_tiles(log.rates)
        self.in_range = log.rates.total
        self.truncated = log.truncated
        self.range_label = range_label(log.start, log.end)
        if self.range_name != "custom":  # Custom starts from the range on screen
            self.start_day, self.end_day = log.start.isoformat(), log.end.isoformat()
        self.loading = False

    def _failed(self, error: DomainError):
        """Under the lock: what a refused read shows; the toast to send, if any."""
        self.loading, self.rows, self._all, self.row_count, self.tiles, self.truncated = False, [], [], 0, [], False
        self.range_label = ""
        if isinstance(error, ValidationError):
            self.range_error = error.message  # shown under the dates, which it names: no toast on top
            return None
        self.load_error = error.message
        return error_toast(error)

    # -- one interaction

    @rx.event(background=True)
    async def open_interaction(self, interaction_id: str):
        async with self:
            self.detail_open, self.detail_loading = True, True
            self.detail = next((row for row in self._all if row["interaction_id"] == interaction_id), {})
            self.detail_passages, self.feedback_error = [], ""
        try:
            item = await self.run(interactions.get_interaction, interaction_id)
        except DomainError as error:
            async with self:
                self.detail_open, self.detail_loading = False, False
            return error_toast(error)
        async with self:
            if self.detail.get("interaction_id") not in ("", None, interaction_id):
                return None  # another row was opened meanwhile
            self._show_detail(item)
        return None

    def _show_detail(self, item: Interaction) -> None:
        self.detail = detail_view(item, self._names)
        self.detail_passages = passage_cards(item)
        self.rating = self.saved_rating = item.rating or ""
        self.feedback = self.saved_feedback = item.feedback or ""
        self.detail_loading = False

    @rx.event
    def toggle_passage(self, rank: str):
        self.detail_passages = [{**p, "open": "" if p["open"] else "yes"} if p["rank"] == rank else p for p in self.detail_passages]

    @rx.event
    def set_detail_open(self, value: bool):
        self.detail_open = value

    @rx.event
    def choose_rating(self, value: str):
        self.rating = value
        self.feedback_error = ""

    @rx.event
    def set_feedback(self, value: str):
        self.feedback = value
        self.feedback_error = ""

    @rx.event(background=True)
    async def save_feedback(self):
        """The feedback in the dialog (helpful or not, and why) on the interaction; the figures follow."""
        async with self:
            interaction_id = self.detail.get("interaction_id", "")
            if self.saving_feedback or not interaction_id or not self.rating:
                return None
            self.saving_feedback, self.feedback_error = True, ""
            rating, feedback = self.rating, self.feedback
        try:
            item = await self.run(interactions.rate, interaction_id, rating, feedback)
        except DomainError as error:
            async with self:
                self.saving_feedback = False
                if isinstance(error, ValidationError):
                    self.feedback_error = error.message
                    return None
            return error_toast(error)
        async with self:
            self.saving_feedback = False
            if self.detail.get("interaction_id") == interaction_id:
                self._show_detail(item)
            row = interaction_row(item, self._names)
            self._all = [row if r["interaction_id"] == interaction_id else r for r in self._all]
            self.rows = self._all[: self._shown]
        await self._search(quiet=True)  # the helpful / not helpful figures
        return rx.toast.success("Feedback saved.")


# ---------------------------------------------------------------- components


def _tile(tile: rx.Var) -> rx.Component:
    tone = tile["tone"]
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(tile["icon"].to(str), size=14, color=rx.color("gray", 10)),
                rx.text(tile["label"], size="1", color=rx.color("gray", 11), weight="medium"),
                align="center",
                spacing="2",
            ),
            rx.cond(
                tile["id"] == "ai-kpi-feedback",  # 👍 n · 👎 m, drawn with icons (an emoji font is not everywhere)
                rx.hstack(
                    rx.icon("thumbs-up", size=18, color=rx.color("green", 10)),
                    rx.text(tile["up"], size="6", weight="bold", class_name="kpi-value"),
                    rx.text("·", size="5", color=rx.color("gray", 9)),
                    rx.icon("thumbs-down", size=18, color=rx.color("red", 10)),
                    rx.text(tile["down"], size="6", weight="bold"),
                    align="center", spacing="2", title=tile["value"],
                ),
                rx.text(tile["value"], size="6", weight="bold", class_name="kpi-value", white_space="nowrap",
                        color=rx.cond(tone == "gray", rx.color("gray", 12), rx.color(tone.to(str), 11))),
            ),
            rx.text(tile["hint"], size="1", color=rx.color("gray", 10)),
            spacing="1",
            align="start",
        ),
        size="1",
        width="100%",
        height="100%",
        id=tile["id"].to(str),
        class_name="kpi-tile",
    )


def _tiles() -> rx.Component:
    return rx.grid(rx.foreach(InteractionsState.tiles, _tile), columns=rx.breakpoints(initial="2", sm="3", lg="5"), spacing="3",
                   width="100%", id="ai-int-kpis")


def _select(label: str, element_id: str, value, on_change, any_label: str, choices) -> rx.Component:
    return labelled(label, rx.select.root(
        rx.select.trigger(id=element_id, min_width="170px"),
        rx.select.content(rx.select.item(any_label, value=ALL), *[rx.select.item(text, value=key) for key, text in choices]),
        value=value,
        on_change=on_change,
        size="2",
    ))


def _filters() -> rx.Component:
    S = InteractionsState
    custom = S.range_name == "custom"
    return rx.vstack(
        filter_bar(
            labelled("Range", rx.segmented_control.root(
                *[rx.segmented_control.item(text, value=value) for value, text in RANGE_CHOICES],
                value=S.range_name, on_change=S.set_range, id="ai-int-range",
            )),
            rx.cond(custom, rx.hstack(
                labelled("From", rx.input(type="date", value=S.start_day, on_change=S.set_start_day, max=S.today, size="2",
                                          id="ai-int-start")),
                labelled("To", rx.input(type="date", value=S.end_day, on_change=S.set_end_day, max=S.today, size="2",
                                        id="ai-int-end")),
                rx.button("Apply", on_click=S.apply_custom, loading=S.loading, id="ai-int-apply"),
                align="end", spacing="2",
            ), rx.fragment()),
            _select("Kind", "ai-int-kind", S.kind, S.set_kind, "Any kind", KIND_LABELS.items()),
            _select("Status", "ai-int-status", S.status, S.set_status, "Any status", STATUS_CHOICES),
            clear_filters_button(S.filtered, S.clear_filters),
        ),
        rx.hstack(
            rx.icon("calendar", size=14, color=rx.color("gray", 10)),
            rx.text(
                rx.cond(S.range_label != "", "Showing " + S.range_label + " (UTC). ", ""),
                f"A custom range spans at most {MAX_DAYS} days. The figures count every interaction in the range; "
                "kind and status filter the list.",
                size="1", color=rx.color("gray", 10), id="ai-int-range-note",
            ),
            align="center", spacing="2",
        ),
        rx.cond(S.range_error != "",
                rx.callout(S.range_error, icon="circle-alert", color_scheme="red", size="1", width="100%", id="ai-int-range-error"),
                rx.fragment()),
        spacing="2",
        width="100%",
    )


def _badge(label, color) -> rx.Component:
    return rx.badge(label, color_scheme=color.to(str), variant="soft", size="1", white_space="nowrap")


def _rating_icon(rating: rx.Var) -> rx.Component:
    return rx.match(
        rating,
        ("helpful", rx.tooltip(rx.icon("thumbs-up", size=14, color=rx.color("green", 10)), content="Marked helpful")),
        ("not-helpful", rx.tooltip(rx.icon("thumbs-down", size=14, color=rx.color("red", 10)), content="Marked not helpful")),
        rx.fragment(),
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.tooltip(rx.text(row["time"], size="2", white_space="nowrap"), content=row["time_full"])),
        rx.table.cell(rx.text(row["who"], size="2", title=row["who_id"], white_space="nowrap", overflow="hidden",
                              text_overflow="ellipsis", max_width="150px", class_name="ai-int-who")),
        rx.table.cell(rx.hstack(rx.icon(row["kind_icon"].to(str), size=14, color=rx.color("gray", 10)),
                                rx.text(row["kind_label"], size="2", white_space="nowrap"), spacing="1", align="center")),
        rx.table.cell(rx.text(row["question"], size="2", title=row["question_full"], class_name="ai-int-question"), max_width="320px"),
        rx.table.cell(_badge(row["result_label"], row["result_color"]), class_name="ai-int-result"),
        rx.table.cell(rx.text(row["confidence"], size="2"), text_align="right"),
        rx.table.cell(rx.hstack(
            rx.cond(row["outcome_label"] != "", _badge(row["outcome_label"], row["outcome_color"]),
                    rx.text("—", size="2", color=rx.color("gray", 9))),
            _rating_icon(row["rating"]),
            spacing="2", align="center",
        ), class_name="ai-int-outcome"),
        rx.table.cell(rx.text(row["latency"], size="2", white_space="nowrap", color=rx.color("gray", 11)), text_align="right"),
        on_click=InteractionsState.open_interaction(row["interaction_id"]),
        cursor="pointer",
        _hover={"background": rx.color("gray", 3)},
        align="center",
        class_name="ai-int-row",
    )


def _table() -> rx.Component:
    S = InteractionsState
    columns = ("Time (UTC)", "Who", "Kind", "Question", "Result",
               rx.table.column_header_cell("Confidence", text_align="right"), "Outcome",
               rx.table.column_header_cell("Latency", text_align="right"))
    return rx.vstack(
        data_table(columns, S.rows, _row, size="1", id="ai-int-table"),
        rx.hstack(
            rx.text(S.rows.length(), " of ", S.row_count, " shown · select a row for the whole interaction", size="2",
                    color=rx.color("gray", 10), id="ai-int-count"),
            rx.spacer(),
            rx.cond(S.rows.length() < S.row_count,
                    rx.button(rx.icon("chevrons-down", size=14), "Show more", variant="soft", on_click=S.show_more, id="ai-int-more"),
                    rx.fragment()),
            width="100%", align="center",
        ),
        width="100%", spacing="3",
    )


def _nothing() -> rx.Component:
    S = InteractionsState
    return rx.cond(
        S.in_range > 0,
        empty_state("search-x", "No interactions match",
                    "Nothing in " + S.range_label + " has this kind and status.",
                    rx.button("Clear filters", variant="soft", on_click=S.clear_filters)),
        empty_state("sparkles", EMPTY_TITLE, EMPTY_TEXT, rx.hstack(
            rx.link(rx.button(rx.icon("bot", size=14), "Ask the assistant", variant="soft"), href="/ai/assistant", id="ai-int-to-assistant"),
            rx.link(rx.button(rx.icon("inbox", size=14), "Open the inbox", variant="soft", color_scheme="gray"), href="/inbox",
                    id="ai-int-to-inbox"),
            spacing="3",
        )),
    )


def _results() -> rx.Component:
    S = InteractionsState
    return rx.cond(
        S.load_error != "",
        empty_state("cloud-off", "The AI interactions could not be read", S.load_error,
                    rx.button(rx.icon("refresh-cw", size=14), "Try again", variant="soft", on_click=S.reload, id="ai-int-retry")),
        loading_block(S.loading, rx.cond(
            S.range_error != "",
            rx.fragment(),
            rx.vstack(
                rx.cond(S.in_range > 0, _tiles(), rx.fragment()),
                rx.cond(S.truncated, rx.callout(truncated_note(), icon="info", color_scheme="amber", size="1", width="100%",
                                                id="ai-int-truncated"), rx.fragment()),
                rx.cond(S.rows.length() > 0, _table(), _nothing()),
                spacing="4", width="100%",
            ),
        )),
    )


# -- the dialog


def _section(title, *children: rx.Component, **props) -> rx.Component:
    return rx.vstack(rx.text(title, size="1", weight="bold", color=rx.color("gray", 10), text_transform="uppercase"), *children,
                     spacing="2", width="100%", **props)


def _text_block(value, **props) -> rx.Component:
    return rx.box(rx.text(value, size="2", white_space="pre-wrap", word_break="break-word"), background=rx.color("gray", 2),
                  border=f"1px solid {rx.color('gray', 5)}", border_radius="8px", padding="10px 12px", width="100%", **props)


def _answer() -> rx.Component:
    item = InteractionsState.detail
    return rx.match(
        item["result"],
        ("declined", rx.callout(item["declined_reason"], icon="circle-slash", color_scheme="amber", size="1", width="100%",
                                id="ai-int-detail-declined")),
        ("error", rx.callout(item["error"], icon="circle-alert", color_scheme="red", size="1", width="100%", id="ai-int-detail-error")),
        _text_block(item["answer"], id="ai-int-detail-answer"),
    )


def _passage(passage: rx.Var) -> rx.Component:
    opened, long = passage["open"] != "", passage["long"] != ""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(passage["rank"], size="1", variant="soft", radius="full"),
                rx.text(passage["source"], size="2", weight="medium", flex="1", class_name="ai-int-passage-source"),
                rx.text(passage["score"], size="1", color=rx.color("gray", 10), white_space="nowrap"),
                rx.cond(long, rx.icon(rx.cond(opened, "chevron-up", "chevron-down"), size=16, color=rx.color("gray", 10)),
                        rx.fragment()),
                align="center", spacing="2", width="100%",
            ),
            rx.cond(opened | ~long,
                    rx.text(passage["content"], size="2", white_space="pre-wrap", color=rx.color("gray", 11), class_name="ai-int-passage-text"),
                    rx.text(passage["snippet"], size="2", color=rx.color("gray", 11), class_name="ai-int-passage-text")),
            spacing="2", width="100%",
        ),
        size="1", width="100%", class_name="ai-int-passage",
        cursor=rx.cond(long, "pointer", "default"),
        on_click=InteractionsState.toggle_passage(passage["rank"]),
        title=rx.cond(long, rx.cond(opened, "Show less", "Show the whole passage"), ""),
    )


def _passages() -> rx.Component:
    S = InteractionsState
    return _section(
        "Passages retrieved, best first",
        rx.cond(S.detail_passages.length() > 0,
                rx.vstack(rx.foreach(S.detail_passages, _passage), spacing="2", width="100%"),
                rx.text("No passage in the knowledge base matched the question.", size="2", color=rx.color("gray", 10))),
        id="ai-int-detail-passages",
    )


def _outcome() -> rx.Component:
    item = InteractionsState.detail
    return _section(
        "Outcome",
        rx.hstack(
            rx.cond(item["outcome_label"] != "", _badge(item["outcome_label"], item["outcome_color"]), rx.fragment()),
            rx.text(item["outcome_text"], size="2", id="ai-int-detail-outcome"),
            spacing="2", align="center", wrap="wrap",
        ),
        rx.cond(item["sent_text"] != "", rx.vstack(rx.text("What was sent", size="1", color=rx.color("gray", 10)),
                                                   _text_block(item["sent_text"], id="ai-int-detail-sent"), spacing="1", width="100%"),
                rx.fragment()),
        rx.cond(item["sent_message_id"] != "", rx.text("Message ", rx.code(item["sent_message_id"], size="1"), size="1",
                                                       color=rx.color("gray", 10)), rx.fragment()),
        rx.cond(item["contact_id"] != "", rx.link(rx.hstack(rx.icon("messages-square", size=14), rx.text("Open the conversation", size="2"),
                                                            spacing="1", align="center"),
                                                  href="/inbox/" + item["contact_id"].to(str), id="ai-int-detail-conversation"),
                rx.fragment()),
    )


def _feedback_form() -> rx.Component:
    S = InteractionsState

    def choice(value: str, icon: str, label: str, color: str) -> rx.Component:
        chosen = S.rating == value
        return rx.button(rx.icon(icon, size=14), label, size="2", variant=rx.cond(chosen, "solid", "soft"),
                         color_scheme=rx.cond(chosen, color, "gray"), on_click=S.choose_rating(value), id="ai-int-rate-" + value)

    return _section(
        "Feedback",
        rx.hstack(choice("helpful", "thumbs-up", "Helpful", "green"), choice("not-helpful", "thumbs-down", "Not helpful", "red"),
                  spacing="2"),
        rx.text_area(value=S.feedback, on_change=S.set_feedback, placeholder="Why? (optional: what was right or wrong)",
                     rows="3", width="100%", max_length=MAX_FEEDBACK, id="ai-int-feedback"),
        rx.hstack(
            rx.cond(S.feedback_error != "", rx.text(S.feedback_error, size="1", color=rx.color("red", 11), id="ai-int-feedback-error"),
                    rx.text(rx.cond(S.rating == "", "Choose helpful or not helpful, then save.",
                                    rx.cond(S.feedback_changed, "", "Saved.")), size="1", color=rx.color("gray", 10),
                            id="ai-int-feedback-state")),
            rx.spacer(),
            rx.text(S.feedback_length, f" / {MAX_FEEDBACK:,}", size="1", color=rx.color("gray", 9)),
            rx.button("Save feedback", on_click=S.save_feedback, loading=S.saving_feedback, disabled=~S.feedback_changed,
                      id="ai-int-save-feedback"),
            align="center", spacing="3", width="100%",
        ),
    )


def _detail_dialog() -> rx.Component:
    S = InteractionsState
    item = S.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.hstack(
                rx.dialog.title(item["kind_label"], margin="0", id="ai-int-detail-title"),
                _badge(item["result_label"], item["result_color"]),
                rx.spacer(),
                rx.dialog.close(rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", aria_label="Close")),
                align="center", spacing="3", width="100%",
            ),
            rx.dialog.description(item["time_full"], " · ", item["who"], size="2", color=rx.color("gray", 10)),
            loading_block(S.detail_loading, rx.vstack(
                rx.text("Confidence ", item["confidence"], " · ", item["latency"], rx.cond(item["model"] != "", " · " + item["model"], ""),
                        size="1", color=rx.color("gray", 10), id="ai-int-detail-meta"),
                _section("Question", _text_block(item["question_full"], id="ai-int-detail-question")),
                _section(item["answer_title"], _answer()),
                _passages(),
                _outcome(),
                rx.divider(),
                _feedback_form(),
                spacing="4", width="100%", margin_top="12px",
            )),
            max_width="760px",
            id="ai-int-detail",
        ),
        open=S.detail_open,
        on_open_change=S.set_detail_open,
    )


def ai_interactions_page() -> rx.Component:
    S = InteractionsState
    return signed_in_page(
        "AI interactions",
        _filters(),
        _results(),
        _detail_dialog(),
        actions=rx.button(rx.icon("refresh-cw", size=16), "Refresh", variant="soft", on_click=S.reload, loading=S.loading,
                          id="ai-int-refresh"),
        subtitle="What the AI answered, from which passages, and what became of each suggested reply",
    )
