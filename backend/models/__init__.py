"""PynamoDB models of the 12 tables. `TABLE_MODELS` has one model per table (the one init-db creates)."""
from __future__ import annotations

from backend.models.assistant import AIInteractionModel
from backend.models.audit import AuditLogModel
from backend.models.base import WecareModel, configure_connection, configure_model
from backend.models.campaigns import BulkAudienceChunk, BulkJobModel, BulkRecipientModel
from backend.models.contact import ContactModel, ContactUniqueKey
from backend.models.messaging import DLQMessageModel, MediaFileModel, MessageModel, TimelineEntryModel
from backend.models.runtime_config import RateLimitTrackerModel, SystemConfigModel
from backend.models.user import UserEmailKey, UserModel
from backend.models.voice import VoiceCallModel
from backend.settings import Settings, get_settings

TABLE_MODELS: tuple[type[WecareModel], ...] = (
    ContactModel,
    MessageModel,
    BulkJobModel,
    BulkRecipientModel,
    UserModel,
    MediaFileModel,
    DLQMessageModel,
    AuditLogModel,
    AIInteractionModel,
    RateLimitTrackerModel,
    SystemConfigModel,
    VoiceCallModel,
)
SHARED_TABLE_MODELS: tuple[type[WecareModel], ...] = (ContactUniqueKey, UserEmailKey, TimelineEntryModel, BulkAudienceChunk)


def configure_models(settings: Settings | None = None) -> None:
    """Point every model at the table names and endpoint the settings name."""
    settings = settings or get_settings()
    for model in TABLE_MODELS + SHARED_TABLE_MODELS:
        configure_model(model, settings)
    configure_connection(settings)


configure_models()
