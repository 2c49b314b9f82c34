import pytest

from keywords.revocation import detect_revocation
from tests.support.corpus import precision_and_recall, revocation_corpus


@pytest.mark.parametrize(("expected", "message"), revocation_corpus())
def test_corpus_message(expected, message):
    assert (detect_revocation(message) is not None) == expected, message


def test_corpus_size_and_scores():
    corpus = revocation_corpus()
    assert len(corpus) >= 150
    assert sum(1 for expected, _ in corpus if expected) >= 60
    precision, recall, false_positives, misses = precision_and_recall(detect_revocation)
    assert false_positives == []
    assert precision == 1.0
    assert recall >= 0.95, misses


def test_detection_says_why():
    assert detect_revocation("Please stop texting me") == "asks to stop being texted"
    assert detect_revocation("STOP. Thanks") == "a sentence that only asks to stop"
    assert detect_revocation("") is None
    assert detect_revocation("\x00\x00") is None
