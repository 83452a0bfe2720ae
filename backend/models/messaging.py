"""Message, MediaFile and DLQMessage tables: the traffic of every channel and what failed to go out."""
from __future__ import annotations

from datetime import timedelta

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection

from backend.models.base import ExpiringModel, WecareModel

# Sparse `pendingWork` values: what is still to be done for a message (the crash-recovery sweeps).
PENDING_SEND = "send"  # an outbound message the provider has not accepted yet
PENDING_MEDIA = "media"  # an inbound message whose media could not be fetched yet


class StatusChange(MapAttribute):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    detail = UnicodeAttribute(null=True)


class MessageMedia(MapAttribute):
    """Media attached to a message: where it is stored, or why it is not (yet)."""

    kind = UnicodeAttribute()  # image | video | audio | document | sticker
    status = UnicodeAttribute()  # stored | pending | rejected
    providerMediaId = UnicodeAttribute(null=True)
    fileId = UnicodeAttribute(null=True)
    mimeType = UnicodeAttribute(null=True)
    sizeBytes = NumberAttribute(null=True)
    filename = UnicodeAttribute(null=True)
    caption = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    fetchAttempts = NumberAttribute(default=0)


class MessageByContact(GlobalSecondaryIndex):
    class Meta:
        index_name = "byContact"
        projection = AllProjection()

    contactId = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


class MessageByProviderId(GlobalSecondaryIndex):
    class Meta:
        index_name = "byProviderId"
        projection = KeysOnlyProjection()

    providerMessageId = UnicodeAttribute(hash_key=True)


class MessageByDay(GlobalSecondaryIndex):
    """The message log and its search: every message of a day, newest first, with what a search reads (the
    text, the address, the error) and the two filters that never change. The log searches this index, not the
    rows; `status` is left out, so a status change rewrites the entry only when it records an error."""

    class Meta:
        index_name = "byDay"
        projection = IncludeProjection(["channel", "direction", "body", "address", "errorCode", "errorMessage"])

    day = UnicodeAttribute(hash_key=True)  # YYYY-MM-DD (UTC)
    createdAt = UTCDateTimeAttribute(range_key=True)


class MessageByStatus(GlobalSecondaryIndex):
    """The log filtered by status, newest first. Keyed by `status` itself, so every writer of a status keeps it
    right without knowing it exists; a status change moves the entry (DynamoDB rewrites it)."""

    class Meta:
        index_name = "byStatus"
        projection = IncludeProjection(["channel", "direction"])  # status with a channel/direction filter too

    status = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


class MessageByChannel(GlobalSecondaryIndex):
    """The log filtered by channel, newest first (written once: a message never changes channel)."""

    class Meta:
        index_name = "byChannel"
        projection = IncludeProjection(["direction"])

    channel = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


class MessageByDirection(GlobalSecondaryIndex):
    """The log filtered by direction, newest first (written once)."""

    class Meta:
        index_name = "byDirection"
        projection = KeysOnlyProjection()

    direction = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


class MessageByPendingWork(GlobalSecondaryIndex):
    """Messages with work left (a send, a media fetch), oldest first."""

    class Meta:
        index_name = "byPendingWork"
        projection = KeysOnlyProjection()

    pendingWork = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


class MessageModel(ExpiringModel):
    short_name = "Message"
    retention = timedelta(days=30)

    class Meta(ExpiringModel.Meta):
        # The live feed (every browser hears about every write) reads the new image; the message counters
        # (services/analytics/counters.py) count each write as the difference between its old and new image.
        stream_view_type = "NEW_AND_OLD_IMAGES"

    messageId = UnicodeAttribute(hash_key=True)
    contactId = UnicodeAttribute(null=True)
    channel = UnicodeAttribute()  # whatsapp | sms | email | voice
    direction = UnicodeAttribute()  # inbound | outbound
    kind = UnicodeAttribute(default="text")  # text | image | … | template | reaction | unknown
    status = UnicodeAttribute()
    body = UnicodeAttribute(null=True)  # the text, or a readable summary of a non-text message
    subject = UnicodeAttribute(null=True)  # email
    segments = NumberAttribute(null=True)  # SMS parts billed
    payload = JSONAttribute(null=True)  # outbound: the send request; inbound: the provider's message
    media = MessageMedia(null=True)
    address = UnicodeAttribute(null=True)  # the customer's phone/email on this message
    sender = UnicodeAttribute(null=True)  # our origination identity (phone number id, email, …)
    providerMessageId = UnicodeAttribute(null=True)
    replyTo = UnicodeAttribute(null=True)  # provider id of the message this one answers or reacts to
    statusHistory = ListAttribute(of=StatusChange, default=list)
    errorCode = UnicodeAttribute(null=True)
    errorMessage = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    createdBy = UnicodeAttribute(null=True)
    createdAt = UTCDateTimeAttribute()
    updatedAt = UTCDateTimeAttribute()
    queuedAt = UTCDateTimeAttribute(null=True)  # a person's replay queues it afresh: its send-by counts from here
    retriedAs = UnicodeAttribute(null=True)  # a failed message sent again from the thread: the new message's id
    jobId = UnicodeAttribute(null=True)  # a campaign's message: its BulkRecipient row (jobId, contactId) follows it
    heldUntil = UTCDateTimeAttribute(null=True)  # a campaign's message waiting out quiet hours: not stale before then
    responseSeconds = NumberAttribute(null=True)  # a person's reply: seconds since the customer began waiting
    day = UnicodeAttribute()
    pendingWork = UnicodeAttribute(null=True)

    by_contact = MessageByContact()
    by_provider_id = MessageByProviderId()
    by_day = MessageByDay()
    by_status = MessageByStatus()
    by_channel = MessageByChannel()
    by_direction = MessageByDirection()
    by_pending_work = MessageByPendingWork()


