"""Paging through a service that hands back one page and the token of the next (a DynamoDB continuation key).

Such a service only pages forwards, so going back means remembering the tokens of the pages already seen:
`previous_tokens` is that stack and `current_token` the token of the page on screen ("" for the first).

    class ContactListState(TokenPaging, SessionState):
        def _fetch(self):
            page = contacts.search_contacts(..., next_token=self.current_token or None)
            self.next_token = page.next_token or ""
            ...

A mixin (`mixin=True`): each state that lists it gets its own copy of these vars and event handlers, bound to
that state, and its parent stays the non-mixin base (`SessionState` above)."""
from __future__ import annotations

import reflex as rx


class TokenPaging(rx.State, mixin=True):
    next_token: str = ""  # "" on the last page
    previous_tokens: list[str] = []
    current_token: str = ""

    @rx.var
    def page_number(self) -> int:
        return len(self.previous_tokens) + 1

    @rx.event
    def load(self):
        """on_load: the first page."""
        return self._restart()

    @rx.event
    def next_page(self):
        if not self.next_token:
            return None
        self.previous_tokens = [*self.previous_tokens, self.current_token]
        self.current_token = self.next_token
        return self._fetch()

    @rx.event
    def previous_page(self):
        if not self.previous_tokens:
            return None
        self.current_token = self.previous_tokens[-1]
        self.previous_tokens = self.previous_tokens[:-1]
        return self._fetch()

    def _restart(self):
        """Back to the first page (the filters changed) and fetch it."""
        self.previous_tokens = []
        self.current_token = ""
        return self._fetch()

    def _fetch(self):
        """Fetch the page `current_token` names and set `next_token`; return the events to send, if any."""
        raise NotImplementedError
