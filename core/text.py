"""Text as people type it on phones, reduced to the form in which words are compared.

Keywords and messages (SPEC section 3), and a CSV file's column headers, are compared in the
normal form `normalize` gives, so "Stop", " STOP ", "stop." and "STOP!!" are one word.
"""

import re
import unicodedata

QUOTES = "\"'`´‘’‚‛“”„‟«»‹›「」『』"
TRAILING_PUNCTUATION = ".!?¡¿。！？"
SEPARATORS = re.compile(r"[\s\-_‐‑‒–—―]+")


def normalize(text: str) -> str:
    """The form in which messages and keywords are compared.

    Invisible format characters (zero-width space, byte-order mark) are dropped first: phones
    and keyboards insert them, and "STOP\u200b" is still STOP.
    """
    visible = "".join(ch for ch in text or "" if unicodedata.category(ch) != "Cf")
    folded = unicodedata.normalize("NFKC", visible).casefold()
    previous = None
    while folded != previous:
        previous = folded
        folded = folded.strip().strip(QUOTES).rstrip(TRAILING_PUNCTUATION)
    return SEPARATORS.sub(" ", folded).strip()
