"""Paging through a service that hands back one page and the token of the next (a DynamoDB continuation key),
with the service call off the event loop.

Such a service only pages forwards, so going back means remembering the tokens of the pages already seen:
`previous_tokens` is that stack and `current_token` the token of the page on screen ("" for the first).

A state supplies three steps; the mixin runs them as background events, taking the state lock only for the
first and the last:

    class ContactListState(TokenPaging, SessionState):
        def _page_query(self):                       # under the lock: snapshot the filters
            return {"query": self.query}

        async def _load_page(self, query, token):    # off the lock: the service call
            return await self.run(contacts.search_contacts, query["query"], limit=25, next_token=token or None)

        def _show_page(self, page):                  # under the lock: show it
            self.rows = [...]

Filters change through `return await self._filter_by(status=value)` from a background event (or, for more
than setting vars, `await self._refresh(restart=True)` after an `async with self:` block). Only the newest request's
page is shown: typing fast in a search box fires several loads, and an older one that returns late is dropped.

A mixin (`mixin=True`): each state that lists it gets its own copy of these vars and event handlers, bound to
that state, and its parent stays the non-mixin base (`SessionState` above)."""
from __future__ import annotations

from typing import Any

import reflex as rx

from backend.errors import DomainError
from wecare_app.state.feedback import error_toast


class TokenPaging(rx.State, mixin=True):
    next_token: str = ""  # "" on the last page
    previous_tokens: list[str] = []
    current_token: str = ""
    loading: bool = True
    _page_request: int = 0  # the newest request's number: older answers are dropped

    @rx.var
    def page_number(self) -> int:
        return len(self.previous_tokens) + 1

    @rx.event(background=True)
    async def load(self):
        """on_load: the first page."""
        return await self._refresh(restart=True)

    @rx.event(background=True)
    async def next_page(self):
        async with self:
            if not self.next_token:
                return None
            self.previous_tokens = [*self.previous_tokens, self.current_token]
            self.current_token = self.next_token
        return await self._refresh()

    @rx.event(background=True)
    async def previous_page(self):
        async with self:
            if not self.previous_tokens:
                return None
            self.current_token = self.previous_tokens[-1]
            self.previous_tokens = self.previous_tokens[:-1]
        return await self._refresh()

    async def _filter_by(self, **values: Any):
        """Set filter vars (under the lock) and fetch the first page they select: a filter setter's whole body."""
        async with self:
            for name, value in values.items():
                setattr(self, name, value)
        return await self._refresh(restart=True)

    async def _refresh(self, *, restart: bool = False):
        """Fetch the page `current_token` names (the first page when `restart`) and show it; the events to send."""
        async with self:
            if restart:
                self.previous_tokens = []
                self.current_token = ""
            self._page_request += 1
            ticket = self._page_request
            query = self._page_query()
            token = self.current_token
            self.loading = True
        if not await self.signed_in():
            return None  # require_session is already redirecting to /login
        try:
            page = await self._load_page(query, token)
        except DomainError as error:
            async with self:
                if ticket == self._page_request:
                    self.loading = False
                    self._page_failed(error)
            return error_toast(error)
        async with self:
            if ticket != self._page_request:
                return None  # a newer request is on its way
            self.next_token = getattr(page, "next_token", None) or ""
            self._show_page(page)
            self.loading = False
        return None

    def _page_query(self) -> Any:
        """Under the lock: what the page is filtered by (passed to `_load_page`)."""
        return None

    async def _load_page(self, query: Any, token: str) -> Any:
        """Off the lock: the service call for the page `token` names ("" for the first); returns the page."""
        raise NotImplementedError

    def _show_page(self, page: Any) -> None:
        """Under the lock: show the page."""
        raise NotImplementedError

    def _page_failed(self, error: DomainError) -> None:
        """Under the lock: the page could not be read (the toast is sent for you)."""
