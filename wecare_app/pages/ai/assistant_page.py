"""/ai/assistant: an internal chat over the knowledge base (every signed-in role; Viewer and up may ask). A
question (Enter sends, at most 1,000 characters) goes to the answers service; its answer shows as a bubble with
its [n] citation marks, and under it the passages it cites as cards that open to the full text, where it came
from and a link to the knowledge base; then the confidence and latency, and helpful / not helpful buttons that
record feedback on the interaction. A question the documents cannot answer is declined plainly, with the
reason; nothing is made up. While an answer is fetched a spinner bubble shows and the box is disabled. Every
service call runs off the event loop; the conversation lives in the tab's state (New conversation clears it)."""
from __future__ import annotations

import reflex as rx

from backend.errors import DomainError, Unavailable
from backend.services.ai import answers, interactions, knowledge_base
from backend.services.ai.answers import MAX_QUERY_CHARS
from wecare_app.pages.ai.display import answered_turn, failed_turn, pending_turn
from wecare_app.pages.layout import signed_in_page
from wecare_app.state.feedback import error_toast
from wecare_app.state.session_state import SessionState

QUESTION_ID = "assistant-question"
END_ID = "assistant-end"
MAX_TURNS = 50  # the oldest questions leave the page beyond this many
EXAMPLES = ("When are you open on Sundays?", "How long do refunds take?", "Do you deliver on Saturdays?",
            "Which payment methods do you take?")
RATING_TEXT = {"helpful": "Marked helpful. Thank you!", "not-helpful": "Marked not helpful. Thank you: it shows in the interaction log."}


class AssistantState(SessionState):
    asking: bool = False
    turns: list[dict] = []
    kb_loading: bool = True
    kb_documents: int = 0
    kb_indexed: int = 0
    kb_pending: int = 0
    rating_busy: str = ""  # the turn whose feedback is being recorded

    @rx.event(background=True)
    async def open_page(self):
        async with self:
            self.kb_loading, self.asking = True, False
            self.turns = [t for t in self.turns if t["status"] != "pending"]  # an answer cut off by leaving the page
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        try:
            listed = await self.run(knowledge_base.list_documents)
        except DomainError as error:
            async with self:
                self.kb_loading = False
            return error_toast(error)
        async with self:
            self.kb_loading = False
            self.kb_documents = len(listed.documents)
            self.kb_indexed = listed.counts.get("indexed", 0)
            self.kb_pending = listed.counts.get("queued", 0) + listed.counts.get("indexing", 0)
        return None

    @rx.event
    def clear_conversation(self):
        self.turns = []
        return rx.set_focus(QUESTION_ID)

    @rx.event(background=True)
    async def ask(self, form: dict):
        """Enter in the box, or Ask: the question as the form sent it (the box is not mirrored in the state, so
        Enter right after the last keystroke sends all of it)."""
        async for event in self._ask(str((form or {}).get("question") or "")):
            yield event

    @rx.event(background=True)
    async def ask_example(self, text: str):
        async for event in self._ask(text):
            yield event

    @rx.event(background=True)
    async def retry(self, turn_id: str):
        async with self:
            turn = next((t for t in self.turns if t["turn_id"] == turn_id), None)
            if turn is not None and not self.asking:
                self.turns = [t for t in self.turns if t["turn_id"] != turn_id]
        if turn is not None:
            async for event in self._ask(turn["question"]):
                yield event

    async def _ask(self, text: str):
        """Add the question with a spinner, ask the service, then show its answer (or its error)."""
        async with self:
            if self.asking:
                return
            self.asking = True
            turn = pending_turn(text) if text.strip() else None  # a blank question is refused by the service below
            if turn is not None:
                self.turns = [*self.turns, turn][-MAX_TURNS:]
        if turn is not None:
            yield rx.scroll_to(END_ID, align_to_top=False)
        try:
            answer = await self.run(answers.query, {"query": text})
        except DomainError as error:
            kept = turn is not None and isinstance(error, Unavailable)  # the question stays, with the reason and a retry
            async with self:
                self.asking = False
                if kept:
                    self.turns = [failed_turn(t, error.message) if t["turn_id"] == turn["turn_id"] else t for t in self.turns]
                elif turn is not None:  # refused (too long…): it goes back in the box to fix
                    self.turns = [t for t in self.turns if t["turn_id"] != turn["turn_id"]]
            if turn is not None and not kept:
                yield rx.set_value(QUESTION_ID, text)
            yield error_toast(error)
            return
        async with self:
            self.asking = False
            if turn is not None:
                self.turns = [answered_turn(t, answer) if t["turn_id"] == turn["turn_id"] else t for t in self.turns]
        yield rx.scroll_to(END_ID, align_to_top=False)
        yield rx.set_focus(QUESTION_ID)

    # ------------------------------------------------------------ citations and feedback

    def _with_citation(self, turn_id: str, number: str, opened) -> None:
        self.turns = [
            {**t, "citations": [{**c, "open": opened(c["open"]) if c["number"] == number else c["open"]} for c in t["citations"]]}
            if t["turn_id"] == turn_id else t
            for t in self.turns
        ]

    @rx.event
    def toggle_citation(self, turn_id: str, number: str):
        self._with_citation(turn_id, number, lambda was: not was)

    @rx.event
    def open_citation(self, turn_id: str, number: str):
        """A [n] mark in the answer: open its card and bring it into view."""
        self._with_citation(turn_id, number, lambda was: True)
        return rx.scroll_to(f"cite-{turn_id}-{number}", align_to_top=False)

    @rx.event(background=True)
    async def rate_answer(self, turn_id: str, rating: str):
        async with self:
            turn = next((t for t in self.turns if t["turn_id"] == turn_id), None)
            if turn is None or not turn["interaction_id"] or self.rating_busy:
                return None
            self.rating_busy = turn_id
        try:
            await self.run(interactions.rate, turn["interaction_id"], rating)
        except DomainError as error:
            async with self:
                self.rating_busy = ""
            return error_toast(error)
        async with self:
            self.rating_busy = ""
            self.turns = [{**t, "rating": rating} if t["turn_id"] == turn_id else t for t in self.turns]
        return rx.toast.success(RATING_TEXT.get(rating, "Thank you for the feedback."))


