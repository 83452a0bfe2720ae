"""Normalising and validating the fields of a contact: phone to E.164, name, tags (email: platform.validation)."""
from __future__ import annotations

import re
import unicodedata

import phonenumbers

from backend.errors import ValidationError

NAME_MAX = 200
TAG_MAX = 40
TAGS_MAX = 50

_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{5,}$")
_INTERNATIONAL_00 = re.compile(r"^00\s*")  # `00 44 …`, `0044 …`: the international prefix


def normalise_phone(raw: str, default_region: str, field: str = "phone") -> str:
    """E.164 (`+447700900123`) or a ValidationError naming the field.

    A leading `00` is the international prefix whatever the default region (in the US it would otherwise be
    read as a national number), and an extension is refused: a contact stores E.164, which has none, and
    dropping it silently would reach the switchboard instead of the person."""
    text = raw.strip()
    if len(text) > 32:
        raise ValidationError("Phone number is too long (at most 32 characters).", field=field)
    if _INTERNATIONAL_00.match(text):
        text = "+" + _INTERNATIONAL_00.sub("", text, count=1)
    try:
        number = phonenumbers.parse(text, default_region.upper())
    except phonenumbers.NumberParseException:
        raise ValidationError(f"'{text}' is not a phone number.", field=field) from None
    if number.extension:
        raise ValidationError(f"extensions are not supported: '{raw.strip()}' (store the number without it).", field=field)
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"'{text}' is not a valid phone number.", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_name(raw: str, field: str = "name") -> str:
    text = " ".join(raw.split())
    if not text:
        raise ValidationError("Name is required.", field=field)
    if len(text) > NAME_MAX:
        raise ValidationError(f"Name is too long (at most {NAME_MAX} characters).", field=field)
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise ValidationError("Name contains control characters.", field=field)
    return text


def normalise_tags(raw: list[str] | tuple[str, ...], field: str = "tags") -> list[str]:
    tags: list[str] = []
    for tag in raw:
        text = " ".join(str(tag).split()).lower()
        if not text:
            continue
        if len(text) > TAG_MAX:
            raise ValidationError(f"Tag '{text[:20]}…' is too long (at most {TAG_MAX} characters).", field=field)
        if text not in tags:
            tags.append(text)
    if len(tags) > TAGS_MAX:
        raise ValidationError(f"Too many tags (at most {TAGS_MAX}).", field=field)
    return tags


def name_or_address(raw: str | None, phone: str | None, email: str | None, field: str = "name") -> str:
    """The name given or, when there is none, the contact's address (phone first): a contact known only by a
    number or an email is still a contact, shown by that address. With no address either, a name is required."""
    if raw and raw.strip():
        return normalise_name(raw, field=field)
    if phone or email:
        return phone or email
    raise ValidationError("Name is required when there is no phone or email.", field=field)


def fold_name(name: str) -> str:
    """The search form of a name: lower case, accents removed, single spaces."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def looks_like_phone(text: str) -> bool:
    return bool(_PHONE_LIKE.match(text.strip())) and sum(ch.isdigit() for ch in text) >= 5
