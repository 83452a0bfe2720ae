"""AI module: the assistant (/ai/assistant: ask the knowledge base, answers with the passages they cite), the
knowledge base (/ai/knowledge-base: the documents answers come from, their indexing state, upload, re-index,
delete and the sample handbook), the interaction log (/ai/interactions: every answer, its outcome, the rates) and
the AI settings (/ai/settings, Admins: auto-reply and its rules, the prompt, today's auto-replies)."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.ai.assistant_page import AssistantState, ai_assistant_page
from wecare_app.pages.ai.interactions_page import InteractionsState, ai_interactions_page
from wecare_app.pages.ai.knowledge_base_page import KnowledgeBaseState, ai_knowledge_base_page
from wecare_app.pages.ai.settings_page import ON_LOAD as SETTINGS_ON_LOAD, ai_settings_page
from wecare_app.pages.layout import add_signed_in_page


def register(app: rx.App) -> None:
    add_signed_in_page(app, ai_assistant_page, route="/ai/assistant", title="Assistant", on_load=AssistantState.open_page)
    add_signed_in_page(app, ai_knowledge_base_page, route="/ai/knowledge-base", title="Knowledge base",
                       on_load=KnowledgeBaseState.open_page)
    add_signed_in_page(app, ai_interactions_page, route="/ai/interactions", title="AI interactions",
                       on_load=InteractionsState.open_page)
    add_signed_in_page(app, ai_settings_page, route="/ai/settings", title="AI settings", on_load=SETTINGS_ON_LOAD)
