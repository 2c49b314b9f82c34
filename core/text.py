"""Text as people type it on phones, reduced to the form in which words are compared.

A CSV file's column headers are compared in the normal form `normalize` gives, so "Phone",
" PHONE " and "phone:" are one header. Keywords and messages (SPEC section 3) go further
(`keyword_forms`): letters typed apart and look-alike characters count as the letters they
stand for, so "S.T.O.P" and STOP spelt with Cyrillic letters are STOP.
"""

import functools
import re
import unicodedata
from pathlib import Path

QUOTES = "\"'`´‘’‚‛“”„‟«»‹›「」『』"
TRAILING_PUNCTUATION = ".!?¡¿。！？"
SEPARATORS = re.compile(r"[\s\-_‐‑‒–—―]+")


def normalize(text: str) -> str:
    """The form in which messages and keywords are compared.

    Invisible format characters (zero-width space, byte-order mark) are dropped first: phones
    and keyboards insert them, and "STOP\u200b" is still STOP.
    """
    return _tidy(text).casefold()


def _tidy(text: str) -> str:
    """`normalize` but for case: invisible characters dropped, NFKC, surrounding quotes and
    trailing punctuation removed, runs of spaces, hyphens and underscores one space."""
    visible = "".join(ch for ch in text or "" if unicodedata.category(ch) != "Cf")
    tidied = unicodedata.normalize("NFKC", visible)
    previous = None
    while tidied != previous:
        previous = tidied
        tidied = tidied.strip().strip(QUOTES).rstrip(TRAILING_PUNCTUATION)
    return SEPARATORS.sub(" ", tidied).strip()


# Letters typed apart to dodge a filter, or by habit: "S.T.O.P", "S T O P", "s-t-o-p".
SPACED_LETTERS = re.compile(r"(?:\w[\s.\-_‐‑‒–—―·•∙⋅・]+)+\w\Z")
LETTER_SPACING = re.compile(r"[\s.\-_‐‑‒–—―·•∙⋅・]+")

# Default_Ignorable_Code_Point in Unicode 17.0.0's DerivedCoreProperties.txt: UTS #39 drops
# these before mapping (zero-width space and joiners, soft hyphen, bidi controls, variation
# selectors, Hangul fillers, tags).
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)  # fmt: skip

# Small capitals are what the skeleton makes of some lower-case letters (Cyrillic т is ᴛ);
# read as the letters they are, so "ѕтор" folds like "STOP" does.
SMALL_CAPITALS = dict(zip("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡʏᴢ", "abcdefghijklmnopqrstuvwyz", strict=True))

# Cyrillic es looks like C and sounds like S; people spelling STOP in Cyrillic look-alikes
# write "СТОР". It is read both ways (`keyword_forms`).
CYRILLIC_ES_AS_S = str.maketrans({"С": "S", "с": "s"})

# Bidirectional controls reorder what is displayed: a keyword holding them is not what it looks.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


@functools.lru_cache(maxsize=4096)
def keyword_forms(text: str) -> tuple[str, ...]:
    """The forms in which a keyword or a whole message is compared with keywords.

    `normalize`, then letters typed apart joined ("s.t.o.p" is "stop"), then look-alikes
    folded by the UTS #39 skeleton, so "ЅТОР" in Cyrillic, fullwidth "ＳＴＯＰ" and "ST0P"
    are STOP. The skeleton tells cases apart (I is l, i is i), so it is taken of the text
    both before and after case-folding: "info" and "INFO" meet in the first, Greek "ΕΝD" and
    END in the second. Two texts are the same keyword when their forms meet. The usual
    reading comes first.
    """
    text = _tidy(text)
    if SPACED_LETTERS.match(text):
        text = LETTER_SPACING.sub("", text)
    forms: list[str] = []
    for reading in (text, text.translate(CYRILLIC_ES_AS_S)):
        for cased in (reading.casefold(), reading):
            form = _fold_lookalikes(cased)
            if form not in forms:
                forms.append(form)
    return tuple(forms)


def has_bidi_controls(text: str) -> bool:
    return any(char in BIDI_CONTROLS for char in text)


def _fold_lookalikes(text: str) -> str:
    folded = skeleton(skeleton(text).casefold())
    return "".join(SMALL_CAPITALS.get(char, char) for char in folded)


def skeleton(text: str) -> str:
    """UTS #39 section 4: NFD, default ignorables dropped, each character replaced by the
    prototype confusables.txt gives it, NFD again. Two strings that look alike have the same
    skeleton; the skeleton is for comparing, never for showing."""
    return unicodedata.normalize(
        "NFD", unicodedata.normalize("NFD", text).translate(_confusables())
    )


@functools.cache
def _confusables() -> dict[int, str | None]:
    """Unicode's confusables.txt (17.0.0, core/data, under the Unicode License v3) as a
    translation table, read once."""
    table: dict[int, str | None] = {}
    source = Path(__file__).with_name("data") / "confusables.txt"
    with source.open(encoding="utf-8-sig") as lines:
        for line in lines:
            fields = line.split("#", 1)[0].split(";")
            if len(fields) < 3:
                continue
            target = "".join(chr(int(code, 16)) for code in fields[1].split())
            table[int(fields[0], 16)] = target
    for first, last in DEFAULT_IGNORABLE:
        table.update(dict.fromkeys(range(first, last + 1)))
    return table
