"""What every DRY_RUN provider does with a request: keep it, log what may be logged of it, send nothing."""
from __future__ import annotations

import logging
import threading
import uuid


class DryRunRecorder:
    """Base of the dry-run providers: `recorded` holds {"operation", "params"} per request, for tests."""

    def __init__(self) -> None:
        self.recorded: list[dict] = []
        self._recorded_lock = threading.Lock()

    def record(self, operation: str, params: dict, shown: str) -> str:
        """Keep the live request; log `shown` (the caller decides what of it is safe to log) under the
        provider's own module. Returns a synthetic provider id."""
        with self._recorded_lock:
            self.recorded.append({"operation": operation, "params": params})
        logging.getLogger(type(self).__module__).info("dry run, not sent: %s %s", operation, shown)
        return f"dryrun.{uuid.uuid4()}"

    def clear(self) -> None:
        with self._recorded_lock:
            self.recorded.clear()
