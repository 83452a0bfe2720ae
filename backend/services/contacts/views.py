"""A contact as the UI and the API see it: its row mapped to the `Contact` view, with each channel's verdict from
the one rule function the send services run (so no page works a rule out again)."""
from __future__ import annotations

from datetime import datetime

from backend.models.base import utcnow
from backend.models.contact import ContactModel
from backend.services.contacts.schemas import CHANNELS, ChannelStatus, ConsentState, Contact
from backend.services.rules.channels import CHANNELS as CATALOG
from backend.services.rules.consent import consent_state, reason_of, send_refusal, window_closes_at


def to_contact(row: ContactModel) -> Contact:
    consent = {}
    for channel in CHANNELS:
        record = getattr(row.consent, channel, None) if row.consent else None
        if record is not None:
            consent[channel] = ConsentState(opted_in=record.optedIn, at=record.at, source=record.source)
    return Contact(
        contact_id=row.contactId,
        name=row.name,
        phone=row.phone,
        email=row.email,
        opt_in_whatsapp=bool(row.optInWhatsApp),
        opt_in_sms=bool(row.optInSms),
        opt_in_email=bool(row.optInEmail),
        opt_in_voice=bool(row.optInVoice),
        consent=consent,
        tags=sorted(row.tags or ()),
        last_inbound_at=row.lastInboundAt,
        created_at=row.createdAt,
        updated_at=row.updatedAt,
        created_via=row.createdVia,
        channels=channel_statuses(row, utcnow()),
        window_closes_at=window_closes_at(row.lastInboundAt),
    )


def channel_statuses(row: ContactModel, now: datetime) -> dict[str, ChannelStatus]:
    """Each channel's verdict for the contact, from the one rule function the send services run."""
    statuses = {}
    for info in CATALOG.values():
        address = row.email if info.address == "email" else row.phone
        opted_out = consent_state(row, info.channel).opted_out
        if not address:
            missing = "no email address" if info.address == "email" else "no phone number"
            statuses[info.channel.value] = ChannelStatus(opted_out=opted_out, reason=missing)
            continue
        business = send_refusal(row, info.channel, now=now, free_form=False)
        reply = send_refusal(row, info.channel, now=now, free_form=True)
        first = business or reply
        statuses[info.channel.value] = ChannelStatus(
            opted_out=opted_out, can_send=business is None, can_reply=reply is None,
            reason=reason_of(first) if first is not None else None,
        )
    return statuses
