"""The Reflex app: pages of every module, the REST route table, and the local runtime's lifespan."""
from __future__ import annotations

import asyncio
import contextlib
import logging

import reflex as rx

from backend.api.asgi_door import build_api
from backend.runtime.startup import start_local_runtime
from wecare_app.pages import auth, contacts, dashboard

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@contextlib.asynccontextmanager
async def local_runtime():
    """Start DynamoDB Local (if this process must), create tables, bootstrap the first admin; stop on exit."""
    started = await asyncio.to_thread(start_local_runtime)
    try:
        yield
    finally:
        if started is not None:
            await asyncio.to_thread(started.stop)


app = rx.App(
    api_transformer=build_api(),
    toaster=rx.toast.provider(position="top-right", close_button=True),
)
app.register_lifespan_task(local_runtime)
for module in (auth, dashboard, contacts):
    module.register(app)
