"""Avatar initials are letters only (issue 11): punctuation or digits typed into a name never reach the avatar."""
import pytest

from wecare_app.components.formatting import initials


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ann Lee", "AL"),
        ("M<ario", "M"),
        ('G"race Hopper', "GH"),
        ("<Max>", "M"),
        ("émile zola", "ÉZ"),
        ("Дмитрий Иванов", "ДИ"),
        ("007 Bond", "B"),
        ("42", "?"),
        ("", "?"),
        ("  <> !! ", "?"),
        ("Ann Beth Cole", "AB"),
    ],
)
def test_initials_are_up_to_two_letters(name, expected):
    assert initials(name) == expected
