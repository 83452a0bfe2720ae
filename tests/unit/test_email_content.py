"""Email content: hostile HTML comes out harmless, the plain-text part reads well, and limits name the field."""
from __future__ import annotations

import pytest

from backend.errors import ValidationError
from backend.services.channels.email.content import (
    HTML_MAX_BYTES,
    SUBJECT_MAX_CHARS,
    TEXT_MAX_BYTES,
    plain_text_of,
    prepare_content,
    sanitise_html,
)

# Things that must never survive sanitising, whatever the input.
FORBIDDEN = ("<script", "</script", "onerror", "onload", "onclick", "onmouseover", "javascript:", "vbscript:",
             "data:", "<style", "style=", "<iframe", "<object", "<embed", "<form", "<input", "<base", "<meta",
             "<svg", "<math", "<link", "srcset", "formaction", "expression(")


@pytest.mark.parametrize(
    "html",
    [
        "<p>Hi</p><script>alert(document.cookie)</script>",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT><p>Hi</p>",
        '<img src="https://cdn.example/a.png" onerror="alert(1)" onload="alert(2)">',
        '<a href="javascript:alert(1)">click</a>',
        '<a href="JaVaScRiPt:alert(1)">click</a>',
        '<a href="  javascript:alert(1)">click</a>',
        '<a href="jav&#x09;ascript:alert(1)">click</a>',
        '<a href="&#106;avascript:alert(1)">click</a>',
        '<a href="vbscript:msgbox(1)">click</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>',
        '<img src="data:image/png;base64,iVBORw0KGgo=" alt="pixel">',
        '<img src="http://tracker.example/p.gif">',
        '<img src="https://cdn.example/a.png" srcset="javascript:alert(1) 1x">',
        "<style>body{background:url(javascript:alert(1))}</style><p>Hi</p>",
        '<div style="width: expression(alert(1)); background:url(https://evil.example)">Hi</div>',
        '<iframe src="https://evil.example"></iframe>',
        '<iframe srcdoc="<script>alert(1)</script>">inner</iframe>',
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "<<script>script>alert(1)<</script>/script>",
        "<svg><script>alert(1)</script><a xlink:href='javascript:alert(1)'>x</a></svg>",
        "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
        "<!--[if gte mso 9]><script>alert(1)</script><![endif]--><p>Hi</p>",
        '<p onmouseover="alert(1)" onclick="alert(2)">Hi</p>',
        '<form action="https://evil.example"><input name="pw"><button formaction="javascript:alert(1)">Go</button></form>',
        '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
        '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">',
        '<link rel="stylesheet" href="https://evil.example/x.css"><p>Hi</p>',
        '<table background="javascript:alert(1)"><tr><td background="javascript:alert(1)">x</td></tr></table>',
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    ],
)
def test_hostile_html_is_made_harmless(html):
    clean = sanitise_html(html).lower()
    for bad in FORBIDDEN:
        assert bad not in clean, f"{bad!r} survived in {clean!r}"


def test_the_email_subset_survives_with_safe_links():
    html = (
        '<h2>Order</h2><p>Hello <b>Sam</b> <em>and</em> <u>co</u>,</p>'
        '<a href="https://shop.example/o/1" target="_blank" rel="opener">track</a> '
        '<a href="http://shop.example">shop</a> <a href="mailto:help@shop.example">help</a>'
        '<img src="https://cdn.example/logo.png" alt="Logo" width="120" height="40">'
        '<ul><li>one</li></ul><blockquote>quoted</blockquote>'
        '<table><thead><tr><th>A</th></tr></thead><tbody><tr><td colspan="2">1</td></tr></tbody></table>'
    )
    clean = sanitise_html(html)
    assert '<a href="https://shop.example/o/1" rel="noopener">track</a>' in clean
    assert '<a href="http://shop.example" rel="noopener">shop</a>' in clean
    assert '<a href="mailto:help@shop.example" rel="noopener">help</a>' in clean
    assert '<img src="https://cdn.example/logo.png" alt="Logo" width="120" height="40">' in clean
    for kept in ("<h2>", "<b>Sam</b>", "<em>and</em>", "<u>co</u>", "<li>one</li>", "<blockquote>", "<thead>",
                 '<td colspan="2">'):
        assert kept in clean
    assert "target=" not in clean and "opener\"" not in clean.replace("noopener", "")


