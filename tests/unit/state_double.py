"""A page state's handlers run outside Reflex, for the page tests: the state's vars are attributes (fresh copies
of their defaults), the state lock is a no-op, and `run` calls the service as `actor` on a worker thread, as
SessionState.run does. A page's double names its `state` and binds the handlers and helpers it calls."""
from __future__ import annotations

import asyncio
import copy


class StateDouble:
    state: type  # the rx.State class whose handlers the double runs

    def __init__(self, actor, **values):
        self.actor = actor
        for name, var in self.state.get_fields().items():
            if name in self.state.base_vars:
                setattr(self, name, copy.deepcopy(var.default_value()))
        for cls in reversed(self.state.__mro__):  # the backend-only vars (`_name: type = default`)
            for name in getattr(cls, "__annotations__", {}):
                if name.startswith("_") and not name.startswith("__") and name in vars(cls):
                    value = vars(cls)[name]
                    default = value.default_value() if hasattr(value, "default_value") else value  # Reflex's Field
                    setattr(self, name, copy.deepcopy(default))
        for name, value in values.items():
            setattr(self, name, value)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    async def signed_in(self) -> bool:
        return True

    async def run(self, service, *args, **kwargs):
        return await asyncio.to_thread(service, self.actor, *args, **kwargs)
