"""How many SMS parts a text takes (what carriers bill): GSM-7 when every character allows it,
else UCS-2. The page's live counter reads the same character sets from the HTML, so the
browser and the server always count alike.
"""

import math
from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Each of these takes two GSM-7 characters (an escape, then the character).
GSM7_EXTENDED = "^{}\\[~]|€\f"
GSM7_SINGLE, GSM7_PART = 160, 153
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
    """The encoding a text needs and the number of SMS parts it is sent as."""
    if all(char in _BASIC or char in _EXTENDED for char in text):
        units = sum(2 if char in _EXTENDED else 1 for char in text)
        single, part, encoding = GSM7_SINGLE, GSM7_PART, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = UCS2_SINGLE, UCS2_PART, "UCS-2"
    parts = 0 if units == 0 else 1 if units <= single else math.ceil(units / part)
    return Segments(encoding=encoding, characters=len(text), units=units, parts=parts)
