"""/inbox/[contact_id]: one conversation, live, in three panes on wide screens (the team inbox | the thread | the
contact). The thread shows every channel's messages with the team's private notes and the conversation's
events; the reply box answers on any channel the contact can be reached on (starting on the channel of their
last message), with `/` canned replies, or takes a private note; the header assigns, resolves, snoozes and
labels. WhatsApp outside its 24-hour window offers the template picker instead of free text. "Suggest reply"
fills the reply box with an AI suggestion from the knowledge base, shown above the box with its sources until
the operator sends it (as is or edited) or rejects it. The state is in thread_state.py."""
from __future__ import annotations

import reflex as rx

from wecare_app.components.shell import empty_state, loading_block
from wecare_app.components.template_fields import template_fields
from wecare_app.pages.inbox.contact_panel import contact_panel
from wecare_app.pages.inbox.conversations_page import InboxState, conversation_list
from wecare_app.pages.inbox.thread_state import MAX_FILE_BYTES, SNOOZES, UPLOAD_ID, ThreadState
from wecare_app.pages.layout import signed_in_page, writers_only

__all__ = ["MAX_FILE_BYTES", "ThreadState", "thread_page"]
REACTIONS = ("👍", "❤️", "😂", "😮", "😢", "🙏")


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


def _retry(bubble: rx.Var) -> rx.Component:
    """A failed message: its reason, and "Send again" when the rule allows it (else why not)."""
    return rx.cond(
        bubble["failed"].to(bool),
        rx.vstack(
            rx.text(bubble["error"], size="1", color=rx.color("red", 11), class_name="failure-reason"),
            rx.cond(
                bubble["can_retry"].to(bool),
                writers_only(rx.button(rx.icon("rotate-cw", size=12), "Send again", size="1", variant="soft", color_scheme="red",
                                       on_click=ThreadState.retry(bubble["message_id"].to(str)), class_name="retry-button")),
                rx.cond(bubble["retry_refusal"].to(str) != "", rx.text(bubble["retry_refusal"], size="1", color=rx.color("gray", 10))),
            ),
            spacing="1",
            align="start",
        ),
    )


def _message(bubble: rx.Var) -> rx.Component:
    outbound = bubble["outbound"].to(bool)
    content = rx.vstack(
        rx.hstack(
            rx.icon(bubble["channel_icon"].to(str), size=12, color=rx.color("gray", 10)),
            rx.text(bubble["channel"], size="1", color=rx.color("gray", 10), class_name="bubble-channel"),
            rx.cond(bubble["subject"].to(str) != "", rx.text("· " + bubble["subject"].to(str), size="1", weight="medium", color=rx.color("gray", 11))),
            spacing="1",
            align="center",
        ),
        _media(bubble),
        rx.cond(bubble["body"].to(str) != "", rx.text(bubble["body"], size="2", white_space="pre-wrap", class_name="bubble-text")),
        _retry(bubble),
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


def _note(bubble: rx.Var) -> rx.Component:
    return rx.box(
        rx.hstack(rx.icon("lock", size=12), rx.text("Private note · " + bubble["author"].to(str) + " · " + bubble["time"].to(str), size="1", weight="medium"),
                  spacing="1", align="center", color=rx.color("amber", 11)),
        rx.text(bubble["body"], size="2", white_space="pre-wrap"),
        background=rx.color("amber", 3),
        border=f"1px dashed {rx.color('amber', 8)}",
        border_radius="8px",
        padding="8px 12px",
        width="100%",
        max_width="620px",
        margin_x="auto",
        class_name="timeline-note",
        id="m-" + bubble["message_id"].to(str),
    )


def _event(bubble: rx.Var) -> rx.Component:
    return rx.center(
        rx.text(bubble["body"].to(str) + " · " + bubble["author"].to(str) + " · " + bubble["time"].to(str), size="1", color=rx.color("gray", 10)),
        width="100%",
        class_name="timeline-event",
        id="m-" + bubble["message_id"].to(str),
    )


def _bubble(bubble: rx.Var) -> rx.Component:
    entry = bubble["entry"].to(str)
    return rx.cond(entry == "note", _note(bubble), rx.cond(entry == "event", _event(bubble), _message(bubble)))


def _window_badge() -> rx.Component:
    return rx.cond(
        ThreadState.on_whatsapp,
        rx.badge(
            rx.icon("clock", size=12),
            ThreadState.window_text,
            color_scheme=rx.cond(ThreadState.window_open, "green", "amber"),
            size="1",
            id="window-state",
        ),
    )


def _canned_suggestions() -> rx.Component:
    return rx.cond(
        ThreadState.suggestions.length() > 0,
        rx.card(
            rx.vstack(
                rx.text("Canned replies", size="1", color=rx.color("gray", 10)),
                rx.foreach(
                    ThreadState.suggestions,
                    lambda c: rx.button(
                        rx.text("/" + c["shortcut"], weight="bold"), rx.text(c["title"], color=rx.color("gray", 11)),
                        variant="ghost", size="1", on_click=ThreadState.use_canned(c["shortcut"]), class_name="canned-option",
                    ),
                ),
                spacing="1",
                align="start",
            ),
            size="1",
            id="canned-suggestions",
        ),
    )


def _citation(c: rx.Var) -> rx.Component:
    """One source of the suggestion: its title and where in the document, the passage itself on a click."""
    return rx.el.details(
        rx.el.summary(
            rx.text("[" + c["number"].to(str) + "] ", rx.text.strong(c["title"]), " · " + c["location"].to(str), as_="span", size="1"),
            cursor="pointer",
        ),
        rx.text(c["content"], size="1", white_space="pre-wrap", color=rx.color("gray", 11), padding="4px 0 4px 16px"),
        class_name="ai-citation",
    )


def _reject() -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(rx.button(rx.icon("thumbs-down", size=14), "Reject", size="1", variant="soft", color_scheme="red", id="ai-reject")),
        rx.popover.content(
            rx.vstack(
                rx.text("Why is it not right? (optional)", size="1", weight="medium"),
                rx.text_area(value=ThreadState.ai_reject_reason, on_change=ThreadState.set_ai_reject_reason, rows="2", width="260px",
                             max_length=1000, placeholder="Wrong policy, out of date, not what they asked…", id="ai-reject-reason"),
                rx.flex(
                    rx.popover.close(rx.button("Reject suggestion", size="1", color_scheme="red", on_click=ThreadState.reject_suggestion, id="ai-reject-confirm")),
                    justify="end",
                    width="100%",
                ),
                spacing="2",
                align="start",
            ),
            side="top",
        ),
    )


