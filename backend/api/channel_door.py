"""One Lambda per channel serves three triggers: its REST route (API Gateway), its send queue (SQS) and its
provider's events (SNS: delivery reports, inbound messages, bounces). This picks the door by event shape."""
from __future__ import annotations

from typing import Callable

from backend.api.lambda_door import handle_http
from backend.api.queue_door import handle_queue, is_sqs_event


def is_sns_event(event: dict) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and all(isinstance(r, dict) and r.get("EventSource") == "aws:sns" for r in records)


def handle_channel_event(channel: str, function: str, event: dict, on_sns: Callable[[dict], dict]) -> dict:
    if is_sqs_event(event):
        return handle_queue(channel, event)
    if is_sns_event(event):
        return on_sns(event)
    return handle_http(function, event)
