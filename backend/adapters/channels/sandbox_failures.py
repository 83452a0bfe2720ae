"""The sandboxes' failure injection, the same rules on every channel, worded as each AWS API words them.

A destination ending 0000 fails permanently, 0429 is throttled and 0500 meets an outage, every time (to see
retries and the dead-letter queue on demand). Otherwise a share `sandbox_failure_rate` of sends fails with
`sandbox_failure_code`; the draw is made on every send, so a seeded run is reproducible whatever the rate.
"""
from __future__ import annotations

import random
import threading
from collections.abc import Callable

from backend.adapters.channels.errors import PROVIDER_UNAVAILABLE, THROTTLED, ProviderError
from backend.settings import Settings

FAILING_ENDINGS = ("0000", "0429", "0500")  # a destination ending so fails every time: invalid, throttled, outage
InvalidNumberError = Callable[[str], ProviderError]  # the provider's permanent error, given a "(sandbox…)" note


class InjectedFailures:
    def __init__(self, settings: Settings, rng: random.Random | None, *, invalid_number: InvalidNumberError,
                 throttled: str, server: str):
        self._settings = settings
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._invalid_number = invalid_number
        self._throttled, self._server = throttled, server  # the API's exception names

    def at_send(self, destination: str) -> str | None:
        """Raise the failure this send meets now; return the drawn code of one that shows only in later
        events (e.g. "131047"), or None."""
        for ending in FAILING_ENDINGS:
            if destination.endswith(ending):
                raise self._error(ending, f"(sandbox number ending {ending})")
        with self._lock:
            draw = self._rng.random()
        failure = self._settings.sandbox_failure_code if draw < self._settings.sandbox_failure_rate else None
        reason = {"invalid_number": "0000", "throttled": "0429", "server": "0500"}.get(failure or "")
        if reason:
            raise self._error(reason, "(sandbox)")
        return failure

    def _error(self, ending: str, note: str) -> ProviderError:
        if ending == "0000":
            return self._invalid_number(note)
        if ending == "0429":
            return ProviderError(THROTTLED, f"{self._throttled}: Rate exceeded {note}", retryable=True)
        return ProviderError(PROVIDER_UNAVAILABLE, f"{self._server}: Internal error {note}", retryable=True)