def _suggestion_panel() -> rx.Component:
    """The pending AI suggestion (it is in the reply box below) with its sources, or the note that the
    knowledge base has no answer."""
    suggestion = rx.vstack(
        rx.hstack(
            rx.icon("sparkles", size=14, color=rx.color("violet", 11)),
            rx.text("AI suggestion — review before sending", size="2", weight="medium"),
            rx.badge("Confidence " + ThreadState.ai_confidence, color_scheme="violet", variant="soft", size="1", id="ai-confidence"),
            rx.spacer(),
            _reject(),
            width="100%",
            align="center",
            spacing="2",
        ),
        rx.cond(
            ThreadState.ai_draft_kept,
            rx.vstack(
                rx.text("Your reply box already had text, so it is kept. The suggestion:", size="1", color=rx.color("gray", 10)),
                rx.text(ThreadState.ai_text, size="2", white_space="pre-wrap", id="ai-waiting-text"),
                rx.button(rx.icon("replace", size=14), "Use this suggestion instead", size="1", variant="soft",
                          color_scheme="violet", on_click=ThreadState.use_suggestion, id="ai-use"),
                spacing="1",
                align="start",
                width="100%",
            ),
            rx.text("It is in the reply box: edit it as you need, then send it, or reject it.", size="1", color=rx.color("gray", 10)),
        ),
        rx.cond(
            ThreadState.ai_citations.length() > 0,
            rx.vstack(rx.text("Sources", size="1", weight="medium", color=rx.color("gray", 11)),
                      rx.foreach(ThreadState.ai_citations, _citation), spacing="1", width="100%", id="ai-citations"),
        ),
        spacing="2",
        width="100%",
    )
    no_answer = rx.hstack(
        rx.icon("sparkles", size=14, color=rx.color("gray", 10)),
        rx.text(ThreadState.ai_note, size="1", id="ai-note"),
        rx.spacer(),
        rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", on_click=ThreadState.dismiss_note, title="Close"),
        width="100%",
        align="start",
        spacing="2",
    )
    return rx.cond(
        ThreadState.ai_panel,
        rx.box(
            rx.cond(ThreadState.ai_interaction_id != "", suggestion, no_answer),
            width="100%",
            padding="8px 12px",
            border_radius="8px",
            background=rx.color("violet", 2),
            border=f"1px solid {rx.color('violet', 6)}",
            id="ai-suggestion",
        ),
    )


