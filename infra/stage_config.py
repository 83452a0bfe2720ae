"""What varies between deployments, read from CDK context (`cdk synth -c stage=prod -c callback_url=...`).

The sending identities belong to the account the stage deploys to, so they come from context, never from code:
the WhatsApp ids (`-c whatsapp_phone_number_id=phone-number-id-... -c whatsapp_waba_id=...`), the SMS and voice
origination identities (`-c sms_origination_identity=... -c voice_origination_identity=...`: a phone number,
a phone-number or pool id or ARN, or for SMS a sender id) and the SES from address (`-c email_from="Name
<no-reply@example.org>"`). Secrets (webhook and Meta app secrets) are not deployment settings: the functions,
triggered by SNS, SQS and the API, do not need them.

Sign-in and the API have safe defaults a stage may tighten or loosen: `-c mfa=required` makes every user sign in
with a TOTP app (the default, "optional", lets each user turn it on), and `-c api_rate_limit=50
-c api_burst_limit=100` are the HTTP API's requests per second and burst (its default route throttling).

The web tier (the Reflex app as a container on ECS Fargate: infra/components/web.py) is deployed only when
`-c web_image=<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` names the image to run (an immutable
tag or an `@sha256:` digest: a rollback deploys the previous one); `-c web_certificate_arn=<ACM ARN>` serves it
over HTTPS on the callback URL's domain, `-c web_tasks=2 -c web_max_tasks=6` are the tasks it runs and the most
CPU auto scaling may add (see docs/deploy.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from constructs import Node

from backend.adapters.channels.voice import VOICE_IDS
from backend.settings import SendMode, Settings

INFRA_DIR = Path(__file__).resolve().parent
DEFAULT_BUILD_DIR = INFRA_DIR / "build"
DEFAULT_CALLBACK_URL = "http://localhost:3000/auth/callback"  # the Reflex dev server's sign-in callback page

_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")  # it becomes part of table, function and domain names
_LOCAL_HOSTS = {"localhost", "127.0.0.1"}
_ORIGINATION_IDENTITY = re.compile(r"^[A-Za-z0-9_:/+-]{1,256}$")  # SendTextMessage / SendVoiceMessage's pattern
_EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SMS_MESSAGE_TYPES = ("TRANSACTIONAL", "PROMOTIONAL")
DEFAULT_SMS_MESSAGE_TYPE = Settings.model_fields["sms_message_type"].default  # the backend's own defaults
DEFAULT_VOICE_ID = Settings.model_fields["voice_default_voice_id"].default
DEFAULT_AI_MODEL = Settings.model_fields["ai_model_id"].default
DEFAULT_GUARDRAIL_VERSION = Settings.model_fields["ai_guardrail_version"].default
_BEDROCK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
MFA_MODES = ("optional", "required")  # TOTP only: "optional" lets each user turn it on, "required" makes everyone
DEFAULT_API_RATE_LIMIT = 50.0  # requests per second across the HTTP API's routes (its default route settings)
DEFAULT_API_BURST_LIMIT = 100
API_LIMIT_MAX = 10_000  # the account's default API Gateway quota per region; a stage cannot exceed it
DEFAULT_WEB_TASKS = 2  # two tasks, in two availability zones: one can fail or be replaced while the other serves
DEFAULT_WEB_MAX_TASKS = 6
WEB_TASKS_MAX = 50
# An image reference with an explicit tag or digest: `registry/repository:tag` or `registry/repository@sha256:...`
# (`latest` is refused: deploying it again would not roll the service, and nothing would say what to roll back to).
_WEB_IMAGE = re.compile(
    r"^[a-z0-9][a-z0-9.-]*(:[0-9]+)?/[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$"
)
_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$")
# The context keys a LIVE stage needs for each channel to send at all.
IDENTITY_CONTEXT = {
    "whatsapp": ("whatsapp_phone_number_id", "whatsapp_waba_id"),
    "sms": ("sms_origination_identity",),
    "voice": ("voice_origination_identity",),
    "email": ("email_from",),
}


@dataclass(frozen=True)
class StageConfig:
    stage: str
    callback_url: str
    send_mode: SendMode = SendMode.LIVE  # the functions send through End User Messaging Social unless told not to
    install_deps: bool = False
    auth_domain_prefix: str | None = None  # Cognito hosted-UI prefix; derived from the stack id when unset
    whatsapp_phone_number_id: str | None = None  # origination phone number id (End User Messaging Social)
    whatsapp_waba_id: str | None = None  # WhatsApp Business Account id (templates)
    sms_origination_identity: str | None = None  # phone number, phone-number/pool id or ARN, or sender id
    sms_message_type: str = DEFAULT_SMS_MESSAGE_TYPE
    voice_origination_identity: str | None = None  # phone number, or phone-number/pool id or ARN
    voice_default_voice_id: str = DEFAULT_VOICE_ID  # the Polly voice a call uses unless it names one
    email_from: str | None = None  # an SES verified identity's address, optionally with a display name
    email_reply_to: str | None = None
    email_unsubscribe_url: str | None = None  # HTTPS base of the List-Unsubscribe link (one-click)
    ai_knowledge_base_id: str | None = None  # Bedrock knowledge base the AI functions retrieve from
    ai_data_source_id: str | None = None  # its S3 data source (the media bucket): the app ingests uploads into it
    ai_model_id: str = DEFAULT_AI_MODEL  # the Bedrock model they converse with
    ai_guardrail_id: str | None = None
    ai_guardrail_version: str = DEFAULT_GUARDRAIL_VERSION
    mfa: str = "optional"  # one of MFA_MODES: the user pool's TOTP MFA
    api_rate_limit: float = DEFAULT_API_RATE_LIMIT  # the HTTP API stage's steady-state requests per second
    api_burst_limit: int = DEFAULT_API_BURST_LIMIT  # and the requests it takes at once above that
    web_image: str | None = None  # the web tier's container image; without it no web tier is deployed
    web_certificate_arn: str | None = None  # ACM certificate of the callback URL's domain (HTTPS on the ALB)
    web_tasks: int = DEFAULT_WEB_TASKS  # the web tier's tasks, and the fewest auto scaling keeps
    web_max_tasks: int = DEFAULT_WEB_MAX_TASKS  # the most tasks CPU auto scaling may run
    build_dir: Path = DEFAULT_BUILD_DIR

    def __post_init__(self) -> None:
        if not _STAGE.match(self.stage):
            raise ValueError(f"stage {self.stage!r}: use 1-20 lowercase letters, digits or '-', starting with a letter")
        url = urlsplit(self.callback_url)
        if not url.netloc or (url.scheme != "https" and not (url.scheme == "http" and url.hostname in _LOCAL_HOSTS)):
            raise ValueError(f"callback_url {self.callback_url!r}: Cognito needs https (http only for localhost)")
        for name in ("sms_origination_identity", "voice_origination_identity"):
            value = getattr(self, name)
            if value is not None and not _ORIGINATION_IDENTITY.match(value):
                raise ValueError(f"{name} {value!r}: a phone number, an id or an ARN ([A-Za-z0-9_:/+-], 256 at most)")
        if self.sms_message_type not in SMS_MESSAGE_TYPES:
            raise ValueError(f"sms_message_type {self.sms_message_type!r}: one of {list(SMS_MESSAGE_TYPES)}")
        if self.voice_default_voice_id not in VOICE_IDS:
            raise ValueError(f"voice_default_voice_id {self.voice_default_voice_id!r}: a voice SendVoiceMessage takes")
        for name in ("email_from", "email_reply_to"):
            value = getattr(self, name)
            if value is not None and not _EMAIL_ADDRESS.match(parseaddr(value)[1]):
                raise ValueError(f"{name} {value!r}: an email address, optionally as 'Name <address>'")
        for name in ("ai_knowledge_base_id", "ai_data_source_id", "ai_model_id", "ai_guardrail_id"):
            value = getattr(self, name)
            if value is not None and not _BEDROCK_ID.match(value):
                raise ValueError(f"{name} {value!r}: a Bedrock id ([A-Za-z0-9._:-], 128 at most)")
        if self.email_unsubscribe_url is not None and not self.email_unsubscribe_url.lower().startswith("https://"):
            raise ValueError(f"email_unsubscribe_url {self.email_unsubscribe_url!r}: one-click unsubscribe needs https")
        if self.mfa not in MFA_MODES:
            raise ValueError(f"mfa {self.mfa!r}: one of {list(MFA_MODES)}")
        if not 0 < self.api_rate_limit <= API_LIMIT_MAX:
            raise ValueError(f"api_rate_limit {self.api_rate_limit!r}: requests per second, >0 and <= {API_LIMIT_MAX}")
        if not 0 < self.api_burst_limit <= API_LIMIT_MAX:
            raise ValueError(f"api_burst_limit {self.api_burst_limit!r}: a whole number, 1 to {API_LIMIT_MAX}")
        self._check_web()

    def _check_web(self) -> None:
        if self.web_image is not None:
            if not _WEB_IMAGE.match(self.web_image):
                raise ValueError(f"web_image {self.web_image!r}: an image URI with a tag or digest, e.g. "
                                 "<account>.dkr.ecr.<region>.amazonaws.com/wecare-web:2024-06-01.1")
            if self.web_image.rsplit("/", 1)[-1].endswith(":latest"):
                raise ValueError(f"web_image {self.web_image!r}: use an immutable tag (or a digest), not 'latest'")
            if urlsplit(self.callback_url).hostname in _LOCAL_HOSTS:
                raise ValueError("web_image: the deployed app's sign-in returns to callback_url, so give "
                                 "-c callback_url=https://<the app's domain>/auth/callback")
        if self.web_certificate_arn is not None and not _CERTIFICATE_ARN.match(self.web_certificate_arn):
            raise ValueError(f"web_certificate_arn {self.web_certificate_arn!r}: an ACM certificate ARN "
                             "(arn:aws:acm:<region>:<account>:certificate/<id>)")
        if not 1 <= self.web_tasks <= WEB_TASKS_MAX:
            raise ValueError(f"web_tasks {self.web_tasks!r}: a whole number, 1 to {WEB_TASKS_MAX}")
        if not self.web_tasks <= self.web_max_tasks <= WEB_TASKS_MAX:
            raise ValueError(f"web_max_tasks {self.web_max_tasks!r}: a whole number, web_tasks ({self.web_tasks}) "
                             f"to {WEB_TASKS_MAX}")

    @property
    def mfa_required(self) -> bool:
        return self.mfa == "required"

    @property
    def name_prefix(self) -> str:
        """Prefix of every named resource; for tables it is the `WECARE_TABLE_PREFIX` the backend reads."""
        return f"wecare-{self.stage}-"

    @property
    def table_prefix(self) -> str:
        return self.name_prefix

    @property
    def web_origin(self) -> str:
        """The web app's origin (from the callback URL): the one origin CORS allows."""
        url = urlsplit(self.callback_url)
        return f"{url.scheme}://{url.netloc}"

    @property
    def sign_out_url(self) -> str:
        return f"{self.web_origin}/login"

    @property
    def whatsapp_environment(self) -> dict[str, str]:
        """The `WECARE_` settings naming the WhatsApp number and account, for those that are set."""
        ids = {
            "WECARE_WHATSAPP_PHONE_NUMBER_ID": self.whatsapp_phone_number_id,
            "WECARE_WHATSAPP_WABA_ID": self.whatsapp_waba_id,
        }
        return {name: value for name, value in ids.items() if value}

    @property
    def whatsapp_ids_missing(self) -> bool:
        """LIVE sends need the phone number id and the WABA id of the deployment's account."""
        return "whatsapp" in self.identities_missing

    @property
    def sms_environment(self) -> dict[str, str]:
        """The `WECARE_` settings of SMS sends (the configuration set is the stack's: see messaging_access)."""
        return _set({
            "WECARE_SMS_ORIGINATION_IDENTITY": self.sms_origination_identity,
            "WECARE_SMS_MESSAGE_TYPE": self.sms_message_type,
        })

    @property
    def voice_environment(self) -> dict[str, str]:
        return _set({
            "WECARE_VOICE_ORIGINATION_IDENTITY": self.voice_origination_identity,
            "WECARE_VOICE_DEFAULT_VOICE_ID": self.voice_default_voice_id,
        })

    @property
    def email_environment(self) -> dict[str, str]:
        return _set({
            "WECARE_EMAIL_FROM": self.email_from,
            "WECARE_EMAIL_REPLY_TO": self.email_reply_to,
            "WECARE_EMAIL_UNSUBSCRIBE_URL": self.email_unsubscribe_url,
        })

    @property
    def ai_environment(self) -> dict[str, str]:
        """The AI functions' settings: without a knowledge base id they answer that none is configured."""
        return _set({
            "WECARE_AI_KNOWLEDGE_BASE_ID": self.ai_knowledge_base_id,
            "WECARE_AI_DATA_SOURCE_ID": self.ai_data_source_id,
            "WECARE_AI_MODEL_ID": self.ai_model_id,
            "WECARE_AI_GUARDRAIL_ID": self.ai_guardrail_id,
            "WECARE_AI_GUARDRAIL_VERSION": self.ai_guardrail_version if self.ai_guardrail_id else None,
        })

    @property
    def email_from_address(self) -> str | None:
        """The bare address of `email_from` (what SES authorises a send against), if set."""
        return parseaddr(self.email_from)[1] if self.email_from else None

    @property
    def identities_missing(self) -> dict[str, tuple[str, ...]]:
        """Channel -> the context keys it lacks, when the stage sends LIVE (otherwise nothing is missing)."""
        if self.send_mode is not SendMode.LIVE:
            return {}
        missing = {
            channel: tuple(key for key in keys if not getattr(self, key)) for channel, keys in IDENTITY_CONTEXT.items()
        }
        return {channel: keys for channel, keys in missing.items() if keys}

    @classmethod
    def from_context(cls, node: Node, build_dir: Path = DEFAULT_BUILD_DIR) -> "StageConfig":
        send_mode = node.try_get_context("send_mode") or SendMode.LIVE.value
        try:
            mode = SendMode(str(send_mode).upper())
        except ValueError:
            raise ValueError(f"send_mode {send_mode!r}: one of {[m.value for m in SendMode]}") from None
        return cls(
            stage=str(node.try_get_context("stage") or "dev"),
            callback_url=str(node.try_get_context("callback_url") or DEFAULT_CALLBACK_URL),
            send_mode=mode,
            install_deps=_flag("install_deps", node.try_get_context("install_deps")),
            auth_domain_prefix=node.try_get_context("auth_domain_prefix") or None,
            whatsapp_phone_number_id=_text(node.try_get_context("whatsapp_phone_number_id")),
            whatsapp_waba_id=_text(node.try_get_context("whatsapp_waba_id")),
            sms_origination_identity=_text(node.try_get_context("sms_origination_identity")),
            sms_message_type=(_text(node.try_get_context("sms_message_type")) or DEFAULT_SMS_MESSAGE_TYPE).upper(),
            voice_origination_identity=_text(node.try_get_context("voice_origination_identity")),
            voice_default_voice_id=(_text(node.try_get_context("voice_default_voice_id")) or DEFAULT_VOICE_ID).upper(),
            email_from=_text(node.try_get_context("email_from")),
            email_reply_to=_text(node.try_get_context("email_reply_to")),
            email_unsubscribe_url=_text(node.try_get_context("email_unsubscribe_url")),
            ai_knowledge_base_id=_text(node.try_get_context("ai_knowledge_base_id")),
            ai_data_source_id=_text(node.try_get_context("ai_data_source_id")),
            ai_model_id=_text(node.try_get_context("ai_model_id")) or DEFAULT_AI_MODEL,
            ai_guardrail_id=_text(node.try_get_context("ai_guardrail_id")),
            ai_guardrail_version=_text(node.try_get_context("ai_guardrail_version")) or DEFAULT_GUARDRAIL_VERSION,
            mfa=(_text(node.try_get_context("mfa")) or "optional").lower(),
            api_rate_limit=_number(node, "api_rate_limit", DEFAULT_API_RATE_LIMIT, float),
            api_burst_limit=_number(node, "api_burst_limit", DEFAULT_API_BURST_LIMIT, int),
            web_image=_text(node.try_get_context("web_image")),
            web_certificate_arn=_text(node.try_get_context("web_certificate_arn")),
            web_tasks=_number(node, "web_tasks", DEFAULT_WEB_TASKS, int),
            web_max_tasks=_number(node, "web_max_tasks", DEFAULT_WEB_MAX_TASKS, int),
            build_dir=build_dir,
        )


def _set(values: dict[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in values.items() if value}


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _number(node: Node, name: str, default: float, kind: type) -> float:
    """Context from the CLI arrives as a string ("50"), from cdk.json as a JSON number."""
    value = node.try_get_context(name)
    text = _text(value)
    if text is None:
        return default
    try:
        number = kind(text)
    except ValueError:
        raise ValueError(f"{name} {value!r}: expected {'a whole number' if kind is int else 'a number'}") from None
    return number


def _flag(name: str, value: object) -> bool:
    """Context from the CLI arrives as a string ("true"), from cdk.json as a JSON boolean."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no", ""}:
        return False
    raise ValueError(f"{name} {value!r}: expected true or false")