# Kinds of the rows in a conversation's timeline that are not messages (TimelineEntryModel).
NOTE = "note"
EVENT = "event"
TIMELINE_KINDS = frozenset({NOTE, EVENT})


class TimelineEntryModel(ExpiringModel):
    """A private note or a conversation event (assigned, resolved, …) in a contact's timeline. It lives in the
    Message table so the thread reads it with the messages (byContact) and every open page hears of it on the
    table's stream, but it has no channel, direction, status or day: it is in no other index, never sent,
    never counted and never in the message log. Read back through MessageModel (same attributes), told apart
    by `kind`; what it says beyond its text is in `payload` (author, action, before/after)."""

    short_name = "Message"
    retention = timedelta(days=30)  # events follow the messages; notes are kept (no expiry stamped)

    class Meta(ExpiringModel.Meta):
        pass

    messageId = UnicodeAttribute(hash_key=True)
    contactId = UnicodeAttribute()
    kind = UnicodeAttribute()  # note | event
    body = UnicodeAttribute(null=True)
    payload = JSONAttribute(null=True)
    createdBy = UnicodeAttribute(null=True)
    createdAt = UTCDateTimeAttribute()
    updatedAt = UTCDateTimeAttribute()


class MediaByContact(GlobalSecondaryIndex):
    class Meta:
        index_name = "byContact"
        projection = AllProjection()

    contactId = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


# The one partition of the media library's index (`MediaFileModel.libraryPartition`).
LIBRARY_PARTITION = "LIBRARY"
# The knowledge base's documents (services/ai/knowledge_base.py) are files too, listed in the same index under
# their own partition: never in the media library, never sent.
KNOWLEDGE_PARTITION = "KNOWLEDGE"


class MediaByLibrary(GlobalSecondaryIndex):
    """The media library, newest first: one partition, sparse (a file is in it while it carries
    `libraryPartition`). It projects what the library's filters test (kind, source, the folded name), so a
    filtered page reads only the index; the page's rows are then read by key (their uses change, the index
    entry never does)."""

    class Meta:
        index_name = "byLibrary"
        projection = IncludeProjection(["kind", "source", "nameKey"])

    libraryPartition = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


class MediaFileModel(WecareModel):
    short_name = "MediaFile"

    class Meta(WecareModel.Meta):
        pass

    fileId = UnicodeAttribute(hash_key=True)
    contactId = UnicodeAttribute(null=True)
    messageId = UnicodeAttribute(null=True)
    mimeType = UnicodeAttribute()
    sizeBytes = NumberAttribute()
    storageKey = UnicodeAttribute()
    filename = UnicodeAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="stored")
    createdAt = UTCDateTimeAttribute()
    # The library (services/media/library.py): written once, when the file is stored.
    libraryPartition = UnicodeAttribute(null=True)  # LIBRARY_PARTITION: listed in byLibrary
    kind = UnicodeAttribute(null=True)  # image | video | audio | document | sticker
    source = UnicodeAttribute(null=True)  # upload (an operator's) | inbound (a customer sent it)
    nameKey = UnicodeAttribute(null=True)  # the file name case-folded, for the library's search
    uploadedBy = UnicodeAttribute(null=True)  # the user who uploaded it
    # Where it is used (services/media/uses.py): the messages and campaigns that carry it, by message id or
    # "job:<jobId>", each {"kind", "contactId", "channel", "jobId", "at", "until"}; at most MAX_LISTED_USES, the
    # oldest beyond that counted in `moreUses` and covered by `moreUsesUntil`. `useCount` counts every write,
    # so a delete conditioned on it loses to a send that recorded a use meanwhile.
    uses = MapAttribute(null=True)
    useCount = NumberAttribute(null=True)
    moreUses = NumberAttribute(null=True)
    moreUsesUntil = UTCDateTimeAttribute(null=True)
    # A knowledge-base document (libraryPartition KNOWLEDGE_PARTITION): its title and indexing state.
    title = UnicodeAttribute(null=True)
    kbStatus = UnicodeAttribute(null=True)  # queued | indexing | indexed | failed
    kbError = UnicodeAttribute(null=True)  # why it failed, in words for the page
    kbPassages = NumberAttribute(null=True)
    kbVersion = NumberAttribute(null=True)  # +1 each time it is queued; an indexer finishes only its own version
    kbIndexedAt = UTCDateTimeAttribute(null=True)

    by_contact = MediaByContact()
    by_library = MediaByLibrary()


class DLQByQueue(GlobalSecondaryIndex):
    class Meta:
        index_name = "byQueue"
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    failedAt = UTCDateTimeAttribute(range_key=True)


class DLQMessageModel(ExpiringModel):
    """One row per message that exhausted its retries; keyed by message, so replays accumulate on it."""

    short_name = "DLQMessage"
    retention = timedelta(days=7)

    class Meta(ExpiringModel.Meta):
        pass

    dlqId = UnicodeAttribute(hash_key=True)
    queue = UnicodeAttribute()  # the send queue: whatsapp | sms | email | voice
    messageId = UnicodeAttribute(null=True)
    contactId = UnicodeAttribute(null=True)
    payload = JSONAttribute()
    error = UnicodeAttribute()
    errorCode = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    replayCount = NumberAttribute(default=0)
    state = UnicodeAttribute(default="waiting")  # waiting | replayed | delivered | discarded
    lastReplayAt = UTCDateTimeAttribute(null=True)
    lastReplayBy = UnicodeAttribute(null=True)
    failedAt = UTCDateTimeAttribute()

    by_queue = DLQByQueue()
