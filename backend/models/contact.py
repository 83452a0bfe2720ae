"""Contact table: people, consent per channel, and the unique-key rows that keep phone and email unique.

A live contact carries the sparse index attributes (`nameBucket`/`nameSort`, `listPartition`);
soft delete removes them, so a deleted contact drops out of every index at once.
Unique keys live in the same table under `contactId = "phone#<e164>"` / `"email#<addr>"`, written
in the same transaction as the contact, so two concurrent creates cannot both win. The customer's opt-outs
live there too, keyed by the address (`"suppress#<channel>#<address>"`): consent belongs to the address, so
an opt-out outlives the contact that received it (see `services/contacts/address_consent.py`).
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    MapAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from backend.models.base import WecareModel

LIVE_PARTITION = "LIVE"


class ContactByName(GlobalSecondaryIndex):
    class Meta:
        index_name = "byName"
        projection = KeysOnlyProjection()  # rows are fetched by key: conversation updates never rewrite it

    nameBucket = UnicodeAttribute(hash_key=True)
    nameSort = UnicodeAttribute(range_key=True)


class ContactByCreated(GlobalSecondaryIndex):
    class Meta:
        index_name = "byCreated"
        projection = KeysOnlyProjection()  # rows are fetched by key: conversation updates never rewrite it

    listPartition = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


class ContactByConversationStatus(GlobalSecondaryIndex):
    """The team inbox: the conversations in one status (open, pending, snoozed, resolved), most recent activity
    first. Sparse: a contact that never had a conversation has no status. (It replaced `byActivity`, one
    partition of every conversation: a message now rewrites one index entry, not two.)"""

    class Meta:
        index_name = "byConversationStatus"
        projection = AllProjection()

    conversationStatus = UnicodeAttribute(hash_key=True)
    lastActivityAt = UTCDateTimeAttribute(range_key=True)


class ConsentRecord(MapAttribute):
    """When and how a channel's consent was last given or withdrawn."""

    at = UTCDateTimeAttribute()
    source = UnicodeAttribute()
    optedIn = BooleanAttribute()
    providerId = UnicodeAttribute(null=True)  # the provider's id of the customer's message that made it (STOP/START)


class ChannelConsents(MapAttribute):
    whatsapp = ConsentRecord(null=True)
    sms = ConsentRecord(null=True)
    email = ConsentRecord(null=True)
    voice = ConsentRecord(null=True)


class ContactModel(WecareModel):
    short_name = "Contact"

    class Meta(WecareModel.Meta):
        pass

    contactId = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    optInWhatsApp = BooleanAttribute(default=False)
    optInSms = BooleanAttribute(default=False)
    optInEmail = BooleanAttribute(default=False)
    optInVoice = BooleanAttribute(default=False)
    consent = ChannelConsents(default=dict)
    tags = UnicodeSetAttribute(null=True)
    lastInboundAt = UTCDateTimeAttribute(null=True)  # the customer's last WhatsApp message: it opens the 24-hour window
    createdAt = UTCDateTimeAttribute()
    updatedAt = UTCDateTimeAttribute()
    createdBy = UnicodeAttribute(null=True)
    createdVia = UnicodeAttribute(null=True)
    # Made by a CSV import: {importId, file, line, fields, by, role}: the contact's history reads its import here
    # (one audit row per import chunk lists the chunk's contacts; none per contact).
    imported = JSONAttribute(null=True)
    deletedAt = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()

    nameBucket = UnicodeAttribute(null=True)
    nameSort = UnicodeAttribute(null=True)
    listPartition = UnicodeAttribute(null=True)

    # The conversation summary the inbox lists (written by the messaging pipeline, not by contact edits).
    lastActivityAt = UTCDateTimeAttribute(null=True)
    lastPreview = UnicodeAttribute(null=True)
    lastChannel = UnicodeAttribute(null=True)
    lastDirection = UnicodeAttribute(null=True)
    unreadCount = NumberAttribute(null=True)
    awaitingSince = UTCDateTimeAttribute(null=True)  # the customer's oldest message not yet answered by a person
    # Who owns the conversation and where it stands (services/messaging/conversations.py): a customer's message
    # re-opens it (and wakes a snoozed one); an outbound message leaves it as it is (a new one starts open).
    conversationStatus = UnicodeAttribute(null=True)  # open | pending | snoozed | resolved
    assigneeId = UnicodeAttribute(null=True)  # a User's id
    snoozedUntil = UTCDateTimeAttribute(null=True)
    labels = UnicodeSetAttribute(null=True)
    failedMessageId = UnicodeAttribute(null=True)  # the newest outbound message failed (cleared by the next send)

    by_name = ContactByName()
    by_created = ContactByCreated()
    by_conversation_status = ContactByConversationStatus()


class ContactUniqueKey(WecareModel):
    """A row keyed by an address (same table as ContactModel): a live contact's claim on a phone number or
    email (`ownerId`), or the customer's opt-out of one channel on it (`record`, with `ownerId` the contact
    that received it). A suppression is not a claim: it stays when the contact is deleted or renumbered."""

    short_name = "Contact"

    class Meta(WecareModel.Meta):
        pass

    contactId = UnicodeAttribute(hash_key=True)  # "phone#+447700900123", "email#ann@example.com", "suppress#sms#+44…"
    ownerId = UnicodeAttribute()
    record = ConsentRecord(null=True)  # a suppression's opt-out record, as the customer made it

    @staticmethod
    def key_for(kind: str, value: str) -> str:
        return f"{kind}#{value}"

    @staticmethod
    def suppression_key(channel: str, address: str) -> str:
        """The key of the customer's opt-out of `channel` (a consent record's name) on `address`."""
        return f"suppress#{channel}#{address}"