def _suggest_button() -> rx.Component:
    return rx.tooltip(
        rx.button(
            rx.icon("sparkles", size=14), "Suggest reply",
            size="1",
            variant="soft",
            color_scheme="violet",
            on_click=ThreadState.suggest_reply,
            loading=ThreadState.suggesting,
            disabled=ThreadState.suggest_message_id == "",
            id="ai-suggest",
        ),
        content=rx.cond(ThreadState.suggest_message_id == "", "No message from the customer with text to answer yet",
                        "A reply to the customer's latest message from the knowledge base, for you to review"),
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
        rx.cond(ThreadState.reply_channel == "email", rx.text("Subject: " + ThreadState.email_subject, size="1", color=rx.color("gray", 11), id="email-subject")),
        _canned_suggestions(),
        _suggestion_panel(),
        rx.hstack(
            rx.text_area(
                placeholder="Write a reply… (type / for canned replies)",
                value=ThreadState.draft,
                on_change=ThreadState.set_draft,
                rows=rx.cond(ThreadState.ai_interaction_id != "", "9", "2"),  # a suggestion is read in full before it goes
                width="100%",
                max_length=4096,
                id="thread-draft",
            ),
            rx.vstack(
                rx.button(rx.icon("send", size=16), "Send", on_click=ThreadState.send_text, loading=ThreadState.sending, id="thread-send"),
                rx.cond(
                    ThreadState.on_whatsapp,
                    rx.upload.root(
                        rx.button(rx.icon("paperclip", size=16), "File", variant="soft", type="button"),
                        id=UPLOAD_ID,
                        max_files=1,
                        max_size=MAX_FILE_BYTES,
                        no_drag=True,
                        on_drop=ThreadState.send_media(rx.upload_files(upload_id=UPLOAD_ID)),
                    ),
                ),
                spacing="2",
            ),
            width="100%",
            align="start",
        ),
        rx.hstack(
            _suggest_button(),
            rx.spacer(),
            rx.text(ThreadState.draft.length().to_string() + " / 4096", size="1", color=rx.color("gray", 9)),
            width="100%",
            align="center",
        ),
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


def _channel_picker() -> rx.Component:
    """Every channel with the service's verdict: a channel that cannot be used says why (its tooltip)."""
    def option(c: rx.Var) -> rx.Component:
        usable = c["can_reply"].to(bool) | c["templates_only"].to(bool)
        return rx.tooltip(
            rx.button(
                rx.icon(c["icon"].to(str), size=14), c["label"].to(str),
                size="1",
                variant=rx.cond(ThreadState.reply_channel == c["channel"].to(str), "solid", "soft"),
                color_scheme=rx.cond(usable, "teal", "gray"),
                disabled=~usable,
                on_click=ThreadState.set_reply_channel(c["channel"].to(str)),
                class_name="reply-channel",
                data_channel=c["channel"].to(str),
            ),
            content=rx.cond(c["reason"].to(str) != "", c["reason"].to(str), "Reply on " + c["label"].to(str)),
        )

    return rx.hstack(rx.text("Reply on", size="1", color=rx.color("gray", 10)), rx.foreach(ThreadState.reply_channels, option), _window_badge(),
                     spacing="2", align="center", wrap="wrap", id="reply-channels")


def _reply_box() -> rx.Component:
    return rx.cond(
        ThreadState.reply_channel == "",
        rx.callout("This contact cannot be reached on any channel now: hover a channel to see why.", icon="ban", color_scheme="red", size="1"),
        rx.vstack(
            _channel_picker(),
            rx.cond(
                ThreadState.templates_only,
                rx.vstack(
                    rx.callout("The 24-hour window is closed: only an approved template can start the conversation again (or reply on another channel).", icon="info", size="1"),
                    _template_composer(),
                    width="100%",
                ),
                rx.cond(
                    ThreadState.on_whatsapp,
                    rx.vstack(
                        rx.segmented_control.root(
                            rx.segmented_control.item("Message", value="text"),
                            rx.segmented_control.item("Template", value="template"),
                            value=ThreadState.compose_mode,
                            on_change=ThreadState.set_compose_mode,
                            size="1",
                        ),
                        rx.cond(ThreadState.compose_mode == "text", _text_composer(), _template_composer()),
                        width="100%",
                    ),
                    _text_composer(),
                ),
            ),
            width="100%",
        ),
    )


def _note_box() -> rx.Component:
    return rx.vstack(
        rx.text_area(placeholder="A note for the team: the customer never sees it", value=ThreadState.note_draft, on_change=ThreadState.set_note_draft,
                     rows="2", width="100%", max_length=4000, id="note-draft", background=rx.color("amber", 2)),
        rx.button(rx.icon("lock", size=14), "Add note", on_click=ThreadState.add_note, loading=ThreadState.sending, color_scheme="amber", id="note-add"),
        width="100%",
        align="end",
    )


def _composer() -> rx.Component:
    return writers_only(
        rx.card(
            rx.tabs.root(
                rx.tabs.list(rx.tabs.trigger("Reply", value="reply", id="tab-reply"), rx.tabs.trigger("Private note", value="note", id="tab-note"), size="1"),
                rx.tabs.content(rx.box(_reply_box(), padding_top="8px"), value="reply"),
                rx.tabs.content(rx.box(_note_box(), padding_top="8px"), value="note"),
                value=ThreadState.compose_tab,
                on_change=ThreadState.set_compose_tab,
            ),
            width="100%",
        )
    )


def _conversation_controls() -> rx.Component:
    """Status, owner and labels: read by everyone, changed by Operators and Admins."""
    status = rx.badge(ThreadState.status_label, rx.cond(ThreadState.snoozed_text != "", " " + ThreadState.snoozed_text, ""),
                      color_scheme=ThreadState.status_color, size="2", id="conversation-status")
    assignee = rx.select.root(
        rx.select.trigger(placeholder="Unassigned", id="assignee-select"),
        rx.select.content(rx.select.item("Unassigned", value="none"),
                          rx.foreach(InboxState.team, lambda m: rx.select.item(m["name"], value=m["user_id"]))),
        value=rx.cond(ThreadState.assignee_id == "", "none", ThreadState.assignee_id),
        on_change=lambda value: ThreadState.assign(value),
        size="1",
        disabled=~ThreadState.can_write,
    )
    actions = writers_only(rx.hstack(
        rx.button("Assign to me", size="1", variant="soft", on_click=ThreadState.assign_to_me, id="assign-me"),
        rx.cond(
            ThreadState.status == "resolved",
            rx.button(rx.icon("rotate-ccw", size=14), "Re-open", size="1", variant="soft", on_click=ThreadState.set_status("open"), id="reopen"),
            rx.button(rx.icon("check", size=14), "Resolve", size="1", color_scheme="green", on_click=ThreadState.set_status("resolved"), id="resolve"),
        ),
        rx.menu.root(
            rx.menu.trigger(rx.button("More", rx.icon("chevron-down", size=14), size="1", variant="soft", id="status-more")),
            rx.menu.content(
                rx.menu.item("Mark pending (waiting on the customer)", on_click=ThreadState.set_status("pending")),
                rx.menu.item("Mark open", on_click=ThreadState.set_status("open")),
                rx.menu.separator(),
                *[rx.menu.item(f"Snooze: {label}", on_click=ThreadState.snooze(key)) for key, (label, _) in SNOOZES.items()],
            ),
        ),
        rx.popover.root(
            rx.popover.trigger(rx.button(rx.icon("tag", size=14), "Labels", size="1", variant="soft", id="labels-edit")),
            rx.popover.content(
                rx.cond(
                    InboxState.label_options.length() > 0,
                    rx.vstack(rx.foreach(InboxState.label_options, lambda label: rx.checkbox(
                        label["name"], checked=ThreadState.labels.contains(label["name"]), on_change=lambda _: ThreadState.toggle_label(label["name"]),
                        class_name="label-option"))),
                    rx.text("No labels yet: an Admin adds them in Inbox settings.", size="1"),
                ),
            ),
        ),
        spacing="2",
        wrap="wrap",
    ))
    labels = rx.foreach(ThreadState.labels, lambda name: rx.badge(name, variant="soft", size="1", class_name="thread-label"))
    return rx.cond(
        ThreadState.status != "",
        rx.hstack(status, assignee, labels, rx.spacer(), actions, width="100%", align="center", spacing="2", wrap="wrap"),
        rx.text("No conversation yet: it starts with the first message either way.", size="1", color=rx.color("gray", 10)),
    )


def _thread() -> rx.Component:
    thread = rx.cond(
        ThreadState.bubbles.length() > 0,
        rx.vstack(rx.foreach(ThreadState.bubbles, _bubble), spacing="3", width="100%", id="thread", padding_y="8px"),
        empty_state("messages-square", "No messages yet", "Messages with this contact on any channel will appear here as they happen."),
    )
    return rx.vstack(
        rx.hstack(
            rx.link(rx.hstack(rx.icon("arrow-left", size=16), rx.text("Inbox")), href="/inbox", display=rx.breakpoints(initial="flex", lg="none")),
            _conversation_controls(),
            width="100%",
            align="center",
            spacing="4",
        ),
        loading_block(ThreadState.loading, rx.scroll_area(thread, max_height="58vh", scrollbars="vertical", type="auto")),
        _composer(),
        spacing="3",
        width="100%",
        min_width="0",
    )


def thread_page() -> rx.Component:
    return signed_in_page(
        ThreadState.heading,
        rx.grid(
            rx.box(conversation_list(compact=True), display=rx.breakpoints(initial="none", lg="block"), id="pane-list", min_width="0"),
            _thread(),
            rx.box(contact_panel(), id="pane-contact", min_width="0", grid_column=rx.breakpoints(initial="1", lg="2", xl="3")),
            columns=rx.breakpoints(initial="1", lg="300px minmax(0, 1fr)", xl="300px minmax(0, 1fr) 280px"),
            spacing="4",
            width="100%",
            align_items="start",
        ),
        subtitle=ThreadState.contact_address,
    )
