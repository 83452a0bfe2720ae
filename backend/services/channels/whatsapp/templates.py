"""WhatsApp message templates: the catalogue synced from the provider, creating and submitting new ones."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import Field

from backend.adapters.channels.errors import ProviderError
from backend.adapters.channels import providers
from backend.errors import BadRequest, ValidationError
from backend.models.base import utcnow
from backend.services.platform import system_config
from backend.services.platform.access import Actor, Operation, require
from backend.services.platform.api_model import ApiModel, ApiView
from backend.services.platform.audit import audit_row
from backend.services.storage.unit_of_work import UnitOfWork
from backend.services.platform.validation import parse_input

CATALOGUE_KEY = "whatsapp.templates"
_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_NAME = re.compile(r"^[a-z0-9_]{1,512}$")


class Template(ApiView):
    template_id: str | None = None
    name: str
    language: str
    status: str
    category: str | None = None
    quality: str | None = None
    header_text: str | None = None
    body_text: str | None = None
    footer_text: str | None = None
    header_parameters: int = 0
    body_parameters: int = 0


class TemplateCatalogue(ApiView):
    items: list[Template]
    synced_at: datetime | None = None


class TemplateCreate(ApiModel):
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15)
    category: Literal["MARKETING", "UTILITY", "AUTHENTICATION"]
    body_text: str = Field(min_length=1, max_length=1024)
    header_text: str | None = Field(default=None, max_length=60)
    footer_text: str | None = Field(default=None, max_length=60)
    body_examples: list[str] = Field(default_factory=list, max_length=20)
    header_examples: list[str] = Field(default_factory=list, max_length=1)


def _component_text(components: list[dict], kind: str) -> str | None:
    for component in components or []:
        if str(component.get("type", "")).upper() == kind:
            return component.get("text")
    return None


def parameter_count(text: str | None) -> int:
    return len({match for match in _PLACEHOLDER.findall(text or "")})


def to_template(item: dict) -> Template:
    components = item.get("components") or []
    header = _component_text(components, "HEADER")
    body = _component_text(components, "BODY")
    return Template(
        template_id=item.get("id"),
        name=item["name"],
        language=item.get("language") or "",
        status=str(item.get("status") or "UNKNOWN").upper(),
        category=item.get("category"),
        quality=item.get("quality"),
        header_text=header,
        body_text=body,
        footer_text=_component_text(components, "FOOTER"),
        header_parameters=parameter_count(header),
        body_parameters=parameter_count(body),
    )


def _stored_catalogue() -> TemplateCatalogue | None:
    value = system_config.cached(CATALOGUE_KEY)
    if not value:
        return None
    return TemplateCatalogue(items=[to_template(i) for i in value.get("items", [])], synced_at=value.get("syncedAt"))


def _sync(actor: Actor) -> TemplateCatalogue:
    try:
        items = providers.WHATSAPP.get().list_templates()
    except ProviderError as error:
        raise BadRequest(f"Could not sync templates from WhatsApp: {error.message}", field="templates") from None
    now = utcnow()
    system_config.write(CATALOGUE_KEY, {"items": items, "syncedAt": now.isoformat()}, updated_by=actor.user_id or "system")
    audit_row(actor, "templates.sync", "templates", "catalogue", ["items"], {"count": len(items)}, at=now).save()
    return TemplateCatalogue(items=[to_template(i) for i in items], synced_at=now)


def list_templates(actor: Actor, *, refresh: bool = False) -> TemplateCatalogue:
    """The catalogue as last synced; synced from the provider when asked, or on first use by someone who may
    sync (a sync is a provider call and a config write: Operators and Admins, never a Viewer)."""
    require(actor, Operation.TEMPLATES_WRITE if refresh else Operation.TEMPLATES_READ)
    catalogue = None if refresh else _stored_catalogue()
    if catalogue is not None:
        return catalogue
    if not actor.can(Operation.TEMPLATES_WRITE):
        return TemplateCatalogue(items=[], synced_at=None)  # nothing synced yet; a Viewer cannot start one
    return _sync(actor)


def approved_template(name: str, language: str) -> Template:
    """The approved template a send names, or a ValidationError saying why it cannot be used."""
    catalogue = _stored_catalogue() or _sync(Actor.system("templates"))
    matches = [t for t in catalogue.items if t.name == name]
    if not matches:
        raise ValidationError(f"template.name: no template named {name!r}; sync templates or check the name", field="template.name")
    template = next((t for t in matches if t.language == language), None)
    if template is None:
        languages = ", ".join(sorted(t.language for t in matches))
        raise ValidationError(f"template.language: {name!r} exists in {languages}, not {language!r}", field="template.language")
    if template.status != "APPROVED":
        raise ValidationError(f"template.name: {name!r} is {template.status}, only APPROVED templates can be sent", field="template.name")
    return template


def create_template(actor: Actor, data: TemplateCreate | dict) -> Template:
    """Validate, submit to WhatsApp for review, and add the result (PENDING) to the catalogue."""
    require(actor, Operation.TEMPLATES_WRITE)
    request = parse_input(TemplateCreate, data)
    if not _NAME.match(request.name):
        raise ValidationError("name: lower-case letters, digits and underscores only", field="name")
    _check_examples("body", request.body_text, request.body_examples)
    _check_examples("header", request.header_text, request.header_examples)
    definition = _definition(request)
    try:
        created = providers.WHATSAPP.get().create_template(definition)
    except ProviderError as error:
        raise BadRequest(f"WhatsApp refused the template: {error.message}", field="name") from None
    work = UnitOfWork()
    work.save(audit_row(actor, "template.create", "template", request.name, ["name", "language", "category"], {"language": request.language}))
    work.commit()
    catalogue = _sync(actor)
    for template in catalogue.items:
        if template.name == request.name and template.language == request.language:
            return template
    return to_template({**definition, "id": created.get("id"), "status": created.get("status", "PENDING")})


def _check_examples(part: str, text: str | None, examples: list[str]) -> None:
    needed = parameter_count(text)
    if needed != len(examples):
        field = f"{part}Examples"
        raise ValidationError(f"{field}: the {part} has {needed} placeholder(s), give one example each", field=field)


def _definition(request: TemplateCreate) -> dict:
    components: list[dict] = []
    if request.header_text:
        header: dict = {"type": "HEADER", "format": "TEXT", "text": request.header_text}
        if request.header_examples:
            header["example"] = {"header_text": request.header_examples}
        components.append(header)
    body: dict = {"type": "BODY", "text": request.body_text}
    if request.body_examples:
        body["example"] = {"body_text": [request.body_examples]}
    components.append(body)
    if request.footer_text:
        components.append({"type": "FOOTER", "text": request.footer_text})
    return {"name": request.name, "language": request.language, "category": request.category, "components": components}
