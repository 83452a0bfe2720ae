import pytest

from backend.services.messaging.consent_keywords import (
    SMS_HELP,
    SMS_OPT_IN,
    SMS_OPT_OUT,
    WHATSAPP_OPT_IN,
    WHATSAPP_OPT_OUT,
    consent_keyword,
)


@pytest.fixture(autouse=True)
def tables():
    """Pure text rules: the unit suite's moto tables are not needed here."""
    yield


@pytest.mark.parametrize(
    ("channel", "words", "meaning"),
    [
        ("whatsapp", WHATSAPP_OPT_OUT, "opt_out"),
        ("whatsapp", WHATSAPP_OPT_IN, "opt_in"),
        ("sms", SMS_OPT_OUT, "opt_out"),
        ("sms", SMS_OPT_IN, "opt_in"),
        ("sms", SMS_HELP, "help"),
    ],
)
def test_every_listed_keyword_is_recognised_in_any_case(channel, words, meaning):
    for word in words:
        assert consent_keyword(channel, word) == meaning
        assert consent_keyword(channel, word.lower()) == meaning
        assert consent_keyword(channel, word.title()) == meaning


def test_the_lists_hold_the_agreed_words():
    assert set(WHATSAPP_OPT_OUT) == {"STOP", "UNSUBSCRIBE", "OPT-OUT", "OPTOUT", "OPT OUT"}
    assert set(WHATSAPP_OPT_IN) == {"START"}
    assert set(SMS_OPT_OUT) == {
        "STOP", "UNSUBSCRIBE", "ARRET", "QUIT", "END", "CANCEL", "OPTOUT", "OPT-OUT", "REMOVE", "TD", "STOPALL"
    }
    assert set(SMS_OPT_IN) == {"START", "UNSTOP"}
    assert set(SMS_HELP) == {"HELP"}


@pytest.mark.parametrize(
    "text",
    ["STOP.", " stop ", "Stop!", "\tSTOP\n", '"stop"', "¡STOP!", "...stop...", "(stop)",
     "\u200bSTOP\u200b", "\ufeffStop"],
)
def test_whitespace_and_surrounding_punctuation_are_ignored(text):
    assert consent_keyword("whatsapp", text) == "opt_out"


@pytest.mark.parametrize("text", ["opt out", "OPT  OUT", "Opt-Out", "optout", " Opt out. "])
def test_whatsapp_opt_out_spellings(text):
    assert consent_keyword("whatsapp", text) == "opt_out"


@pytest.mark.parametrize(
    "text",
    ["please stop", "stop it", "STOP STOP", "stopped", "S T O P", "don't stop", "unstoppable", "ST.OP",
     "", "   ", "...", None, "STOP" + " " * 100 + "please", "x" * 10_000],
)
def test_only_the_whole_message_counts(text):
    assert consent_keyword("whatsapp", text) is None
    assert consent_keyword("sms", text) is None


@pytest.mark.parametrize(
    ("channel", "text", "expected"),
    [
        ("whatsapp", "HELP", None),  # WhatsApp has no HELP keyword
        ("whatsapp", "UNSTOP", None),
        ("whatsapp", "QUIT", None),
        ("sms", "OPT OUT", None),  # the SMS list has OPTOUT and OPT-OUT only
        ("sms", "Arrêt", "opt_out"),  # accents do not matter
        ("sms", "unstop", "opt_in"),
        ("SMS", "help?", "help"),
    ],
)
def test_keywords_belong_to_their_channel(channel, text, expected):
    assert consent_keyword(channel, text) == expected


@pytest.mark.parametrize("text", ["STOP", "START", "HELP", "unsubscribe"])
def test_email_has_no_keywords(text):
    assert consent_keyword("email", text) is None


def test_unknown_channel_is_a_programming_error():
    with pytest.raises(ValueError, match="carrier-pigeon"):
        consent_keyword("carrier-pigeon", "STOP")
