"""The template picker draws no <p> inside a <p>: rx.callout(...) wraps its content in Callout.Text (a <p>),
and the picker's "no templates" note holds text and a link of its own (React's hydration warning)."""
from __future__ import annotations

from wecare_app.components.template_fields import template_fields
from wecare_app.pages.inbox.thread_page import ThreadState


def test_the_no_templates_note_is_not_wrapped_in_a_paragraph():
    rendered = str(template_fields(ThreadState, select_id="template-select", param_class="template-param"))
    assert 'id:"template-none"' in rendered
    assert "RadixThemesCallout.Text" not in rendered
