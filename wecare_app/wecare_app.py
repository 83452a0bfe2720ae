"""The Reflex app: pages of every module, the REST route table, and the local runtime's lifespan."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor

import reflex as rx
from reflex.utils.format import format_event_handler

from backend.api.asgi_door import build_api
from backend.api.upload_guard import guard_uploads
from backend.runtime.auto_reply import start_auto_reply, stop_auto_reply
from backend.runtime.change_feed import start_change_hub, stop_change_hub
from backend.runtime.counters_feed import start_counters_feed, stop_counters_feed
from backend.runtime.messaging import start_messaging
from backend.runtime.startup import start_local_runtime
from backend.settings import get_settings
from wecare_app.pages import (
    admin_audit, admin_config, admin_dlq, admin_rate_limits, admin_users, ai, analytics, auth, bulk, compose, contacts, dashboard, inbox, media,
    messages_log, not_found, templates, voice,
)
from wecare_app.pages.ai.knowledge_base_page import MAX_FILE_BYTES as KB_MAX_BYTES, KnowledgeBaseState
from wecare_app.pages.contacts.import_page import MAX_FILE_BYTES as CSV_MAX_BYTES, ContactImportState
from wecare_app.pages.bulk.new_page import MAX_CSV_BYTES as CAMPAIGN_CSV_MAX_BYTES, NewCampaignState
from wecare_app.pages.inbox.thread_page import MAX_FILE_BYTES as MEDIA_MAX_BYTES, ThreadState
from wecare_app.pages.media.library_page import MAX_FILE_BYTES as LIBRARY_MAX_BYTES, MediaLibraryState
from wecare_app.state.live_feed import attach_counters_hub, attach_hub

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per run of the minute job is noise


@contextlib.asynccontextmanager
async def local_runtime():
    """Start DynamoDB Local (if this process must), create tables, bootstrap the first admin, start the send
    workers, the schedule and the live feed; stop them on exit."""
    # The pages' service calls run on the loop's default executor (SessionState.run), sized by a setting rather
    # than by asyncio's cores + 4: enough threads that a quick call rarely queues behind slow ones, few enough
    # that the loop itself does not wait long for the GIL (see Settings.ui_workers).
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=get_settings().ui_workers, thread_name_prefix="ui")
    )
    started = await asyncio.to_thread(start_local_runtime)
    messaging = await asyncio.to_thread(start_messaging)
    hub = await asyncio.to_thread(start_change_hub)
    attach_hub(hub)
    start_auto_reply(hub)
    attach_counters_hub(await asyncio.to_thread(start_counters_feed))
    try:
        yield
    finally:
        attach_hub(None)
        stop_auto_reply()
        attach_counters_hub(None)
        await asyncio.to_thread(stop_counters_feed)
        await asyncio.to_thread(stop_change_hub)
        await asyncio.to_thread(messaging.stop)
        if started is not None:
            await asyncio.to_thread(started.stop)


# Every upload handler and the largest file it takes: the guard refuses a larger body before it is read, and
# an upload to any other handler.
UPLOAD_LIMITS = {
    format_event_handler(ContactImportState.receive_file): CSV_MAX_BYTES,
    format_event_handler(ThreadState.send_media): MEDIA_MAX_BYTES,
    format_event_handler(NewCampaignState.receive_csv): CAMPAIGN_CSV_MAX_BYTES,
    format_event_handler(MediaLibraryState.receive_file): LIBRARY_MAX_BYTES,
    format_event_handler(KnowledgeBaseState.receive_file): KB_MAX_BYTES,
}

app = rx.App(
    api_transformer=[build_api(), guard_uploads(UPLOAD_LIMITS)],
    toaster=rx.toast.provider(position="top-right", close_button=True),
)
app.register_lifespan_task(local_runtime)
for module in (auth, dashboard, analytics, contacts, inbox, compose, messages_log, bulk, templates, voice, media, ai, admin_users,
               admin_config, admin_rate_limits, admin_audit, admin_dlq, not_found):
    module.register(app)
