"""Made-up but realistic contacts for the benchmarks: seeded, so every run sees the same data.

Names are drawn from short first/last name lists, so many contacts share prefixes (as real address books
do) and name-prefix searches hit crowded index ranges. Phones are unique San Francisco-area numbers
(+1 415/628/650, exchange 2XX), each checked with `phonenumbers.is_valid_number`; emails are unique.
"""
from __future__ import annotations

import csv
import io
import random
import unicodedata
from dataclasses import dataclass

import phonenumbers

FIRST_NAMES = (
    "Aaron Abigail Adam Aiden Alex Alice Alicia Amanda Amelia Ana Andre Andrea Andrew Angela Anna Anthony "
    "Arjun Ava Ben Benjamin Brandon Brian Camila Carlos Caroline Catherine Charles Chloé Chris Christina Claire "
    "Daniel David Deepa Diana Diego Dylan Elena Eli Elizabeth Ella Emily Emma Eric Ethan Eva Fatima Fernando "
    "Gabriel Grace Hannah Harper Hiro Ian Isabel Isaac Jack Jacob James Jasmine Jason Jennifer Jessica Jin "
    "John Jordan José Joseph Julia Justin Karen Kevin Kim Laura Leah Leo Liam Lily Linda Lucas Luis Maria "
    "Mark Mateo Matthew Maya Mei Mia Michael Michelle Mohammed Natalie Nathan Nicole Noah Olivia Omar Priya "
    "Rachel Rafael Rahul Renée Ryan Samuel Sarah Sofia Sophie Steven Thomas Tyler Victoria William Yuki Zoë"
).split()
LAST_NAMES = (
    "Adams Ahmed Allen Alvarez Anderson Baker Bennett Brooks Brown Campbell Carter Castillo Chen Clark Collins "
    "Cooper Cruz Davis Diaz Edwards Evans Fischer Flores Foster García Gomez Gonzalez Gray Green Gupta Hall "
    "Harris Hernandez Hill Howard Hughes Jackson James Johnson Jones Kelly Kim Khan King Kumar Lee Lewis Li "
    "Lin Lopez Martin Martinez Mendoza Miller Mitchell Moore Morales Morgan Müller Murphy Nguyen Núñez O'Brien "
    "Ortiz Parker Patel Perez Peterson Phillips Ramirez Reed Reyes Rivera Roberts Robinson Rodriguez Rogers "
    "Ross Sanchez Sanders Scott Shah Singh Smith Stewart Sullivan Tanaka Taylor Thomas Thompson Torres Tran "
    "Turner Walker Wang Ward Watson White Williams Wilson Wong Wright Wu Yamamoto Young Zhang"
).split()
AREA_CODES = ("415", "628", "650")
EMAIL_DOMAINS = ("example.com", "example.org", "mail.example.net", "corp.example.com")
TAGS = ("vip", "newsletter", "customer", "lead", "partner", "sf", "event-2024", "wholesale")


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    phone: str | None  # E.164
    email: str | None

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def make_people(count: int, seed: int) -> list[Person]:
    rng = random.Random(seed)
    phones = unique_valid_phones(count, rng)
    people = []
    for serial, phone in enumerate(phones):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        people.append(Person(first, last, phone, email_for(first, last, serial, rng)))
    return people


def unique_valid_phones(count: int, rng: random.Random) -> list[str]:
    """`count` distinct E.164 numbers, each accepted by phonenumbers as a valid US number."""
    space = len(AREA_CODES) * 100 * 10_000  # area code x exchange 200-299 x line 0000-9999
    if count > space:
        raise ValueError(f"at most {space:,} distinct phone numbers in this plan")
    phones = []
    for index in rng.sample(range(space), count):
        area, rest = divmod(index, 1_000_000)
        exchange, line = divmod(rest, 10_000)
        e164 = f"+1{AREA_CODES[area]}{200 + exchange}{line:04d}"
        if not phonenumbers.is_valid_number(phonenumbers.parse(e164)):
            raise ValueError(f"{e164} is not a valid US number; change the number plan")
        phones.append(e164)
    return phones


def ascii_fold(text: str) -> str:
    """'Zoë O'Brien' -> 'zoeobrien': what goes into a made-up email address."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


def email_for(first: str, last: str, serial: int, rng: random.Random) -> str:
    """Unique through the serial number; the local-part style varies like real address books."""
    first_part, last_part = ascii_fold(first), ascii_fold(last)
    local = rng.choice((f"{first_part}.{last_part}", f"{first_part[0]}{last_part}", f"{first_part}_{last_part}"))
    return f"{local}.{serial}@{rng.choice(EMAIL_DOMAINS)}"


def phone_as_typed(e164: str, rng: random.Random) -> str:
    """The number the way a person would type it: spaces, dashes, brackets, with or without +1."""
    area, exchange, line = e164[2:5], e164[5:8], e164[8:]
    styles = (
        f"+1 {area} {exchange} {line}",
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"{area} {exchange} {line}",
        f"+1{area}{exchange}{line}",
        f"1 {area} {exchange} {line}",
    )
    return rng.choice(styles)


def email_as_typed(email: str, rng: random.Random) -> str:
    return email if rng.random() < 0.75 else email.upper()


def random_tags(rng: random.Random) -> str:
    return ";".join(rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2, 3))))


def to_csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
