"""What a sandbox provider received: one JSON line per send in `<data_dir>/sandbox/<file>` (the record the benches
count duplicates from), and the one question a real provider cannot answer: "did you get the send of this
message id?" (`find`).

The outbox asks it of a send a crash interrupted (the row left SENDING, its claim lapsed): found → the provider
has it, the row becomes ACCEPTED with the provider's id; not found → the provider never got it (the process
that claimed it is gone), the row is sent again. Against a live provider there is nobody to ask, and such a row
is dead-lettered as outcome unknown for a person to decide.

The file outlives the process (a kill -9 loses nothing written), so a restarted app finds what the dead one
sent. Lines are read once, incrementally, as `find` needs them; a torn last line is read when it is complete.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path


class SendLog:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._offset = 0
        self._index: dict[str, str] = {}  # our message id → the provider's id

    def append(self, record: dict) -> None:
        """Record one send; `record` carries `message_id` (ours) and `provider_message_id`."""
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)

    def find(self, message_id: str) -> str | None:
        """The provider's id for the send of `message_id`, or None when the sandbox never received it."""
        with self._lock:
            self._read_new()
            return self._index.get(message_id)

    def _read_new(self) -> None:
        if not self.path.is_file():
            self._offset, self._index = 0, {}
            return
        with self.path.open("rb") as handle:
            if handle.seek(0, 2) < self._offset:  # the file was cleared: start again
                self._offset, self._index = 0, {}
            handle.seek(self._offset)
            data = handle.read()
        complete = data.rfind(b"\n") + 1
        for line in data[:complete].splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("message_id") and record.get("provider_message_id"):
                self._index[record["message_id"]] = record["provider_message_id"]
        self._offset += complete
