"""A message that is only a misspelt opt-out keyword (issue 17): "stpo", "unsubscirbe".

People type STOP in a hurry. A message that is nothing but a near spelling of a built-in
opt-out keyword opts out, when the reading is unambiguous:

* short keywords (five letters or fewer: STOP, QUIT, END, ALTO, ARRET) only with two
  neighbouring letters swapped or a letter repeated ("sotp", "stopp"): one letter more, less or
  different makes other words of them (step, shop, top);
* longer ones with one edit (CANCEL, REVOKE, OPTOUT), and from eight letters two (UNSUBSCRIBE,
  CANCELAR), where a swap of neighbours is one edit;
* never when the text is itself a word people write: wordfreq's frequency of it in English,
  Spanish or French is at least `EVERYDAY` on its Zipf scale (once in 10 million words), so
  "stoop", "ned", "cancer" and "evoke" stay what they are;
* never when another built-in keyword (an opt-in or help one too) is as near: "usubscribe" is
  as close to SUBSCRIBE as to UNSUBSCRIBE.

Custom keywords are matched exactly before this is asked, so a responder's own word wins.
"""

import functools
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from wordfreq import zipf_frequency

from core.text import keyword_forms
from keywords.languages import PACKS
from keywords.models import Action

EVERYDAY = 2.0
WORD_LISTS = ("en", "es", "fr")
SHORT = 5


@dataclass(frozen=True)
class Misspelling:
    keyword: str  # as its pack spells it
    language: str
    typed: str  # the word as read
    exact: bool = False  # the keyword itself but for accents ("ARRÊTE"): not a misspelling


@dataclass(frozen=True)
class _Keyword:
    spelling: str  # folded: lower case, no accents, single spaces
    kind: str
    keyword: str
    language: str


def read_misspelling(text: str, languages: Collection[str]) -> Misspelling | None:
    """The opt-out keyword this whole message misspells, or None when it is not one, is a
    word, or is as near another keyword."""
    for form in keyword_forms(text):
        typed = _fold(form)
        if not typed.replace(" ", "").isalpha() or len(typed) < 3:
            continue
        distance, nearest = _nearest(typed, languages)
        if nearest is None or nearest.kind != Action.OPT_OUT:
            continue
        if distance and (_is_everyday(typed) or _is_everyday(form)):
            continue  # "rareté" is a word, whatever its letters without accents are near
        return Misspelling(nearest.keyword, nearest.language, typed, exact=not distance)
    return None


def _nearest(typed: str, languages: Collection[str]) -> tuple[int, "_Keyword | None"]:
    """(distance, keyword) of the keyword nearest the text: the first a pack lists when
    several are as near, None when they differ in effect or none is within reach."""
    return _nearest_in(typed, frozenset(languages))


@functools.lru_cache(maxsize=4096)
def _nearest_in(typed: str, languages: frozenset[str]) -> tuple[int, "_Keyword | None"]:
    """`_nearest`, remembered: the same short words ("thanks", "yes") come in all day, and
    measuring them against every keyword of every pack was a tenth of processing a text."""
    reached = [
        (distance, keyword)
        for keyword in _keywords()
        if keyword.language in languages
        and (distance := _distance_within_reach(typed, keyword.spelling)) is not None
    ]
    if not reached:
        return 0, None
    best = min(distance for distance, _ in reached)
    nearest = [keyword for distance, keyword in reached if distance == best]
    return best, (nearest[0] if len({keyword.kind for keyword in nearest}) == 1 else None)


def _distance_within_reach(typed: str, spelling: str) -> int | None:
    """How far `typed` is from the keyword's spelling when it is a misspelling the rules
    allowed, else None. The same letters but for accents ("ARRÊTE") are the keyword itself."""
    if typed == spelling:
        return 0
    if _runs(typed) == _runs(spelling):
        return 1  # letters repeated: "stopp", "sstop"
    if len(spelling) <= SHORT:
        return 1 if _one_swap(typed, spelling) else None
    allowed = 1 if len(spelling) < 8 else 2
    distance = _edit_distance(typed, spelling, allowed)
    return distance if distance <= allowed else None


def _one_swap(first: str, second: str) -> bool:
    if len(first) != len(second):
        return False
    differences = [i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b]
    return (
        len(differences) == 2
        and differences[1] == differences[0] + 1
        and first[differences[0]] == second[differences[1]]
        and first[differences[1]] == second[differences[0]]
    )


def _edit_distance(first: str, second: str, limit: int) -> int:
    """Optimal string alignment distance (insert, delete, substitute, swap neighbours),
    or `limit + 1` once it is beyond `limit`."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    before, previous = None, list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i]
        for j, b in enumerate(second, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if before is not None and j > 1 and a == second[j - 2] and first[i - 2] == b:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def _runs(word: str) -> str:
    """The word with each run of one letter made a single letter."""
    return "".join(letter for i, letter in enumerate(word) if i == 0 or word[i - 1] != letter)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


@functools.cache
def _keywords() -> tuple[_Keyword, ...]:
    return tuple(
        _Keyword(_fold(keyword_forms(keyword)[0]), kind, keyword, pack.language)
        for pack in PACKS.values()
        for kind, keywords in pack.keywords.items()
        for keyword in keywords
    )


@functools.lru_cache(maxsize=1024)
def _is_everyday(word: str) -> bool:
    return max(zipf_frequency(word, language) for language in WORD_LISTS) >= EVERYDAY
