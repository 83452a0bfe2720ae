"""The route table: every REST route, the Lambda function that serves it in AWS, its endpoint, and what the
OpenAPI document says about it (backend/api/openapi.py reads nothing else)."""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from backend.api import (
    ai_api, audit_api, bulk_api, config_api, contacts_api, conversations_api, email_api, media_api, messaging_api, sms_api, users_api,
    voice_api,
)
from backend.api.api_shapes import DlqActionBody, DlqResults, list_of, log_page_of, page_of
from backend.api.http import Endpoint
from backend.services.ai import answers as ai_answers, interactions as ai_interactions, knowledge_base
from backend.services.campaigns.jobs import JOB_STATUSES, RECIPIENT_STATUSES, BulkJob, JobChange, JobCreate, Recipient
from backend.services.channels.email.send import EmailSend
from backend.services.channels.rate_limits import LimitChange, RateLimitsView
from backend.services.channels.sms.send import SmsSend
from backend.services.channels.voice.calls import VoiceCall, VoiceCallRequest
from backend.services.channels.whatsapp.send import WhatsAppSend
from backend.services.contacts.schemas import Contact, ContactCreate, ContactUpdate
from backend.services.media import library
from backend.services.messaging.dlq import DeadLetter
from backend.services.messaging.log import LogEntry
from backend.services.channels.reply import ReplyOptions
from backend.services.messaging.conversations import VIEWS, Assignment, InboxPage, LabelsChange, NoteRequest, StatusChange
from backend.services.messaging.inbox_settings import CannedReplies, CannedReplyView, LabelCatalog, LabelView
from backend.services.messaging.schemas import Conversation, Message, TimelineEntry
from backend.services.platform.access import Operation as Op
from backend.services.platform.audit_log import AuditEntryDetail, AuditPage
from backend.services.platform.settings_catalog import SettingView
from backend.services.platform.user_admin import IssuedPassword, ManagedUser, UserChange, UserInvite, UserList
from backend.services.rules.channels import Channel


@dataclass(frozen=True)
class Param:
    """A query parameter, as OpenAPI declares it."""

    name: str
    description: str
    kind: str = "string"  # string | integer | date
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()


# The function of a route the app tier serves alone, under its /api (locally `reflex run`; in AWS the web
# service): administration and the media library, whose pages are the app's. They keep the API's shape, roles
# and OpenAPI description; API Gateway and the 17 functions do not carry them.
APP = "web"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway style: "/contacts/{contactId}"
    function: str  # the Lambda function (folder under lambdas/) that serves it in AWS
    endpoint: Endpoint
    requires: Op  # checked by both doors before the body is read or the query parsed (the service checks again)
    summary: str = ""
    success: tuple[int, ...] = (200,)
    request_model: type[BaseModel] | None = None  # the JSON body, when the route takes one
    response_model: type[BaseModel] | None = None  # the success body (None: no body, 204)
    query: tuple[Param, ...] = ()
    idempotent: bool = False  # honours an Idempotency-Key header (a retried send sends nothing new)
    media_type: str = "application/json"  # the success body's type (text/csv: a download)

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


def _limit(default: int, most: int) -> Param:
    return Param("limit", f"Page size (default {default}).", "integer", 1, most)


_NEXT = Param("nextToken", "The cursor of the next page, from the previous page's nextToken.")
_DAY = Param("day", "A day, YYYY-MM-DD (the log is read a day at a time, newest first, from this day back).", "date")
_CONTACT = Param("contactId", "Only this contact's items.")
_CHANNELS = tuple(channel.value for channel in Channel)
_SEND = {"requires": Op.MESSAGES_SEND, "success": (202,), "idempotent": True}
_AUDIT_FILTERS = (Param("user", "Only this user's entries: an email or a user id."),
                  Param("action", "Actions starting with this (contact. finds every contact action)."),
                  Param("resourceType", "Only this resource type (e.g. contact)."),
                  Param("resourceId", "Only this resource (needs resourceType)."),
                  Param("start", "From this day (default: 6 days before end; at most 180 days back).", "date"),
                  Param("end", "To this day (default: today, UTC).", "date"))

