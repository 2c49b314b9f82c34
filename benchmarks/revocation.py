"""Precision and recall of reading requests to stop, on the labelled corpus's two parts.

.venv/bin/python benchmarks/revocation.py

Each message goes through the whole inbound decision (`keywords.decisions.decide`) for an
account with every language pack on (and, "packs off", for an account as created, reading
English keywords only): built-in keywords, their misspellings and phrases. The development part
prints what it gets wrong; the held-out part prints only its scores, so the detector cannot be
tuned to it. The baseline is the keywords alone (what carriers do).
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "capacity_sms.settings")

import django

django.setup()

from tests.support.corpus import PARTS, revocation_corpus, score  # noqa: E402
from tests.support.reading import (  # noqa: E402
    reads_as_stop,
    reads_as_stop_in_english_only,
    stop_keyword_only,
)


def main() -> None:
    for part in PARTS:
        rows = revocation_corpus(part)
        languages = sorted({row.language for row in rows}, key=lambda code: (code != "en", code))
        positives = sum(row.expected for row in rows)
        print(f"\n{part}: {len(rows)} messages, {positives} requests to stop")
        print(
            f"  {'language':<10}{'messages':>9}{'precision':>11}{'recall':>8}"
            f"{'packs off: precision':>22}{'recall':>8}{'keywords only: recall':>24}"
        )
        for language in [None, *languages]:
            subset = [row for row in rows if language in (None, row.language)]
            scores = score(reads_as_stop, subset)
            english = score(reads_as_stop_in_english_only, subset)
            baseline = score(stop_keyword_only, subset)
            print(
                f"  {language or 'all':<10}{len(subset):>9}{scores.precision:>11.3f}"
                f"{scores.recall:>8.3f}{english.precision:>22.3f}{english.recall:>8.3f}"
                f"{baseline.recall:>24.3f}"
            )
        if part == "development":
            scores = score(reads_as_stop, rows)
            for row in scores.false_positives:
                print(f"  false positive ({row.language}): {row.message!r}")
            for row in scores.misses:
                print(f"  missed ({row.language}): {row.message!r}")


if __name__ == "__main__":
    main()
