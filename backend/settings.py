"""One settings object for every door (Reflex, REST, Lambda), read from `WECARE_` env vars and `.env`."""
from __future__ import annotations

from enum import Enum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class RuntimeEnv(str, Enum):
    LOCAL = "local"
    AWS = "aws"


class SendMode(str, Enum):
    SANDBOX = "SANDBOX"
    DRY_RUN = "DRY_RUN"
    LIVE = "LIVE"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WECARE_", env_file=".env", extra="ignore")

    env: RuntimeEnv = RuntimeEnv.LOCAL
    aws_region: str = "us-east-1"
    dynamodb_endpoint: str | None = Field(
        default=None, description="When set, all table I/O goes to this endpoint (DynamoDB Local)."
    )
    dynamodb_local_port: int = 8001  # Reflex's backend owns 8000
    table_prefix: str = "wecare-"
    send_mode: SendMode = SendMode.SANDBOX
    data_dir: Path = Path(".data")
    default_region: str = Field(default="GB", description="Phone region used when a number has no +country (WECARE_DEFAULT_REGION).")

    import_writers: int = Field(default=3, ge=1, le=16, description="Parallel write transactions per CSV import.")
    webhook_workers: int = Field(
        default=32, ge=1, le=256, description="Inbound webhook deliveries the app ingests at once (they share transactions)."
    )
    ui_workers: int = Field(
        # More threads add no throughput (DynamoDB and Python's GIL are the bound) but make the event loop wait
        # longer for the GIL: bench/ui_responsiveness.py measured probe p95 53 ms with 6, 94 ms with 10 and
        # 307 ms with 24 under the same load.
        default=6, ge=2, le=256,
        description="Service calls the web pages run at once, on worker threads off the event loop (its default executor).",
    )

    admin_email: str | None = None
    admin_password: SecretStr | None = None
    session_secret: SecretStr | None = Field(
        default=None, description="Signs session tokens; generated into the data dir when unset locally."
    )
    session_hours: int = 12

    # Sign-in: local accounts (the default) or Cognito's hosted UI (OpenID Connect code flow with PKCE). The REST
    # door takes Cognito access tokens as bearer tokens whenever the issuer and client id are set.
    auth: str = Field(default="local", pattern="^(local|cognito)$", description="local | cognito")
    cognito_issuer: str | None = Field(default=None, description="https://cognito-idp.<region>.amazonaws.com/<poolId>")
    cognito_client_id: str | None = None
    cognito_domain: str | None = Field(default=None, description="The hosted UI's base URL (https://<prefix>.auth."
                                       "<region>.amazoncognito.com): /oauth2/authorize, /oauth2/token, /logout.")
    cognito_redirect_uri: str | None = Field(default=None, description="This app's /auth/callback, as registered.")
    cognito_logout_uri: str | None = Field(default=None, description="Where the hosted UI returns after sign-out "
                                           "(this app's /login, as registered).")

    # AI answers. Without a knowledge base id, answers come from the local index of the documents uploaded on
    # /ai/knowledge-base (extractive, cited); with one, from Bedrock (retrieve, then converse with the model).
    ai_knowledge_base_id: str | None = Field(default=None, description="Bedrock knowledge base id (AWS answers).")
    ai_data_source_id: str | None = Field(default=None, description="The knowledge base's S3 data source (the media "
                                          "bucket): uploads are ingested into it one document at a time.")
    ai_model_id: str = Field(default="anthropic.claude-3-haiku-20240307-v1:0", description="Bedrock model for converse.")
    ai_guardrail_id: str | None = Field(default=None, description="Bedrock guardrail applied to every answer.")
    ai_guardrail_version: str = "DRAFT"
    ai_timeout_seconds: float = Field(default=12, gt=0, le=120, description="Bedrock read timeout per call.")

    # WhatsApp (AWS End User Messaging Social). Ids are per deployment, never in code.
    whatsapp_phone_number_id: str = Field(
        default="sandbox-phone-number-id", description="Origination phone number id outbound messages use."
    )
    whatsapp_waba_id: str = Field(default="sandbox-waba-id", description="WhatsApp Business Account id (templates).")
    whatsapp_meta_api_version: str = "v20.0"
    whatsapp_webhook_secret: SecretStr | None = Field(
        default=None, description="Shared secret for POST /webhooks/whatsapp (header or HMAC signature)."
    )
    meta_app_secret: SecretStr | None = Field(default=None, description="Verifies X-Hub-Signature-256 from Meta.")
    meta_verify_token: SecretStr | None = Field(default=None, description="Answers Meta's GET verify challenge.")

    # SMS and voice (AWS End User Messaging SMS and voice v2), email (SES v2). Identities per deployment.
    sms_origination_identity: str = Field(default="sandbox-sms-origination", description="Phone number, pool or sender id.")
    sms_message_type: str = Field(default="TRANSACTIONAL", pattern="^(TRANSACTIONAL|PROMOTIONAL)$")
    sms_configuration_set: str | None = None
    voice_origination_identity: str = Field(default="sandbox-voice-origination")
    voice_configuration_set: str | None = None
    voice_default_voice_id: str = "JOANNA"
    email_from: str = Field(default="WECARE.DIGITAL <no-reply@wecare.local>", description="SES verified from identity.")
    email_configuration_set: str | None = None
    email_reply_to: str | None = None
    email_unsubscribe_url: str | None = Field(default=None, description="Base of the List-Unsubscribe link.")

    # Outbox and provider behaviour.
    send_attempts: int = Field(default=5, ge=1, le=20, description="Provider attempts before a message goes to the DLQ.")
    retry_base_seconds: float = Field(default=0.5, ge=0, description="First retry delay; doubles each attempt, jittered.")
    pending_stale_seconds: int = Field(default=120, ge=5, description="PENDING rows older than this are re-enqueued.")
    outbox_workers: int = Field(default=2, ge=1, le=32)
    send_queue_urls: dict[str, str] = Field(
        default_factory=dict, description='SQS send queue per channel (AWS), JSON: {"whatsapp": "https://sqs…"}.'
    )
    send_dlq_urls: dict[str, str] = Field(
        default_factory=dict, description='SQS dead-letter queue of each send queue (AWS), JSON: {"whatsapp": "https://sqs…"}.'
    )
    media_bucket: str | None = Field(default=None, description="S3 bucket of the media store (AWS).")
    sandbox_latency_ms: int = Field(default=150, ge=0, description="Delay before the sandbox reports a status.")
    sandbox_failure_rate: float = Field(default=0.0, ge=0, le=1, description="Share of sandbox sends that fail.")
    sandbox_failure_code: str = Field(default="throttled", description="throttled | server | invalid_number | 131047")

    @property
    def cognito_sign_in(self) -> bool:
        """People sign in through Cognito's hosted UI (`WECARE_AUTH=cognito`), not with passwords kept here."""
        return self.auth == "cognito"

    @property
    def is_local(self) -> bool:
        return self.env is RuntimeEnv.LOCAL

    def effective_dynamodb_endpoint(self) -> str | None:
        """Local runs default to the embedded DynamoDB Local; AWS runs use DynamoDB itself."""
        if self.dynamodb_endpoint:
            return self.dynamodb_endpoint
        if self.is_local:
            return f"http://127.0.0.1:{self.dynamodb_local_port}"
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Tests change `WECARE_` variables; this makes the next `get_settings()` read them again."""
    get_settings.cache_clear()
