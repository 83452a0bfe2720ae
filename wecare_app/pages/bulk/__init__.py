"""Bulk module: /bulk (campaigns), /bulk/new (the wizard), /bulk/[job_id] (one campaign, live),
/bulk/[job_id]/recipients and /bulk/scheduled."""
from __future__ import annotations

import reflex as rx

from wecare_app.pages.bulk.job_page import BulkJobState, bulk_job_page
from wecare_app.pages.bulk.list_page import BulkListState, ScheduledState, bulk_list_page, bulk_scheduled_page
from wecare_app.pages.bulk.new_page import NewCampaignState, new_campaign_page
from wecare_app.pages.bulk.recipients_page import RecipientsState, bulk_recipients_page
from wecare_app.pages.layout import add_signed_in_page


def register(app: rx.App) -> None:
    add_signed_in_page(app, bulk_list_page, route="/bulk", title="Campaigns", on_load=BulkListState.open_list)
    add_signed_in_page(app, new_campaign_page, route="/bulk/new", title="New campaign", on_load=NewCampaignState.start)
    add_signed_in_page(app, bulk_scheduled_page, route="/bulk/scheduled", title="Scheduled campaigns", on_load=ScheduledState.open_list)
    add_signed_in_page(app, bulk_job_page, route="/bulk/[job_id]", title="Campaign", on_load=BulkJobState.load)
    add_signed_in_page(app, bulk_recipients_page, route="/bulk/[job_id]/recipients", title="Recipients", on_load=RecipientsState.open_list)
