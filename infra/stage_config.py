"""What varies between deployments, read from CDK context (`cdk synth -c stage=prod -c callback_url=...`).

The WhatsApp ids (`-c whatsapp_phone_number_id=phone-number-id-... -c whatsapp_waba_id=...`) belong to the
account the stage deploys to, so they come from context, never from code. Secrets (webhook and Meta app
secrets) are not deployment settings: the functions, triggered by SNS, SQS and the API, do not need them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from constructs import Node

from backend.settings import SendMode

INFRA_DIR = Path(__file__).resolve().parent
DEFAULT_BUILD_DIR = INFRA_DIR / "build"
DEFAULT_CALLBACK_URL = "http://localhost:3000/auth/callback"  # the Reflex dev server's sign-in callback page

_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")  # it becomes part of table, function and domain names
_LOCAL_HOSTS = {"localhost", "127.0.0.1"}


@dataclass(frozen=True)
class StageConfig:
    stage: str
    callback_url: str
    send_mode: SendMode = SendMode.LIVE  # the functions send through End User Messaging Social unless told not to
    install_deps: bool = False
    auth_domain_prefix: str | None = None  # Cognito hosted-UI prefix; derived from the stack id when unset
    whatsapp_phone_number_id: str | None = None  # origination phone number id (End User Messaging Social)
    whatsapp_waba_id: str | None = None  # WhatsApp Business Account id (templates)
    build_dir: Path = DEFAULT_BUILD_DIR

    def __post_init__(self) -> None:
        if not _STAGE.match(self.stage):
            raise ValueError(f"stage {self.stage!r}: use 1-20 lowercase letters, digits or '-', starting with a letter")
        url = urlsplit(self.callback_url)
        if not url.netloc or (url.scheme != "https" and not (url.scheme == "http" and url.hostname in _LOCAL_HOSTS)):
            raise ValueError(f"callback_url {self.callback_url!r}: Cognito needs https (http only for localhost)")

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
        return self.send_mode is SendMode.LIVE and not (self.whatsapp_phone_number_id and self.whatsapp_waba_id)

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
            build_dir=build_dir,
        )


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


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
