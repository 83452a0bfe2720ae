"""The sidebar and the registered pages agree: every entry the sidebar links is a registered page, and every
registered page a person opens directly is in the sidebar (the rest are reached from another page)."""
from __future__ import annotations

import pytest

from wecare_app.components.navigation import NAV_MODULES

# Registered, reached from another page rather than the sidebar: sign-in, the Cognito redirect, "not found",
# and the pages of one item (their list links them).
NOT_IN_SIDEBAR = {"login", "auth/callback", "404"}


@pytest.fixture(scope="module")
def registered() -> set[str]:
    import wecare_app.wecare_app as web

    return {route for route in web.app._unevaluated_pages}


def _route(href: str) -> str:
    return "index" if href == "/" else href.strip("/")


def test_every_sidebar_entry_is_a_registered_page(registered):
    ready = {_route(e.href) for m in NAV_MODULES for e in m.entries if e.ready}
    assert ready - registered == set()


def test_every_page_opened_directly_is_in_the_sidebar_and_no_entry_waits_for_a_page_that_exists(registered):
    entries = {_route(e.href): e for m in NAV_MODULES for e in m.entries}
    direct = {route for route in registered if "[" not in route} - NOT_IN_SIDEBAR
    assert direct - set(entries) == set()
    assert [route for route in direct if not entries[route].ready] == []  # built, so listed


def test_an_entry_not_yet_built_is_not_registered(registered):
    waiting = {_route(e.href) for m in NAV_MODULES for e in m.entries if not e.ready}
    assert waiting & registered == set()
