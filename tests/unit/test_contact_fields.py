import pytest

from backend.errors import ValidationError
from backend.services.platform.validation import normalise_email
from backend.services.contacts.fields import fold_name, looks_like_phone, normalise_name, normalise_phone, normalise_tags


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+44 7911 123456", "US", "+447911123456"),
        ("07911 123456", "GB", "+447911123456"),
        ("(415) 555-0132", "US", "+14155550132"),
        ("+1-415-555-0132", "GB", "+14155550132"),
    ],
)
def test_phone_becomes_e164(raw, region, expected):
    assert normalise_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["12", "hello", "+44 1", "+999 1234 5678", "1" * 40])
def test_invalid_phone_names_the_field(raw):
    with pytest.raises(ValidationError) as raised:
        normalise_phone(raw, "GB")
    assert raised.value.field == "phone"


def test_email_is_trimmed_and_lowercased():
    assert normalise_email("  Ann.Lee+news@Example.CO.UK ") == "ann.lee+news@example.co.uk"


@pytest.mark.parametrize("raw", ["ann", "ann@", "@example.com", "ann@example", "a b@example.com", "x" * 250 + "@example.com"])
def test_invalid_email_is_refused(raw):
    with pytest.raises(ValidationError) as raised:
        normalise_email(raw)
    assert raised.value.field == "email"


def test_name_rules():
    assert normalise_name("  Ann   Lee ") == "Ann Lee"
    for bad in ("", "   ", "x" * 201, "Ann\x00Lee"):
        with pytest.raises(ValidationError):
            normalise_name(bad)


def test_tags_are_folded_deduplicated_and_bounded():
    assert normalise_tags([" VIP ", "vip", "", "London  Office"]) == ["vip", "london office"]
    with pytest.raises(ValidationError):
        normalise_tags([f"t{i}" for i in range(51)])


def test_fold_name_ignores_case_accents_and_spacing():
    assert fold_name("  Zoë   ÁLVAREZ ") == "zoe alvarez"


def test_looks_like_phone():
    assert looks_like_phone("+44 7911 123456")
    assert not looks_like_phone("ann")
    assert not looks_like_phone("12")


@pytest.mark.parametrize("region", ["US", "GB", "DE"])
def test_00_is_the_international_prefix_in_any_region(region):
    assert normalise_phone("0044 7911 123456", region) == "+447911123456"
    assert normalise_phone("00 1 415 555 0132", region) == "+14155550132"


@pytest.mark.parametrize("raw", ["+44 7911 123456 ext. 12", "+44 7911 123456 x12", "07911 123456 ext 3"])
def test_an_extension_is_refused_not_silently_dropped(raw):
    with pytest.raises(ValidationError, match="extensions are not supported") as raised:
        normalise_phone(raw, "GB")
    assert raised.value.field == "phone"
