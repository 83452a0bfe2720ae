"""Meta Cloud API message objects for what an operator sends, and the one-line summary stored with them."""
from __future__ import annotations


def text_message(body: str, reply_to_provider_id: str | None = None) -> dict:
    message = {"type": "text", "text": {"preview_url": False, "body": body}}
    return _with_context(message, reply_to_provider_id)


def media_message(kind: str, caption: str | None, filename: str | None, reply_to_provider_id: str | None = None) -> dict:
    """The media id is filled in at delivery, after the file is uploaded to the provider."""
    part: dict = {}
    if caption and kind != "audio":
        part["caption"] = caption
    if filename and kind == "document":
        part["filename"] = filename
    return _with_context({"type": kind, kind: part}, reply_to_provider_id)


def template_message(name: str, language: str, body_parameters: list[str], header_parameters: list[str]) -> dict:
    components = []
    if header_parameters:
        components.append({"type": "header", "parameters": [_text_parameter(p) for p in header_parameters]})
    if body_parameters:
        components.append({"type": "body", "parameters": [_text_parameter(p) for p in body_parameters]})
    template: dict = {"name": name, "language": {"code": language}}
    if components:
        template["components"] = components
    return {"type": "template", "template": template}


def reaction_message(provider_message_id: str, emoji: str) -> dict:
    return {"type": "reaction", "reaction": {"message_id": provider_message_id, "emoji": emoji}}


def addressed(message: dict, to: str, message_id: str) -> dict:
    """The full request: recipient, and our message id echoed back in status webhooks."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "biz_opaque_callback_data": message_id,
        **message,
    }


def summary(message: dict) -> str:
    kind = message.get("type")
    if kind == "text":
        return message["text"]["body"]
    if kind == "template":
        template = message["template"]
        values = [p["text"] for c in template.get("components", []) for p in c.get("parameters", [])]
        suffix = f": {', '.join(values)}" if values else ""
        return f"Template {template['name']} ({template['language']['code']}){suffix}"
    if kind == "reaction":
        emoji = message["reaction"]["emoji"]
        return f"Reacted {emoji}" if emoji else "Removed reaction"
    part = message.get(kind, {})
    label = {"image": "Photo", "video": "Video", "audio": "Audio", "document": "Document"}.get(kind, kind)
    detail = part.get("caption") or part.get("filename")
    return f"{label}: {detail}" if detail else label


def _text_parameter(value: str) -> dict:
    return {"type": "text", "text": value}


def _with_context(message: dict, reply_to_provider_id: str | None) -> dict:
    if reply_to_provider_id:
        message["context"] = {"message_id": reply_to_provider_id}
    return message
