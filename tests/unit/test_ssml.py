"""SSML for voice calls: only Polly's tags in a <speak> document, nothing an XML parser could be tricked with,
the words a call says, and how long it takes to say them."""
from __future__ import annotations

import pytest

from backend.errors import ValidationError
from backend.services.channels.voice.ssml import SpeechEstimate, speech_estimate, spoken_text, validate_ssml

RICH = (
    '<?xml version="1.0"?>\n'
    '<speak><p><s>Hello <emphasis level="strong">Sam</emphasis>.</s>'
    '<s>Your code is <say-as interpret-as="characters">AB12</say-as>.</s></p>'
    '<break time="1500ms"/>'
    '<amazon:effect name="whispered">This is <sub alias="World Wide Web">WWW</sub> news</amazon:effect> '
    '<amazon:domain name="news"><prosody rate="slow">Goodbye</prosody></amazon:domain> '
    '<amazon:auto-breaths><lang xml:lang="fr-FR">merci</lang> <mark name="end"/>'
    '<phoneme alphabet="ipa" ph="təˈmeɪtoʊ">tomato</phoneme> <w role="amazon:VB">read</w></amazon:auto-breaths>'
    '</speak>'
)


def test_plain_text_is_said_as_written_on_one_line():
    assert spoken_text("  Hello,\n\n  your order   is ready. ", "TEXT") == "Hello, your order is ready."


def test_every_polly_tag_is_accepted_and_only_the_words_are_spoken():
    validate_ssml(RICH)
    assert spoken_text(RICH, "SSML") == (
        "Hello Sam. Your code is AB12. This is World Wide Web news Goodbye merci tomato read"
    )


@pytest.mark.parametrize("body, reason", [
    ("<speak>Hello", "not well-formed"),
    ("<speak>Hello</speak><speak>again</speak>", "not well-formed"),
    ("Hello <break/>", "not well-formed"),
    ("<p>Hello</p>", "must start with <speak>"),
    ('<speak><audio src="https://example.com/a.mp3"/>Hi</speak>', "<audio> is not an SSML tag"),
    ("<speak><script>alert(1)</script></speak>", "<script> is not an SSML tag"),
    ("<speak>Hi &nbsp; there</speak>", "not well-formed"),
    ('<speak><break time="eleven"/>Hi</speak>', "must be like 500ms"),
    ('<speak><break time="11s"/>Hi</speak>', "at most 10s"),
    ('<speak><break strength="huge"/>Hi</speak>', "strength='huge'"),
    ("<speak><?php echo 1 ?>Hi</speak>", "processing instructions"),
    ("<speak>  <break/> </speak>", "nothing to say"),
])
def test_bad_ssml_is_refused_naming_the_text_field(body, reason):
    with pytest.raises(ValidationError) as error:
        validate_ssml(body)
    assert error.value.field == "text" and reason in error.value.message


@pytest.mark.parametrize("body", [
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><speak>&lol2;</speak>',
    '<!DOCTYPE speak SYSTEM "file:///etc/passwd"><speak>x</speak>',
    '<?xml version="1.0"?><!doctype speak [<!entity x SYSTEM "http://example.com/">]><speak>&x;</speak>',
    '<speak><!ENTITY x "y">Hi</speak>',
])
def test_doctype_and_entity_declarations_are_refused_before_parsing(body):
    with pytest.raises(ValidationError, match="DOCTYPE") as error:
        spoken_text(body, "SSML")
    assert error.value.field == "text"


def test_the_field_named_in_errors_can_be_chosen():
    with pytest.raises(ValidationError) as error:
        validate_ssml("<speak>", field_name="message.text")
    assert error.value.field == "message.text"


def test_an_unknown_text_type_names_its_field():
    with pytest.raises(ValidationError) as error:
        spoken_text("Hello", "MARKDOWN")
    assert error.value.field == "textType"


def test_speech_estimate_counts_words_at_150_a_minute():
    words = " ".join(["word"] * 150)
    assert speech_estimate(words) == SpeechEstimate(characters=len(words), words=150, seconds=60.0)
    assert speech_estimate("Hello there") == (11, 2, 0.8)
    assert speech_estimate("") == (0, 0, 0.0)


def test_speech_estimate_adds_ssml_pauses_and_skips_markup():
    body = '<speak>Hello <break time="2s"/>there <break time="500ms"/><break strength="x-strong"/><break/></speak>'
    characters, words, seconds = speech_estimate(body, "SSML")
    assert (characters, words) == (len("Hello there"), 2)
    assert seconds == pytest.approx(0.8 + 2 + 0.5 + 1.0 + 0.5)
    assert speech_estimate('<speak><sub alias="Doctor">Dr</sub> Who</speak>', "SSML").words == 2