def test_relative_and_non_web_links_lose_their_target_but_keep_their_text():
    clean = sanitise_html('<a href="/account">account</a> <a href="ftp://files.example">files</a>')
    assert clean == '<a rel="noopener">account</a> <a rel="noopener">files</a>'


def test_plain_text_alternative_is_readable():
    html = (
        "<h1>Your order</h1><p>Hello&nbsp;<b>Sam</b>,<br>it is   on its\n way.</p>"
        '<p>Track it <a href="https://shop.example/t/1">here</a> or write to '
        '<a href="mailto:help@shop.example">help@shop.example</a>.</p>'
        "<ul><li>Tea</li><li>Cake</li></ul><ol><li>Pay</li><li>Wait</li></ol>"
        "<table><tr><th>Item</th><th>Price</th></tr><tr><td>Tea</td><td>&pound;3</td></tr></table>"
        '<img src="https://cdn.example/logo.png" alt="Shop logo"><div>Bye</div>'
    )
    assert plain_text_of(html) == (
        "Your order\n\n"
        "Hello Sam,\nit is on its way.\n\n"
        "Track it here (https://shop.example/t/1) or write to help@shop.example.\n\n"
        "- Tea\n- Cake\n\n"
        "1. Pay\n2. Wait\n\n"
        "Item | Price\nTea | £3\n\n"
        "Shop logo\nBye"
    )


def test_plain_text_skips_whatever_would_not_be_shown():
    assert plain_text_of("<style>p{}</style><script>x()</script><p>Shown</p>") == "Shown"


def test_content_is_sanitised_and_gets_a_plain_text_part_when_only_html_is_given():
    content = prepare_content("  Receipt  ", None, '<p onclick="x()">Paid, <a href="https://s.example">see</a></p>')
    assert content.subject == "Receipt"
    assert content.html == '<p>Paid, <a href="https://s.example" rel="noopener">see</a></p>'
    assert content.text == "Paid, see (https://s.example)"
    given = prepare_content("Receipt", "My own text", "<p>Paid</p>")
    assert given.text == "My own text" and given.html == "<p>Paid</p>"


@pytest.mark.parametrize(
    "subject",
    ["Hello\r\nBcc: victim@example.com", "Hello\nX-Injected: yes", "Hello\rworld", "\r\n"],
)
def test_a_subject_with_line_breaks_is_refused(subject):
    with pytest.raises(ValidationError) as error:
        prepare_content(subject, "body", None)
    assert error.value.field == "subject"


def test_subject_length_and_presence():
    assert prepare_content("s" * SUBJECT_MAX_CHARS, "body", None).subject == "s" * SUBJECT_MAX_CHARS
    for subject in ("s" * (SUBJECT_MAX_CHARS + 1), "   "):
        with pytest.raises(ValidationError) as error:
            prepare_content(subject, "body", None)
        assert error.value.field == "subject"


@pytest.mark.parametrize(
    "text, html, field",
    [
        ("x" * (TEXT_MAX_BYTES + 1), None, "text"),
        ("é" * (TEXT_MAX_BYTES // 2 + 1), None, "text"),  # the limit is in bytes, not characters
        ("ok", "<p>" + "x" * HTML_MAX_BYTES + "</p>", "html"),
        (None, None, "text"),
        ("  ", "", "text"),
        (None, "<script>alert(1)</script>", "html"),  # nothing left once unsafe content is removed
        ("ok", "<iframe src='https://evil.example'></iframe>", "html"),
        (None, '<img src="https://cdn.example/a.png">', "html"),  # no readable text for the plain part
    ],
)
def test_limits_and_empty_bodies_name_the_field(text, html, field):
    with pytest.raises(ValidationError) as error:
        prepare_content("Subject", text, html)
    assert error.value.field == field
    assert error.value.message.startswith(f"{field}:")


def test_the_limits_are_inclusive():
    content = prepare_content("S", "x" * TEXT_MAX_BYTES, "<p>" + "y" * (HTML_MAX_BYTES - 7) + "</p>")
    assert len(content.text) == TEXT_MAX_BYTES
