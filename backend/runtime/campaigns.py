"""The local campaign runner: a thread of the app that runs `runner.run_once` in a loop (at once again while
there is work, every second when there is none). In AWS the bulk-job-control function runs the same passes on
its schedule. Stopping is prompt: the loop checks its event between passes."""
from __future__ import annotations

import logging
import threading

from backend.services.campaigns import runner

log = logging.getLogger(__name__)
IDLE_SECONDS = 1.0


class CampaignRunner:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="campaign-runner", daemon=True)

    def start(self) -> "CampaignRunner":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                worked = runner.run_once()
            except Exception:  # noqa: BLE001 - the runner outlives a failing table or a bad job
                log.exception("campaign runner pass failed; trying again")
                worked = False
            if not worked:
                self._stop.wait(IDLE_SECONDS)