# ---------------------------------------------------------------- components


def _question_bubble(turn: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.box(
            rx.text(turn["question"], size="2", white_space="pre-wrap", class_name="assistant-question-text"),
            background=rx.color("accent", 4),
            padding="8px 14px",
            border_radius="14px 14px 4px 14px",
            max_width="640px",
        ),
        rx.avatar(fallback=SessionState.user_name.to(str)[:2].upper(), size="2", radius="full", variant="soft",
                  color_scheme="gray", flex_shrink="0"),
        justify="end",
        align="end",
        width="100%",
        spacing="2",
    )


def _mark(turn_id: rx.Var, part: rx.Var) -> rx.Component:
    return rx.badge(
        part["cite"], size="1", variant="soft", radius="full", cursor="pointer", margin_x="2px", vertical_align="super",
        on_click=AssistantState.open_citation(turn_id, part["cite"].to(str)), class_name="cite-mark",
        title="Show passage " + part["cite"].to(str),
    )


def _answer_text(turn: rx.Var) -> rx.Component:
    turn_id = turn["turn_id"].to(str)
    return rx.text(
        rx.foreach(turn["parts"].to(list[dict]),
                   lambda part: rx.cond(part["cite"] != "", _mark(turn_id, part), rx.text.span(part["text"]))),
        size="2",
        white_space="pre-wrap",
        line_height="1.7",
        class_name="assistant-answer-text",
    )


