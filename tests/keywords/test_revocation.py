"""The phrase detector and the whole decision on the labelled corpus (tests/data/revocation).

The development part is checked message by message. The held-out part is only scored: its
messages never appear in a test's name or output, so the detector is not tuned to it.
"""

import pytest

from keywords.revocation import read_revocation
from tests.support.corpus import PARTS, revocation_corpus, score
from tests.support.reading import reads_as_stop

DEVELOPMENT = revocation_corpus("development")


@pytest.mark.parametrize("row", DEVELOPMENT, ids=lambda row: row.message[:40])
def test_development_message(row):
    assert reads_as_stop(row.message) == row.expected, row


def test_the_held_out_part_keeps_its_level():
    """Measured when the rework landed (benchmarks/revocation.py, 469 held-out messages):
    precision 0.973, recall 0.863. The goal is 0.995 and 0.95, not reached; this only stops
    the detector from sliding back. Scores only: no held-out message is printed."""
    scores = score(reads_as_stop, revocation_corpus("held_out"))
    precision, recall = scores.precision, scores.recall
    assert precision >= 0.97
    assert recall >= 0.86


def test_the_corpus_is_large_and_a_third_is_held_out():
    """Counts only: a failing assertion here must not print held-out messages."""
    parts = {part: revocation_corpus(part) for part in PARTS}
    total = sum(len(rows) for rows in parts.values())
    held_out = len(parts["held_out"])
    assert total >= 256 + 200
    assert held_out * 3 >= total
    for rows in parts.values():
        languages = len({row.language for row in rows})
        requests = sum(row.expected for row in rows)
        others = len(rows) - requests
        assert languages >= 5  # en, es, fr, pt, de
        assert requests >= 100
        assert others >= 100
    development = {_comparable(row.message) for row in parts["development"]}
    shared = sum(_comparable(row.message) in development for row in parts["held_out"])
    assert shared == 0, "a held-out message is also a development one"


def _comparable(message: str) -> str:
    return message.strip().rstrip(".!? ").casefold()


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("stop all the weekly promo texts", "asks to stop the messages"),
        ("Quit the billing alerts", "asks to stop the messages"),
        ("please end all these appointment reminder texts", "asks to stop the messages"),
        ("cancel the monthly statement notifications pls", "asks to stop the messages"),
        ("I want off this list", "says they want out"),
        ("i want off your texts", "says they want out"),
        ("take me off your marketing list", "asks to be removed"),
        ("unsubscribe me from every single one of these texts", "asks to be unsubscribed"),
        ("no more flash sale texts!!", "asks for no more messages"),
        ("please stpo texting me", "asks to stop being texted"),
        ("stop f***ing texting me", "asks to stop being texted"),
        ("I don't want the daily deal messages", "says they do not want the messages"),
    ],
)
def test_structure_reads_words_between_the_verb_and_the_thing(message, reason):
    assert read_revocation(message).reason == reason


@pytest.mark.parametrize(
    "message",
    [
        "can you stop by the shop and text me when you're done",
        "stop at the gate, I'll text you the code",
        "I need to cancel my appointment",
        "cancel my order, I'll get the updates by email",
        "I want out of this contract",
        "remove me from this appointment, my wife will come instead",
        "No more than two texts a week please",
        "Is that enough?",
        "does the sale end of the month deals too?",
        "please don't stop the weekly promo texts",
        "don't text me after 9pm",
        "stop texting me until the part arrives",
        "if you don't want the reminder texts, how do I tell my husband?",
        "I'll stop texting you now, bye",
        "Don't contact me by email, text is fine",
        "How do I stop this leak under the sink?",
        "Stops?",
    ],
)
def test_everyday_sentences_and_conditions_are_left_alone(message):
    assert read_revocation(message) is None, read_revocation(message)


@pytest.mark.parametrize(
    ("message", "language"),
    [
        ("no me manden más mensajes", "es"),
        ("Arrêtez de m'envoyer des textos", "fr"),
        ("Parem de me mandar mensagem", "pt"),
        ("Keine SMS mehr bitte", "de"),
        ("please stop texting me", "en"),
    ],
)
def test_a_reading_names_its_language(message, language):
    assert read_revocation(message).language == language


def test_detection_says_why():
    assert read_revocation("Please stop texting me").reason == "asks to stop being texted"
    assert read_revocation("STOP. Thanks").reason == "a sentence that only asks to stop"
    assert read_revocation("") is None
    assert read_revocation("\x00\x00") is None
