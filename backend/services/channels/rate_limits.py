"""/admin/rate-limits: each channel's sender with the limit in force, the tokens its bucket holds now, and how
many sends it held back today; the limit changed in place, for the whole channel or for that sender alone.

The sender is the one the outbox keys the bucket by: the channel's delivery names it (`sender_id`) from our
origination identity (the registry's `sender()`), so email's bucket is SES's account and region, as the outbox
counts it. Limits are settings (backend/services/platform/settings_catalog.py), so a change is checked,
stored, audited and obeyed at once exactly as on /admin/config. Reading the page costs one BatchGetItem of the
buckets and today's counters (rate_limit.usages) and one of the limits' rows.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from backend.errors import ValidationError
from backend.models.messaging import MessageModel
from backend.services.channels.registry import REGISTRY
from backend.services.platform import rate_limit, settings_catalog
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiModel, ApiView
from backend.services.platform.validation import parse_input
from backend.services.rules.channels import CHANNEL_NAMES, Channel

SCOPES = ("channel", "sender")


class SenderLimit(ApiView):
    """One sender's row: its limit in force (its own, or its channel's), its bucket now, today's holds."""

    channel: str
    label: str
    sender: str  # the identity the bucket is counted for
    sender_note: str  # when we send as another identity (email: SES counts the account and region)
    per_second: float
    burst: float
    scope: str  # sender: its own limit | channel: the channel's
    limit_text: str
    available: float
    headroom: float  # 0-100: the share of the burst free now
    throttled_today: int
    channel_limit: settings_catalog.SettingView
    sender_limit: settings_catalog.SettingView
    can_edit: bool
    edit_reason: str


class RateLimitsView(ApiView):
    senders: list[SenderLimit]
    read_at: datetime


class LimitChange(ApiModel):
    """PUT /admin/rate-limits/{channel}: the new limit, for the channel or (with `sender`) that sender alone."""

    per_second: Any
    burst: Any = None
    sender: str | None = None


def bucket_sender(channel: Channel) -> tuple[str, str]:
    """The sender the outbox keys the channel's bucket by (its delivery's rule over our identity), and a note
    when that is not the identity we send as."""
    entry = REGISTRY[channel]
    identity = entry.sender()
    sender = entry.delivery().sender_id(MessageModel(channel=channel.value, sender=identity))
    note = "" if sender == identity else f"Sends as {identity}; the limit counts every send of {sender}, as the provider does."
    return sender, note


def rate_limits(actor: Actor) -> RateLimitsView:
    require(actor, Operation.CONFIG_MANAGE)
    senders = {channel: bucket_sender(channel) for channel in REGISTRY}
    pairs = [(channel, sender) for channel, (sender, _) in senders.items()]
    use = rate_limit.usages([(channel.value, sender) for channel, sender in pairs])
    settings = [setting for channel, sender in pairs
                for setting in (settings_catalog.setting_for(rate_limit.channel_key(channel.value)),
                                settings_catalog.setting_for(rate_limit.sender_key(channel.value, sender)))]
    shown = iter(settings_catalog.views(settings))
    rows = []
    for channel, sender in pairs:
        channel_view, sender_view = next(shown), next(shown)
        bucket = use[(channel.value, sender)]
        label = REGISTRY[channel].info.label
        rows.append(SenderLimit(
            channel=channel.value, label=label[:1].upper() + label[1:], sender=sender, sender_note=senders[channel][1],
            per_second=bucket.per_second, burst=bucket.burst,
            scope="sender" if sender_view.updated_at is not None else "channel",
            limit_text=rate_limit.describe(rate_limit.BucketConfig(bucket.per_second, bucket.burst)),
            available=round(bucket.available, 1), headroom=round(100 * bucket.headroom, 1),
            throttled_today=bucket.throttled_today, channel_limit=channel_view, sender_limit=sender_view,
            can_edit=channel_view.can_edit, edit_reason=channel_view.edit_reason,
        ))
    return RateLimitsView(senders=rows, read_at=datetime.now(timezone.utc))


def update_rate_limit(actor: Actor, channel: str, per_second: Any, burst: Any = None, sender: str | None = None) -> RateLimitsView:
    """A new limit for the channel, or for one of its senders (overriding the channel's): checked, stored and
    audited through the settings catalog (its field errors name `rateLimit.<channel>[.<sender>].perSecond`)."""
    require(actor, Operation.CONFIG_MANAGE)
    key = channel_key(channel)
    if sender is not None:
        key = rate_limit.sender_key(channel, settings_catalog.check_sender(sender))
    value = {"perSecond": per_second} | ({"burst": burst} if burst not in (None, "") else {})
    settings_catalog.update_setting(actor, key, value)
    return rate_limits(actor)


def change_rate_limit(actor: Actor, channel: str, body: dict | LimitChange) -> RateLimitsView:
    """The REST body form of `update_rate_limit`."""
    change = parse_input(LimitChange, body)
    return update_rate_limit(actor, channel, change.per_second, change.burst, change.sender)


def channel_key(channel: str) -> str:
    """The setting of a channel's limit; ValidationError (field `channel`) for a name that is not a channel."""
    if channel not in CHANNEL_NAMES:
        raise ValidationError("channel: one of " + ", ".join(CHANNEL_NAMES), field="channel")
    return rate_limit.channel_key(channel)


def reset_rate_limit(actor: Actor, channel: str, sender: str | None = None) -> RateLimitsView:
    """The channel's limit back to its default or, with `sender`, that sender back to the channel's limit
    (audited as a reset)."""
    require(actor, Operation.CONFIG_MANAGE)
    key = channel_key(channel)
    if sender is not None:
        key = rate_limit.sender_key(channel, settings_catalog.check_sender(sender))
    settings_catalog.reset_setting(actor, key)
    return rate_limits(actor)


def use_channel_limit(actor: Actor, channel: str, sender: str) -> RateLimitsView:
    """Drop a sender's own limit: it has its channel's again."""
    return reset_rate_limit(actor, channel, sender)