def _citation(turn_id: rx.Var, cite: rx.Var) -> rx.Component:
    opened = cite["open"].to(bool)
    number = cite["number"].to(str)
    header = rx.hstack(
        rx.badge(number, size="1", variant="solid", radius="full"),
        rx.vstack(
            rx.text(cite["title"], size="2", weight="medium", class_name="citation-title"),
            rx.text(cite["location"], size="1", color=rx.color("gray", 10), class_name="citation-location"),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.icon(rx.cond(opened, "chevron-up", "chevron-down"), size=16, color=rx.color("gray", 10)),
        align="start",
        spacing="2",
        width="100%",
        cursor="pointer",
        on_click=AssistantState.toggle_citation(turn_id, number),
        class_name="citation-toggle",
    )
    full = rx.vstack(
        rx.text(cite["content"], size="2", white_space="pre-wrap", class_name="citation-passage"),
        rx.link(rx.hstack(rx.icon("library", size=14), rx.text("Open the knowledge base", size="1"), spacing="1", align="center"),
                href="/ai/knowledge-base", class_name="citation-kb-link"),
        spacing="2",
        padding_top="6px",
        width="100%",
    )
    return rx.card(
        rx.vstack(
            header,
            rx.cond(opened, full, rx.text(cite["snippet"], size="1", color=rx.color("gray", 11), class_name="citation-snippet")),
            spacing="1",
            width="100%",
        ),
        size="1",
        width="100%",
        variant=rx.cond(opened, "surface", "classic"),
        class_name=rx.cond(opened, "citation citation-open", "citation"),
        id="cite-" + turn_id + "-" + number,
    )


def _feedback(turn: rx.Var) -> rx.Component:
    turn_id = turn["turn_id"].to(str)
    rating = turn["rating"].to(str)

    def button(value: str, icon: str, label: str, color: str) -> rx.Component:
        return rx.tooltip(
            rx.icon_button(
                rx.icon(icon, size=14), size="1", radius="full",
                variant=rx.cond(rating == value, "solid", "ghost"),
                color_scheme=rx.cond(rating == value, color, "gray"),
                disabled=AssistantState.rating_busy != "",
                on_click=AssistantState.rate_answer(turn_id, value),
                aria_label=label,
                class_name="rate-" + value,
            ),
            content=label,
        )

    return rx.hstack(button("helpful", "thumbs-up", "Helpful", "green"), button("not-helpful", "thumbs-down", "Not helpful", "red"),
                     spacing="2", align="center")


def _meta(turn: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text("Confidence ", turn["confidence"], " · ", turn["latency"], " · ", turn["model"], size="1",
                color=rx.color("gray", 10), class_name="assistant-meta"),
        rx.spacer(),
        _feedback(turn),
        align="center",
        width="100%",
    )


def _answered(turn: rx.Var) -> rx.Component:
    turn_id = turn["turn_id"].to(str)
    return rx.vstack(
        rx.badge(rx.icon("circle-check", size=12), "Answered from the knowledge base", color_scheme="green", variant="soft",
                 size="1", class_name="assistant-verdict"),
        _answer_text(turn),
        rx.cond(
            turn["citations"].to(list[dict]).length() > 0,
            rx.vstack(
                rx.text("Sources", size="1", weight="bold", color=rx.color("gray", 10), text_transform="uppercase"),
                rx.foreach(turn["citations"].to(list[dict]), lambda cite: _citation(turn_id, cite)),
                spacing="2",
                width="100%",
                class_name="assistant-citations",
            ),
            rx.fragment(),
        ),
        _meta(turn),
        spacing="3",
        width="100%",
    )


def _declined(turn: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.badge(rx.icon("circle-slash", size=12), "No answer", color_scheme="amber", variant="soft", size="1",
                 class_name="assistant-verdict"),
        rx.text("The knowledge base has no answer to this question.", size="2", weight="medium", class_name="assistant-no-answer"),
        rx.text("Why: ", turn["reason"], size="2", color=rx.color("gray", 11), class_name="assistant-reason"),
        rx.text("Nothing was guessed. If customers ask this, add a document that answers it to the ",
                rx.link("knowledge base", href="/ai/knowledge-base"), ".", size="1", color=rx.color("gray", 10)),
        _meta(turn),
        spacing="2",
        width="100%",
    )


def _failed(turn: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.badge(rx.icon("circle-alert", size=12), "Not answered", color_scheme="red", variant="soft", size="1"),
        rx.text(turn["error"], size="2", color=rx.color("red", 11), class_name="assistant-error"),
        rx.button(rx.icon("rotate-ccw", size=14), "Try again", size="1", variant="soft", disabled=AssistantState.asking,
                  on_click=AssistantState.retry(turn["turn_id"].to(str))),
        spacing="2",
        align="start",
        width="100%",
    )


def _pending() -> rx.Component:
    return rx.hstack(rx.spinner(size="2"), rx.text("Searching the knowledge base…", size="2", color=rx.color("gray", 11)),
                     align="center", spacing="2", id="assistant-thinking")


def _answer_bubble(turn: rx.Var) -> rx.Component:
    status = turn["status"].to(str)
    return rx.hstack(
        rx.avatar(fallback="AI", size="2", radius="full", variant="solid", flex_shrink="0"),
        rx.box(
            rx.match(status, ("pending", _pending()), ("answered", _answered(turn)), ("declined", _declined(turn)), _failed(turn)),
            background=rx.cond(status == "declined", rx.color("amber", 2), rx.color("gray", 2)),
            border=f"1px solid {rx.color('gray', 5)}",
            padding="12px 14px",
            border_radius="14px 14px 14px 4px",
            max_width="760px",
            width=rx.cond(status == "pending", "auto", "100%"),
            class_name="assistant-answer assistant-" + status,
        ),
        align="start",
        width="100%",
        spacing="2",
    )


def _turn(turn: rx.Var) -> rx.Component:
    return rx.vstack(_question_bubble(turn), _answer_bubble(turn), spacing="3", width="100%", class_name="assistant-turn",
                     id="turn-" + turn["turn_id"].to(str))


def _welcome() -> rx.Component:
    S = AssistantState
    return rx.center(
        rx.vstack(
            rx.icon("sparkles", size=32, color=rx.color("accent", 9)),
            rx.heading("Ask about your company's documents", size="4"),
            rx.text("Answers quote the knowledge base and cite the passages they came from. When the documents do not hold "
                    "the answer, the assistant says so rather than guess.", size="2", color=rx.color("gray", 10),
                    text_align="center", max_width="520px"),
            rx.text("Try one of these:", size="1", color=rx.color("gray", 10), margin_top="8px"),
            rx.flex(
                *[rx.button(example, size="2", variant="soft", radius="full", disabled=S.asking, on_click=S.ask_example(example),
                            class_name="assistant-example") for example in EXAMPLES],
                wrap="wrap",
                justify="center",
                gap="8px",
                max_width="640px",
            ),
            align="center",
            spacing="2",
        ),
        padding="40px 24px",
        width="100%",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px",
        id="assistant-welcome",
    )


def _kb_notice() -> rx.Component:
    S = AssistantState
    empty = rx.callout.root(
        rx.callout.icon(rx.icon("library")),
        rx.callout.text("The knowledge base is empty, so there is nothing to answer from yet. Add documents (or load the "
                        "sample handbook) on the ", rx.link("Knowledge base", href="/ai/knowledge-base", weight="medium"), " page."),
        color_scheme="amber", width="100%", id="assistant-kb-empty",
    )
    indexing = rx.callout.root(
        rx.callout.icon(rx.icon("loader")),
        rx.callout.text(S.kb_pending, " document(s) are still being indexed; answers use what is indexed so far. See the ",
                        rx.link("Knowledge base", href="/ai/knowledge-base", weight="medium"), "."),
        color_scheme="blue", size="1", width="100%", id="assistant-kb-indexing",
    )
    return rx.cond(
        S.kb_loading,
        rx.fragment(),
        rx.cond(S.kb_documents == 0, empty, rx.cond(S.kb_pending > 0, indexing, rx.fragment())),
    )


def _question_box() -> rx.Component:
    S = AssistantState
    return rx.box(
        rx.form(
            rx.hstack(
                rx.input(
                    rx.input.slot(rx.icon("message-circle-question", size=16)),
                    placeholder=rx.cond(S.asking, "Waiting for the answer…", "Ask a question, then press Enter"),
                    max_length=MAX_QUERY_CHARS,
                    disabled=S.asking,
                    auto_focus=True,
                    size="3",
                    flex="1",
                    id=QUESTION_ID,
                    name="question",
                    auto_complete="off",
                ),
                # never disabled by the text: a disabled submit button would swallow Enter (implicit submission)
                # while the box's last keystroke is still on its way; a blank question gets the service's refusal
                rx.button(rx.icon("send-horizontal", size=16), "Ask", type="submit", size="3", loading=S.asking,
                          id="assistant-ask"),
                spacing="2",
                width="100%",
                align="center",
            ),
            on_submit=S.ask,
            reset_on_submit=True,
            width="100%",
        ),
        rx.hstack(
            rx.text("Answers come only from the knowledge base and are logged with your feedback.", size="1",
                    color=rx.color("gray", 10)),
            rx.spacer(),
            rx.text(f"Up to {MAX_QUERY_CHARS:,} characters", size="1", color=rx.color("gray", 10)),
            width="100%",
            padding_top="4px",
        ),
        position="sticky",
        bottom="0",
        padding="12px 0 16px 0",
        background=rx.color("gray", 1),
        width="100%",
        z_index="1",
    )


def _new_conversation() -> rx.Component:
    S = AssistantState
    return rx.cond(
        S.turns.length() > 0,
        rx.button(rx.icon("message-square-plus", size=16), "New conversation", variant="soft", disabled=S.asking,
                  on_click=S.clear_conversation, id="assistant-new"),
        rx.fragment(),
    )


def ai_assistant_page() -> rx.Component:
    S = AssistantState
    body = rx.vstack(
        _kb_notice(),
        rx.cond(S.turns.length() > 0,
                rx.vstack(rx.foreach(S.turns, _turn), spacing="5", width="100%", id="assistant-conversation"),
                _welcome()),
        rx.box(id=END_ID, height="1px"),
        _question_box(),
        spacing="4",
        width="100%",
        max_width="900px",
    )
    return signed_in_page("Assistant", body, actions=_new_conversation(),
                          subtitle="Ask the knowledge base; every answer cites the passages it came from")
