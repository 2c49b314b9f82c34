"""SMS part counting: GSM-7 160 / 153 per part, otherwise UCS-2 70 / 67 per part."""

import pytest

from core.segments import sms_segments


@pytest.mark.parametrize(
    ("text", "encoding", "parts"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # two units each: 160
        ("€" * 81, "GSM-7", 2),
        ("Café à l'école: 5€ {ok}", "GSM-7", 1),
        ("ç" + "a" * 69, "UCS-2", 1),  # lower-case ç is not GSM-7
        ("ç" + "a" * 70, "UCS-2", 2),
        ("a" * 134 + "😀", "UCS-2", 3),  # an emoji is two UTF-16 units: 136 > 134
        ("😀" * 35, "UCS-2", 1),
        ("😀" * 67, "UCS-2", 3),  # 33 emoji fill a 67-unit part: a pair is never split
        ("😀" * 100, "UCS-2", 4),
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 3),  # the escape pair moves to the next part
        ("line\r\n" * 32, "GSM-7", 1),  # CRLF is sent as one line break: 160
    ],
)
def test_parts_and_encoding(text, encoding, parts):
    segments = sms_segments(text)
    assert (segments.encoding, segments.parts) == (encoding, parts)


def test_description_names_characters_parts_and_encoding():
    assert str(sms_segments("Hi ✓")) == "4 characters, 1 SMS part (UCS-2)"
