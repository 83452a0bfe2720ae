"""Domain errors. Each carries a stable `code`, a human message and, where one input is at fault, its field.

Every door translates these once: a toast in Reflex, a status code in HTTP, a batch-item failure in a queue.
"""
from __future__ import annotations


class DomainError(Exception):
    code = "ERROR"
    http_status = 400

    def __init__(self, message: str, *, field: str | None = None, details: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or []

    def to_dict(self) -> dict:
        body: dict = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class BadRequest(DomainError):
    code = "BAD_REQUEST"
    http_status = 400


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    http_status = 401


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"
    http_status = 403


class NotFound(DomainError):
    code = "NOT_FOUND"
    http_status = 404


class Conflict(DomainError):
    code = "CONFLICT"
    http_status = 409


class ValidationError(DomainError):
    code = "VALIDATION_ERROR"
    http_status = 422


class Unavailable(DomainError):
    """A service we depend on (the AI model, the knowledge base) failed or timed out; nothing was made up."""

    code = "UNAVAILABLE"
    http_status = 503


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    http_status = 429


class TemplateRequired(DomainError):
    """Free-form WhatsApp messages are only allowed within 24 hours of the customer's last message."""

    code = "TEMPLATE_REQUIRED"
    http_status = 422


class ConsentRequired(DomainError):
    code = "CONSENT_REQUIRED"
    http_status = 422


class OptedOut(DomainError):
    """The customer opted out of the channel (STOP); nothing goes out on it until they opt back in."""

    code = "OPTED_OUT"
    http_status = 422
