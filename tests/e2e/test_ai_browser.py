"""AI answers in a real browser: an Admin on an empty knowledge base loads the sample handbook with one click and
watches its documents reach "indexed" (the page follows the background indexing live), then asks the assistant
"When are you open on Sunday?" and gets an answer with a citation card, which opens to the passage it quotes; a
question the handbook cannot answer is declined plainly, with the reason."""
from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Page, expect  # noqa: E402

from tests.e2e.harness import E2EApp  # noqa: E402
from tests.e2e.test_contacts_browser import signed_in_as  # noqa: E402

FIRST_VISIT_MS = 180_000  # the dev server compiles a route on its first request
INDEXING_MS = 60_000


def empty_knowledge_base(app: E2EApp) -> None:
    """An empty install, as far as the knowledge base goes (the harness is shared by the e2e tests)."""
    from backend.services.ai import knowledge_base
    from backend.services.platform.access import Actor, Role

    actor = Actor(user_id="e2e-admin", email=app.admin_email, role=Role.ADMIN)
    knowledge_base.wait_idle()
    for document in knowledge_base.list_documents(actor).documents:
        knowledge_base.delete_document(actor, document.document_id)


def test_an_admin_loads_the_sample_and_the_assistant_answers_with_a_citation(page: Page, e2e_app: E2EApp) -> None:
    from backend.services.ai.sample import sample_documents

    empty_knowledge_base(e2e_app)
    documents = len(sample_documents())
    signed_in_as(page, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin", start="/")
    page.goto(e2e_app.at("/ai/knowledge-base"), timeout=FIRST_VISIT_MS)
    load = page.locator("#kb-load-sample")
    expect(load).to_be_visible(timeout=FIRST_VISIT_MS)
    expect(page.locator("#kb-retrieval")).to_contain_text("Local index")
    expect(page.locator("#kb-upload-rules")).to_contain_text("up to 10 MB")
    e2e_app.screenshot(page, "ai-knowledge-base-empty")

    load.click()
    expect(page.get_by_text(re.compile(r"Sample handbook loaded"))).to_be_visible()
    expect(page.locator(".kb-row")).to_have_count(documents)
    expect(page.locator(".kb-status", has_text="Indexed")).to_have_count(documents, timeout=INDEXING_MS)  # live, no reload
    expect(page.locator("#kb-count-indexed")).to_have_text(str(documents))
    expect(page.locator(".kb-row", has_text="Opening Hours").locator(".kb-reindex")).to_be_visible()
    e2e_app.screenshot(page, "ai-knowledge-base-loaded")

    page.goto(e2e_app.at("/ai/assistant"), timeout=FIRST_VISIT_MS)
    box = page.locator("#assistant-question")
    expect(box).to_be_enabled(timeout=FIRST_VISIT_MS)
    expect(page.locator("#assistant-welcome")).to_contain_text("When are you open on Sundays?")
    box.fill("When are you open on Sunday?")
    box.press("Enter")
    answer = page.locator(".assistant-answered")
    expect(answer).to_have_count(1)
    expect(answer.locator(".assistant-verdict")).to_have_text("Answered from the knowledge base")
    expect(answer.locator(".assistant-answer-text")).to_contain_text("10am to 4pm")
    expect(answer.locator(".cite-mark").first).to_be_visible()
    card = answer.locator(".citation").first
    expect(card.locator(".citation-title")).to_have_text("Opening Hours")
    card.locator(".citation-toggle").click()
    expect(card.locator(".citation-passage")).to_contain_text("Sunday")  # the whole passage, not the snippet
    expect(card.locator(".citation-snippet")).to_have_count(0)
    expect(card.locator(".citation-kb-link")).to_have_attribute("href", "/ai/knowledge-base")
    e2e_app.screenshot(page, "ai-assistant-answer")

    box.fill("Do you sell second-hand tractors in Norway?")
    box.press("Enter")
    declined = page.locator(".assistant-no-answer")
    expect(declined).to_have_text("The knowledge base has no answer to this question.")
    expect(page.locator(".assistant-reason")).to_contain_text("covers")
    e2e_app.screenshot(page, "ai-assistant-declined")


def test_a_suggested_reply_waits_for_the_operator_and_goes_out_only_when_sent(page: Page, e2e_app: E2EApp) -> None:
    """In a conversation: "Suggest reply" keeps the operator's half-written text and offers the suggestion beside it;
    nothing goes to the customer until the operator sends, and then the interaction is recorded as approved."""
    import uuid

    from backend.services.ai import interactions, knowledge_base
    from backend.services.platform.access import Actor, Role
    from tests.e2e.test_inbox_browser import customer_writes

    admin = Actor(user_id="e2e-admin", email=e2e_app.admin_email, role=Role.ADMIN)
    knowledge_base.load_sample(admin)  # idempotent: documents already there stay as they are
    knowledge_base.wait_idle()
    token = uuid.uuid4().hex[:6]
    phone = f"4477008{int(token, 16) % 100000:05d}"
    customer_writes(e2e_app, phone, f"Robin Suggest{token}", "When are you open on Sunday?")

    signed_in_as(page, e2e_app, e2e_app.admin_email, e2e_app.admin_password, "Admin", start="/inbox")
    page.locator(".conversation-row", has_text=f"Robin Suggest{token}").click()
    page.wait_for_url(re.compile(r".*/inbox/[^/?#]+$"))
    draft = page.locator("#thread-draft")
    expect(draft).to_be_visible(timeout=FIRST_VISIT_MS)
    draft.fill("Hello Robin, let me check that for")
    page.locator("#ai-suggest").click()
    expect(page.locator("#ai-waiting-text")).to_contain_text("Sunday", timeout=30_000)
    expect(page.locator("#ai-citations")).to_contain_text("Opening Hours")
    expect(draft).to_have_value("Hello Robin, let me check that for")  # the operator's words are kept
    expect(page.locator(".bubble-out")).to_have_count(0)  # nothing has gone to the customer
    e2e_app.screenshot(page, "ai-suggestion-kept-draft")

    page.locator("#ai-use").click()
    expect(draft).to_have_value(re.compile(r"^Hi Robin,"))
    suggested = draft.input_value()
    page.locator("#thread-send").click()
    expect(page.locator(".bubble-out", has_text="Hi Robin,")).to_be_visible(timeout=15_000)
    expect(page.locator("#ai-suggestion")).to_have_count(0)
    e2e_app.screenshot(page, "ai-suggestion-sent")

    contact_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    [interaction] = interactions.list_interactions(admin, contact_id=contact_id).items
    assert (interaction.status, interaction.sent_text) == ("approved", None), suggested  # sent as it came
