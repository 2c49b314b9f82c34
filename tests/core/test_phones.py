import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template

from core.phones import normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(202) 555-0143", "+12025550143"),
        ("202.555.0143", "+12025550143"),
        ("202 555 0143", "+12025550143"),
        ("1-202-555-0143", "+12025550143"),
        ("+1 202 555 0143", "+12025550143"),
        ("+12025550143", "+12025550143"),
        ("  +1 (202) 555-0143  ", "+12025550143"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("011 44 20 7946 0958", "+442079460958"),
    ],
)
def test_normalises_to_e164(raw, expected):
    assert normalize_phone(raw) == expected


def test_region_reads_national_numbers(settings):
    assert normalize_phone("020 7946 0958", region="GB") == "+442079460958"
    settings.DEFAULT_PHONE_REGION = "GB"
    assert normalize_phone("020 7946 0958") == "+442079460958"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter a phone number"),
        ("   ", "Enter a phone number"),
        ("hello", "not a phone number"),
        ("555-01", "not a valid phone number"),
        ("12", "not a valid phone number"),
        ("+1 202 555 01435555", "not a valid phone number"),
        ("+999 1234 5678", "unknown country code"),
        ("+1 000 555 0143", "not a valid phone number"),
    ],
)
def test_rejects_invalid_numbers_with_a_clear_message(raw, message):
    with pytest.raises(ValidationError) as error:
        normalize_phone(raw)
    assert message in error.value.messages[0]


@pytest.mark.parametrize(
    ("e164", "shown"),
    [("+12025550143", "(202) 555-0143"), ("+442079460958", "+44 20 7946 0958"), ("", "")],
)
def test_phone_filter_formats_for_display(e164, shown):
    rendered = Template("{% load phones %}{{ number|phone }}").render(Context({"number": e164}))
    assert rendered == shown
