"""A Viewer is not offered the create-contact form that would only fail on submit (issue 11): the page shows
why instead, and the form is drawn only for writers."""
from wecare_app.pages.contacts.new_page import new_contact_page
from wecare_app.state.session_state import SessionState


def test_the_create_form_is_drawn_only_for_writers():
    rendered = str(new_contact_page())
    can_write = str(SessionState.can_write)
    assert 'id:"contact-read-only"' in rendered
    assert rendered.index(can_write) < rendered.index('id:"contact-create"')
