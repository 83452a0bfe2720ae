"""Least privilege: which tables each function may touch, and how. A function not listed gets no table access.

Grants name the item-level actions on one table (reads also on its indexes), never `dynamodb:*` and never
Scan, which belongs to offline jobs only. When a service starts using another table, its functions' entry
here must change with it (the infra tests fail on a deployed function without one).
"""
from __future__ import annotations

from enum import Enum

from aws_cdk import Annotations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
WRITE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
APPEND_ACTIONS = ("dynamodb:PutItem",)  # the audit log: rows are added (alone or in a transaction), never changed


class TableAccess(Enum):
    READ = "read"
    WRITE = "write"  # transactions (TransactWriteItems) are authorised by these per-item actions
    READ_WRITE = "read_write"
    APPEND = "append"  # PutItem only: the AuditLog is append-only (its rows expire by TTL, never deleted by us)


_CONTACT_READER = {"Contact": TableAccess.READ}
# Contact writes claim/release the phone and email key rows in the same table and, in the same transaction,
# append an AuditLog row.
_CONTACT_WRITER = {"Contact": TableAccess.READ_WRITE, "AuditLog": TableAccess.APPEND}

R, W, RW, A = TableAccess.READ, TableAccess.WRITE, TableAccess.READ_WRITE, TableAccess.APPEND

# The send of SMS, email and voice (sms_send, email_send, voice_calls): the recipient (by id, or through its
# phone or email key row) and its conversation summary, the PENDING row with its audit row; outbox.deliver:
# the rate-limit bucket and its config (read only: these channels sync no catalogue), the row, dead letters;
# provider events: statuses, found by our id or by provider id (byProviderId).
_CHANNEL_SENDER = {
    "Contact": RW,
    "Message": RW,
    "AuditLog": A,
    "SystemConfig": R,
    "RateLimitTracker": RW,
    "DLQMessage": W,
    "BulkRecipient": W,  # a campaign's recipient follows its message (UpdateItem)
}

FUNCTION_TABLE_ACCESS: dict[str, dict[str, TableAccess]] = {
    "contacts-create": _CONTACT_WRITER,
    "contacts-read": _CONTACT_READER,
    "contacts-update": _CONTACT_WRITER,
    "contacts-delete": _CONTACT_WRITER,
    "contacts-search": _CONTACT_READER,
    # whatsapp_send: the recipient (and its conversation summary), the media file, the template catalogue, the
    # PENDING row with its audit row; outbox.deliver: the rate-limit bucket (its config), the row, dead letters.
    "outbound-whatsapp": {
        "Contact": RW,
        "Message": RW,
        "AuditLog": A,
        "MediaFile": R,
        "SystemConfig": RW,
        "RateLimitTracker": RW,
        "DLQMessage": W,
    },
    # inbound_whatsapp: the sender's contact (created, renamed, consent), the message, its media file, statuses
    # (byProviderId), consent confirmations queued as PENDING rows.
    "inbound-whatsapp-handler": {"Contact": RW, "AuditLog": A, "Message": RW, "MediaFile": W, "BulkRecipient": W},
    # messages: the conversation (its contact must be live), one message, the log (byDay); the team inbox's
    # views (byConversationStatus), the team's names (User), the labels and canned replies (SystemConfig).
    # + the message counters it keeps from the Message stream (message_stats.add_counts writes SystemConfig)
    "messages-read": {"Message": R, "Contact": R, "User": R, "SystemConfig": RW},
    # + the team inbox's changes: the conversation summary (assignee, status, labels) with its event row and
    # audit row, private notes, the label catalog and canned replies.
    "messages-delete": {"Message": RW, "AuditLog": A, "Contact": RW, "User": R, "SystemConfig": RW},
    # dlq: list, replay, discard; the schedule: outbox.sweep_stale (byPendingWork, dead letters) and media retries.
    # + a failed message sent again from the thread (the channel's send: its contact, the new PENDING row).
    "dlq-replay": {"DLQMessage": RW, "Message": RW, "AuditLog": A, "MediaFile": W, "Contact": RW, "SystemConfig": R,
                   "BulkRecipient": W},
    # bulk jobs and their recipients; the audience (Contact); each recipient's message queued through its
    # channel's send (Message, VoiceCall for a call, a WhatsApp media file's row); cancels a queued message.
    "bulk-job-control": {"BulkJob": RW, "BulkRecipient": RW, "Contact": R, "Message": RW, "AuditLog": A,
                         "SystemConfig": R, "MediaFile": R, "VoiceCall": W},
    # + inbound_sms: the sender's contact (created with its key row and audit row, or found), the text (exactly
    # once), STOP/START consent with its audit row, the replies queued as PENDING rows.
    "outbound-sms": _CHANNEL_SENDER,
    # + email_events: a hard bounce or complaint turns the owning contact's email consent off, audited.
    "outbound-email": _CHANNEL_SENDER,
    # + voice_calls/voice_delivery/voice_events: the call row is put with its message, then only updated
    # (conditional UpdateItem: status forward, provider id, reopened for a replay), never read.
    "outbound-voice": {**_CHANNEL_SENDER, "VoiceCall": W},
    # voice_calls: one call (GetItem), the log by day (byDay keys, then BatchGetItem) or by contact (byContact,
    # whose contact must be live).
    "voice-calls-read": {"VoiceCall": R, "Contact": R},
    # ai answers: each call is one AIInteraction row (PutItem); the AI settings (the prompt, the reply's closing
    # line) are SystemConfig reads; the conversation named is checked live (Contact). A suggestion reads the
    # customer's message and their name, and adds its reply text; its outcome is written with its audit row.
    "ai-query-kb": {"AIInteraction": W, "SystemConfig": R, "Contact": R},
    "ai-generate-response": {"AIInteraction": RW, "Message": R, "Contact": R, "SystemConfig": R, "AuditLog": A},
}

NO_TABLE_ACCESS_WARNING = "wecare:no-table-access"


def grant_table_access(functions: dict[str, lambda_.IFunction], tables: dict[str, dynamodb.ITable]) -> None:
    for name, function in functions.items():
        access = FUNCTION_TABLE_ACCESS.get(name)
        if access is None:
            Annotations.of(function).add_warning_v2(
                NO_TABLE_ACCESS_WARNING,
                f"{name} has no entry in infra/table_access.py FUNCTION_TABLE_ACCESS, so it may not use any table.",
            )
            continue
        for table_name, level in access.items():
            _grant(tables[table_name], function, level)


def _grant(table: dynamodb.ITable, function: lambda_.IFunction, level: TableAccess) -> None:
    if level in (TableAccess.READ, TableAccess.READ_WRITE):
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(READ_ACTIONS), resources=[table.table_arn, f"{table.table_arn}/index/*"])
        )
    if level in (TableAccess.WRITE, TableAccess.READ_WRITE):
        function.add_to_role_policy(iam.PolicyStatement(actions=list(WRITE_ACTIONS), resources=[table.table_arn]))
    if level is TableAccess.APPEND:
        function.add_to_role_policy(iam.PolicyStatement(actions=list(APPEND_ACTIONS), resources=[table.table_arn]))