ROUTES: tuple[Route, ...] = (
    Route("POST", "/contacts", "contacts-create", contacts_api.create, Op.CONTACTS_WRITE, "Create a contact",
          (201,), ContactCreate, Contact),
    Route("GET", "/contacts/{contactId}", "contacts-read", contacts_api.read, Op.CONTACTS_READ, "Read a contact",
          response_model=Contact),
    Route("PUT", "/contacts/{contactId}", "contacts-update", contacts_api.update, Op.CONTACTS_WRITE,
          "Update a contact (only the fields present change)", request_model=ContactUpdate, response_model=Contact),
    Route("DELETE", "/contacts/{contactId}", "contacts-delete", contacts_api.delete, Op.CONTACTS_DELETE,
          "Delete a contact", (204,)),
    Route("GET", "/contacts", "contacts-search", contacts_api.search, Op.CONTACTS_READ,
          "Search contacts (exact email or phone, else name prefix; newest first without q)",
          response_model=page_of(Contact), query=(Param("q", "Email, phone or the start of a name."), _limit(25, 100), _NEXT)),
    Route("POST", "/whatsapp/send", "outbound-whatsapp", messaging_api.send_whatsapp, summary="Send a WhatsApp message",
          request_model=WhatsAppSend, response_model=Message, **{**_SEND, "success": (200, 202)}),
    Route("POST", "/sms/send", "outbound-sms", sms_api.send_sms, summary="Send an SMS",
          request_model=SmsSend, response_model=Message, **_SEND),
    Route("POST", "/email/send", "outbound-email", email_api.send_email, summary="Send an email",
          request_model=EmailSend, response_model=Message, **_SEND),
    Route("POST", "/voice/call", "outbound-voice", voice_api.place_call, summary="Place a voice call that reads a text",
          request_model=VoiceCallRequest, response_model=VoiceCall, **_SEND),
    Route("GET", "/voice/calls", "voice-calls-read", voice_api.list_calls, Op.VOICE_READ, "The call log",
          response_model=page_of(VoiceCall),
          query=(_CONTACT, Param("status", "Only calls in this status."), _DAY, _limit(50, 200), _NEXT)),
    Route("GET", "/voice/calls/{callId}", "voice-calls-read", voice_api.get_call, Op.VOICE_READ, "Read a call",
          response_model=VoiceCall),
    Route("GET", "/messages", "messages-read", messaging_api.list_messages, Op.MESSAGES_READ,
          "The message log, or one contact's conversation (with contactId)", response_model=log_page_of(LogEntry),
          query=(_CONTACT, _DAY, Param("channel", "Only this channel.", choices=_CHANNELS),
                 Param("direction", "Only this direction.", choices=("inbound", "outbound")),
                 Param("status", "Only messages in this status."),
                 Param("q", "Text the message contains (a request searches at most 1,000 messages: `truncated` with a"
                            " `nextToken` searches on)."),
                 _limit(50, 200), _NEXT)),
    Route("GET", "/messages/{messageId}", "messages-read", messaging_api.read_message, Op.MESSAGES_READ,
          "Read a message", response_model=Message),
    Route("DELETE", "/messages/{messageId}", "messages-delete", messaging_api.delete_message, Op.MESSAGES_DELETE,
          "Delete a message", (204,)),
    Route("GET", "/dlq", "dlq-replay", messaging_api.list_dlq, Op.DLQ_MANAGE, "The dead-letter queue",
          response_model=list_of(DeadLetter),
          query=(Param("queue", "Only this channel's queue.", choices=_CHANNELS),
                 Param("errorCode", "Only entries with this error code."),
                 Param("olderThanMinutes", "Only entries that failed at least this long ago.", "integer", 0),
                 Param("state", "Entries in this state (default waiting; empty: any)."),
                 _limit(100, 500))),
    Route("POST", "/dlq/replay", "dlq-replay", messaging_api.replay_dlq, Op.DLQ_MANAGE,
          "Replay or discard dead letters", request_model=DlqActionBody, response_model=DlqResults),
    # The team inbox: reads are messages-read's; a conversation's changes and the inbox settings are written by
    # messages-delete, the function that already writes messages with their audit rows.
    Route("GET", "/conversations", "messages-read", conversations_api.team_inbox, Op.MESSAGES_READ,
          "One view of the team inbox, with every view's count", response_model=InboxPage,
          query=(Param("view", "Which conversations (default all: the open and pending ones).", choices=VIEWS),
                 Param("q", "Name, phone or email contains."), Param("channel", "Last message on this channel.", choices=_CHANNELS),
                 Param("label", "Only conversations with this label."), Param("unread", "true: only unread ones.", choices=("true", "false")),
                 _limit(50, 200))),
    Route("GET", "/conversations/{contactId}/reply-options", "messages-read", conversations_api.reply_options, Op.MESSAGES_READ,
          "The channels a reply can go out on, the one to start on, and an email reply's thread", response_model=ReplyOptions),
    Route("PUT", "/conversations/{contactId}/assignee", "messages-delete", conversations_api.assign, Op.MESSAGES_SEND,
          "Assign the conversation (assigneeId null: to nobody)", request_model=Assignment, response_model=Conversation),
    Route("PUT", "/conversations/{contactId}/status", "messages-delete", conversations_api.set_status, Op.MESSAGES_SEND,
          "Open, pending, resolve or snooze the conversation", request_model=StatusChange, response_model=Conversation),
    Route("PUT", "/conversations/{contactId}/labels", "messages-delete", conversations_api.set_labels, Op.MESSAGES_SEND,
          "The conversation's labels", request_model=LabelsChange, response_model=Conversation),
    Route("POST", "/conversations/{contactId}/notes", "messages-delete", conversations_api.add_note, Op.MESSAGES_SEND,
          "A private note in the thread (never sent)", (201,), request_model=NoteRequest, response_model=TimelineEntry),
    Route("POST", "/messages/{messageId}/retry", "dlq-replay", conversations_api.retry_message, Op.MESSAGES_SEND,
          "Send a failed message again, once, as a new message (the rules are checked afresh)", (202,),
          response_model=Message),
    Route("GET", "/inbox/labels", "messages-read", conversations_api.list_labels, Op.MESSAGES_READ,
          "The label catalog", response_model=list_of(LabelView)),
    Route("PUT", "/inbox/labels", "messages-delete", conversations_api.save_labels, Op.CONFIG_MANAGE,
          "Replace the label catalog (Admin)", request_model=LabelCatalog, response_model=list_of(LabelView)),
    Route("GET", "/inbox/canned-replies", "messages-read", conversations_api.list_canned_replies, Op.MESSAGES_READ,
          "The canned replies", response_model=list_of(CannedReplyView),
          query=(Param("channel", "Only those that suit this channel.", choices=_CHANNELS),)),
    Route("PUT", "/inbox/canned-replies", "messages-delete", conversations_api.save_canned_replies, Op.CONFIG_MANAGE,
          "Replace the canned replies (Admin)", request_model=CannedReplies, response_model=list_of(CannedReplyView)),
    # Bulk campaigns: one function, the same roles on every route (Viewer reads, Operator and Admin act).
    Route("POST", "/bulk/jobs", "bulk-job-control", bulk_api.create, Op.BULK_WRITE,
          "Create a campaign (409 CONFIRMATION_REQUIRED with the count when it is large and not confirmed)", (201,),
          JobCreate, BulkJob),
    Route("GET", "/bulk/jobs", "bulk-job-control", bulk_api.list_jobs, Op.BULK_READ, "Campaigns, newest first",
          response_model=page_of(BulkJob),
          query=(Param("status", "Only campaigns in this status (pages need one).", choices=JOB_STATUSES), _limit(25, 100), _NEXT)),
    Route("GET", "/bulk/jobs/{jobId}", "bulk-job-control", bulk_api.read, Op.BULK_READ,
          "A campaign: status, counts per recipient status, rate and ETA", response_model=BulkJob),
    Route("PUT", "/bulk/jobs/{jobId}", "bulk-job-control", bulk_api.change, Op.BULK_WRITE,
          "Pause, resume, cancel, or retry the failed recipients (409 when the job's state does not allow it)",
          request_model=JobChange, response_model=BulkJob),
    Route("DELETE", "/bulk/jobs/{jobId}", "bulk-job-control", bulk_api.delete, Op.BULK_WRITE,
          "Delete a finished or cancelled campaign and its recipients", (204,)),
    Route("GET", "/bulk/jobs/{jobId}/recipients", "bulk-job-control", bulk_api.recipients, Op.BULK_READ,
          "A campaign's recipients with their status, message and error", response_model=page_of(Recipient),
          query=(Param("status", "Only recipients in this status.", choices=RECIPIENT_STATUSES), _limit(50, 200), _NEXT)),
    # User administration (Admins), served by the app.
    Route("GET", "/admin/users", APP, users_api.list_users, Op.USERS_MANAGE,
          "The team's accounts, with what the caller may do to each and why not", response_model=UserList,
          query=(Param("q", "Email or name contains (any case)."),)),
    Route("POST", "/admin/users", APP, users_api.invite, Op.USERS_MANAGE,
          "Invite a user: the one-time password is in this answer, once (delivery show)", (201,), UserInvite, IssuedPassword),
    Route("PUT", "/admin/users/{userId}", APP, users_api.change, Op.USERS_MANAGE,
          "Change the role, disable (every open session ends at once) or enable", request_model=UserChange,
          response_model=ManagedUser),
    Route("POST", "/admin/users/{userId}/reset-password", APP, users_api.reset_password, Op.USERS_MANAGE,
          "A new one-time password, in this answer once; every open session ends", response_model=IssuedPassword),
)
ROUTES += (
    # The audit log (Admins), served by the app; `export` before `{entryId}` (matched in order).
    Route("GET", "/admin/audit", APP, audit_api.search, Op.AUDIT_READ,
          "The audit log, newest first (a request reads at most 1,000 entries and 31 days: `truncated` with a "
          "`nextToken` searches on)", response_model=AuditPage, query=(*_AUDIT_FILTERS, _limit(50, 200), _NEXT)),
    Route("GET", "/admin/audit/export", APP, audit_api.export, Op.AUDIT_READ,
          "The filtered audit log as CSV (the export is audited)", media_type="text/csv",
          query=(*_AUDIT_FILTERS, Param("maxRows", "At most this many rows (default 10,000).", "integer", 1, 10_000))),
    Route("GET", "/admin/audit/{entryId}", APP, audit_api.read_entry, Op.AUDIT_READ,
          "One audit entry with its before/after", response_model=AuditEntryDetail),
)
ROUTES += (
    # The media library, served by the app (`/api/media/{fileId}` itself is the signed link the pages use).
    Route("GET", "/media/files", APP, media_api.list_files, Op.MEDIA_READ,
          "The media library, newest first (a request reads at most 1,000 index entries: `truncated` with a "
          "`nextToken` reads on)", response_model=library.LibraryPage,
          query=(Param("kind", "Only files of this kind.", choices=library.KINDS),
                 Param("source", "Only uploaded files, or only those customers sent.", choices=library.SOURCES),
                 Param("q", "Part of the file name (any case)."), _limit(24, library.PAGE_MAX), _NEXT)),
    Route("POST", "/media/files", APP, media_api.upload, Op.MEDIA_WRITE,
          "Upload a file to send (the body is the file, its Content-Type the file's type; up to 256 KB here)", (201,),
          response_model=library.LibraryFile, query=(Param("filename", "The file's name."),)),
    Route("GET", "/media/files/{fileId}", APP, media_api.read, Op.MEDIA_READ,
          "A file: where it is used, a preview link and a download link (five minutes)",
          response_model=library.LibraryFileDetail),
    Route("DELETE", "/media/files/{fileId}", APP, media_api.delete, Op.MEDIA_WRITE,
          "Delete a file no message or campaign holds (409 naming the uses otherwise)", (204,)),
)
ROUTES += (
    # Settings and rate limits (Admins), served by the app. A sender's own limit goes through /admin/rate-limits
    # (sender ids can hold "/").
    Route("GET", "/admin/config", APP, config_api.list_settings, Op.CONFIG_MANAGE,
          "Every setting with its value in force, default, who changed it last and whether it can be changed here",
          response_model=config_api.SettingList),
    Route("GET", "/admin/config/{key}/history", APP, config_api.setting_history, Op.CONFIG_MANAGE,
          "A setting's changes, newest first (from the audit log)", response_model=config_api.SettingHistory,
          query=(_limit(50, 50),)),
    Route("PUT", "/admin/config/{key}", APP, config_api.update_setting, Op.CONFIG_MANAGE,
          "Change a setting: checked (422 names the field), audited with before/after, in force from the next read",
          request_model=config_api.SettingValue, response_model=SettingView),
    Route("DELETE", "/admin/config/{key}", APP, config_api.reset_setting, Op.CONFIG_MANAGE,
          "Put a setting back to its default (audited)", response_model=SettingView),
    Route("GET", "/admin/rate-limits", APP, config_api.list_rate_limits, Op.CONFIG_MANAGE,
          "Each channel's sender: its limit in force, the tokens free now, the sends held back today",
          response_model=RateLimitsView),
    Route("PUT", "/admin/rate-limits/{channel}", APP, config_api.change_rate_limit, Op.CONFIG_MANAGE,
          "A new limit for the channel or, with `sender`, for that sender alone (in force from the next send)",
          request_model=LimitChange, response_model=RateLimitsView),
    Route("DELETE", "/admin/rate-limits/{channel}", APP, config_api.reset_rate_limit, Op.CONFIG_MANAGE,
          "The channel's limit back to its default or, with `sender`, that sender back to the channel's limit",
          response_model=RateLimitsView, query=(Param("sender", "A sender with its own limit."),)),
)
ROUTES += (
    # AI answers: the two functions of their own, then what the app serves (the log and the documents).
    Route("POST", "/ai/query", "ai-query-kb", ai_api.query, Op.AI_READ,
          "An answer from the knowledge base with the passages it came from (the knowledge base's own words; "
          "`answered` false when it has no answer)", request_model=ai_answers.AiQuery, response_model=ai_answers.AiAnswer),
    Route("POST", "/ai/generate", "ai-generate-response", ai_api.generate, Op.AI_USE,
          "A suggested reply to a customer's message, with citations; it always requires a person's approval "
          "(nothing is sent)", request_model=ai_answers.AiGenerate, response_model=ai_answers.AiSuggestion),
    Route("POST", "/ai/interactions/{interactionId}/outcome", "ai-generate-response", ai_api.outcome, Op.AI_USE,
          "What became of a suggestion: approved as is, edited then sent, or rejected (once)",
          request_model=ai_interactions.OutcomeRequest, response_model=ai_interactions.Interaction),
    Route("GET", "/ai/interactions", APP, ai_api.list_interactions, Op.AI_READ,
          "The AI interaction log, newest first, with approval, edit and rejection rates (at most 31 days and "
          "1,000 interactions a request)", response_model=ai_interactions.InteractionLog,
          query=(Param("start", "From this day (default: 6 days before end).", "date"),
                 Param("end", "To this day (default: today, UTC).", "date"),
                 Param("kind", "Only this kind.", choices=ai_interactions.KINDS),
                 Param("status", "Only interactions in this status."), _CONTACT)),
    Route("GET", "/ai/interactions/{interactionId}", APP, ai_api.read_interaction, Op.AI_READ,
          "One interaction: the question, the passages, the answer and its outcome",
          response_model=ai_interactions.Interaction),
    Route("GET", "/ai/documents", APP, ai_api.list_documents, Op.AI_READ,
          "The knowledge base's documents with their indexing status", response_model=knowledge_base.KnowledgeBase),
    Route("POST", "/ai/documents", APP, ai_api.upload_document, Op.AI_ADMIN,
          "Add a document (the body is the file, its Content-Type the file's type; PDF, DOCX, TXT, Markdown or "
          "HTML up to 256 KB here): stored, then indexed in the background", (202,),
          response_model=knowledge_base.KnowledgeDocument,
          query=(Param("filename", "The file's name (its extension says its type)."),
                 Param("title", "The title citations show (default: from the file name)."))),
    Route("POST", "/ai/documents/sample", APP, ai_api.load_sample, Op.AI_ADMIN,
          "Load the sample handbook (documents already loaded are left as they are)",
          response_model=knowledge_base.SampleLoad),
    Route("POST", "/ai/documents/{documentId}/reindex", APP, ai_api.reindex_document, Op.AI_ADMIN,
          "Extract and index the document again (in the background)", (202,),
          response_model=knowledge_base.KnowledgeDocument),
    Route("DELETE", "/ai/documents/{documentId}", APP, ai_api.delete_document, Op.AI_ADMIN,
          "Delete the document, its file and its passages", (204,)),
)
LAMBDA_ROUTES = tuple(route for route in ROUTES if route.function != APP)  # what API Gateway and the functions serve


def routes_of(function: str) -> dict[str, Route]:
    return {route.route_key: route for route in ROUTES if route.function == function}
