"""Provider failures with a stable code and a retry verdict, so the outbox decides once: retry or DLQ.

AWS End User Messaging Social wraps Meta's Cloud API errors: the AWS error code says who failed
(throttled, server, validation), and Meta's numeric code, when the message text carries one, says why.
Meta's code wins because it is the more specific of the two.
"""
from __future__ import annotations

import re

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)

THROTTLED = "THROTTLED"
PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
INVALID_NUMBER = "INVALID_NUMBER"
TEMPLATE_NOT_APPROVED = "TEMPLATE_NOT_APPROVED"
REENGAGEMENT_REQUIRED = "REENGAGEMENT_REQUIRED"
INVALID_REQUEST = "INVALID_REQUEST"
ACCESS_DENIED = "ACCESS_DENIED"
NOT_FOUND = "NOT_FOUND"
UNEXPECTED_ERROR = "UNEXPECTED_ERROR"
OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"  # the request may have reached the provider: never resent blindly
MESSAGE_REJECTED = "MESSAGE_REJECTED"  # SES refused this message (e.g. a virus, an unverified address)
SENDING_DISABLED = "SENDING_DISABLED"  # SES will send nothing from us until someone acts (account, domain)

_MAX_MESSAGE = 500


class ProviderError(Exception):
    """A channel provider refused or failed a call. `retryable` tells the outbox whether to try again."""

    def __init__(self, code: str, message: str, *, retryable: bool, meta_code: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.meta_code = meta_code

    def to_dict(self) -> dict:
        body: dict = {"code": self.code, "message": self.message, "retryable": self.retryable}
        if self.meta_code is not None:
            body["metaCode"] = self.meta_code
        return body

    def __repr__(self) -> str:
        return f"ProviderError({self.code!r}, {self.message!r}, retryable={self.retryable})"


# Meta Cloud API error codes -> (our code, retryable).
# https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
META_ERROR_CODES: dict[int, tuple[str, bool]] = {
    130429: (THROTTLED, True),  # Cloud API throughput reached
    131048: (THROTTLED, True),  # spam rate limit hit
    131056: (THROTTLED, True),  # too many messages to the same pair of numbers
    131000: (PROVIDER_UNAVAILABLE, True),  # something went wrong
    131016: (PROVIDER_UNAVAILABLE, True),  # service unavailable
    131047: (REENGAGEMENT_REQUIRED, False),  # more than 24 hours since the customer last replied
    131026: (INVALID_NUMBER, False),  # message undeliverable (not a WhatsApp user, old app …)
    131030: (INVALID_NUMBER, False),  # recipient not in the allowed list (test numbers)
    132000: (INVALID_REQUEST, False),  # template parameter count mismatch
    132001: (TEMPLATE_NOT_APPROVED, False),  # template does not exist (in that language)
    132015: (TEMPLATE_NOT_APPROVED, False),  # template paused for low quality
    132016: (TEMPLATE_NOT_APPROVED, False),  # template disabled
    131051: (INVALID_REQUEST, False),  # unsupported message type
    100: (INVALID_REQUEST, False),  # invalid parameter
}

# Six-digit Meta codes, or a short one written Meta's way: "(#100)".
_META_CODE = re.compile(r"(?<!\d)(13\d{4})(?!\d)|\(#(\d{1,7})\)")

_THROTTLING = {"ThrottledRequestException", "ThrottlingException", "TooManyRequestsException", "Throttling"}
# SES v2 answers SendEmail with LimitExceededException when a sending quota is used up for now; elsewhere
# (e.g. socialmessaging) the same code is a hard quota, so it is only a throttle for that operation.
_THROTTLING_BY_OPERATION = {"SendEmail": {"LimitExceededException"}}
_SERVER = {"InternalServiceException", "InternalServerException", "DependencyException", "ServiceUnavailable",
           "ServiceUnavailableException", "InternalFailure"}
_ACCESS = {"AccessDeniedException", "AccessDeniedByMetaException", "AccessDenied", "UnrecognizedClientException"}
_NOT_FOUND = {"ResourceNotFoundException", "NotFoundException"}
# SES v2 refusals that no retry can fix (HTTP 400, so they must be named before the status rules).
_SES_PERMANENT = {
    "MessageRejected": MESSAGE_REJECTED,
    "MailFromDomainNotVerifiedException": SENDING_DISABLED,
    "AccountSuspendedException": SENDING_DISABLED,
    "SendingPausedException": SENDING_DISABLED,
}


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def find_meta_code(text: str) -> int | None:
    """The first Meta error code we know that appears in `text`, if any."""
    for match in _META_CODE.finditer(text or ""):
        code = int(match.group(1) or match.group(2))
        if code in META_ERROR_CODES:
            return code
    return None


def error_for_meta_code(meta_code: int, message: str) -> ProviderError:
    code, retryable = META_ERROR_CODES[meta_code]
    return ProviderError(code, _shorten(message), retryable=retryable, meta_code=meta_code)


def classify_client_error(error: ClientError) -> ProviderError:
    """Translate a botocore ClientError (AWS error code, HTTP status, Meta code in the text)."""
    details = error.response.get("Error", {}) or {}
    aws_code = str(details.get("Code") or "Unknown")
    text = str(details.get("Message") or "")
    status = int((error.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    message = _shorten(f"{aws_code}: {text}" if text else aws_code)

    meta_code = find_meta_code(text)
    if meta_code is not None:
        return error_for_meta_code(meta_code, message)
    throttled_here = _THROTTLING_BY_OPERATION.get(getattr(error, "operation_name", None), ())
    if aws_code in _THROTTLING or aws_code in throttled_here or status == 429:
        return ProviderError(THROTTLED, message, retryable=True)
    if aws_code in _SES_PERMANENT:
        return ProviderError(_SES_PERMANENT[aws_code], message, retryable=False)
    if aws_code in _SERVER or status >= 500:
        return ProviderError(PROVIDER_UNAVAILABLE, message, retryable=True)
    if aws_code in _ACCESS or status == 403:
        return ProviderError(ACCESS_DENIED, message, retryable=False)
    if aws_code in _NOT_FOUND or status == 404:
        return ProviderError(NOT_FOUND, message, retryable=False)
    if 400 <= status < 500 or status == 0:
        return ProviderError(INVALID_REQUEST, message, retryable=False)
    return ProviderError(PROVIDER_UNAVAILABLE, message, retryable=True)


# Never connected: nothing reached the provider, so a retry cannot send twice.
_NOT_SENT = (EndpointConnectionError, ConnectTimeoutError, ConnectionRefusedError)
# Connected, then lost: the provider may have the request. Resending could send the message twice.
_MAYBE_SENT = (ReadTimeoutError, ConnectionClosedError, ConnectionError, TimeoutError)

# Provider clients never retry on their own: botocore would resend a request whose answer timed out. The outbox
# retries what certainly did not go out, and dead-letters what may have (OUTCOME_UNKNOWN) for a checked replay.
PROVIDER_CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)


_PARAMETER_NAME = re.compile(r"for parameter ([\w.\[\]]+)")


def classify_exception(exc: BaseException) -> ProviderError:
    """Any exception a provider call may raise, as a ProviderError (the message never echoes request data)."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, ClientError):
        return classify_client_error(exc)
    if isinstance(exc, _NOT_SENT):
        return ProviderError(PROVIDER_UNAVAILABLE, f"Provider unreachable ({type(exc).__name__})", retryable=True)
    if isinstance(exc, _MAYBE_SENT):
        return ProviderError(OUTCOME_UNKNOWN, f"No answer from the provider ({type(exc).__name__}); it may have the "
                             "message", retryable=False)
    if isinstance(exc, ParamValidationError):
        # botocore's own text can echo parameter values; name the parameters only.
        names = sorted(set(_PARAMETER_NAME.findall(str(exc))))
        return ProviderError(INVALID_REQUEST, f"Invalid request parameters: {', '.join(names) or 'unknown'}",
                             retryable=False)
    return ProviderError(UNEXPECTED_ERROR, f"Unexpected provider failure ({type(exc).__name__})", retryable=False)


# ---------------------------------------------------------------- AWS End User Messaging SMS and voice (v2)

OPTED_OUT = "OPTED_OUT"  # the number is on the AWS opt-out list: permanent
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"  # a spend or daily limit: retried, then dead-lettered for a replay once raised
# Validation or conflict reasons that say this destination cannot be called at all.
_UNCALLABLE = {
    "DESTINATION_COUNTRY_BLOCKED", "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION",
    "DESTINATION_PHONE_NUMBER_NOT_VERIFIED", "DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE",
    "VOICE_CAPABILITY_NOT_AVAILABLE",
}


def classify_sms_voice_exception(exc: BaseException) -> ProviderError:
    """classify_exception, sharpened by the `Reason` SMS and voice v2 errors carry: an opted-out number, a
    destination that cannot be called, a quota (worth retrying once raised) are not bad requests."""
    error = classify_exception(exc)
    if not isinstance(exc, ClientError):
        return error
    code = (exc.response.get("Error") or {}).get("Code")
    reason = exc.response.get("Reason") or (exc.response.get("Error") or {}).get("Reason")
    if reason == "DESTINATION_PHONE_NUMBER_OPTED_OUT":
        return ProviderError(OPTED_OUT, error.message, retryable=False)
    if reason in _UNCALLABLE:
        return ProviderError(INVALID_NUMBER, f"{error.message} [{reason}]", retryable=False)
    if code == "ServiceQuotaExceededException":
        return ProviderError(QUOTA_EXCEEDED, f"{error.message} [{reason or 'quota'}]", retryable=True)
    return error
