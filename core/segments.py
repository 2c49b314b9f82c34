"""How many SMS parts a text takes (what carriers bill): GSM-7 when every character allows it,
else UCS-2. The page's live counter reads the same character sets from the HTML, so the
browser and the server always count alike.
"""

from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Each of these takes two GSM-7 characters (an escape, then the character).
GSM7_EXTENDED = "^{}\\[~]|€\f"
GSM7_SINGLE, GSM7_PART = 160, 153
# The longest text we send: Twilio refuses a message body over 1,600 characters.
MAX_BODY_LENGTH = 1600
UCS2_SINGLE, UCS2_PART = 70, 67

_BASIC = frozenset(GSM7_BASIC)
_EXTENDED = frozenset(GSM7_EXTENDED)


@dataclass(frozen=True)
class Segments:
    encoding: str
    characters: int
    units: int
    parts: int

    def __str__(self) -> str:
        plural = "" if self.parts == 1 else "s"
        return f"{self.characters} characters, {self.parts} SMS part{plural} ({self.encoding})"


def sms_segments(text: str) -> Segments:
    """The encoding a text needs and the number of SMS parts it is sent as.

    Line breaks count once (as they are sent), and a two-unit character (a GSM-7 escape pair,
    a UTF-16 surrogate pair) is never split between parts, so it may start a new one.
    """
    text = text.replace("\r\n", "\n")
    if all(char in _BASIC or char in _EXTENDED for char in text):
        sizes = [2 if char in _EXTENDED else 1 for char in text]
        single, part, encoding = GSM7_SINGLE, GSM7_PART, "GSM-7"
    else:
        sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
        single, part, encoding = UCS2_SINGLE, UCS2_PART, "UCS-2"
    units = sum(sizes)
    return Segments(
        encoding=encoding,
        characters=len(text),
        units=units,
        parts=_parts(sizes, units, single, part),
    )


def _parts(sizes: list[int], units: int, single: int, part: int) -> int:
    if units <= single:
        return 1 if units else 0
    parts, used = 1, 0
    for size in sizes:
        if used + size > part:
            parts, used = parts + 1, 0
        used += size
    return parts
