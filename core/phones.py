"""Phone numbers: stored as E.164 everywhere, normalised here and only here."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError

E164_REGEX = r"^\+[1-9][0-9]{6,14}$"


def normalize_phone(raw: str, region: str | None = None) -> str:
    """Return `raw` as E.164, or raise ValidationError saying why it is not a phone number.

    Numbers without a country code are read in `region` (default: DEFAULT_PHONE_REGION).
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter a phone number.", code="required")
    try:
        number = phonenumbers.parse(text, region or settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(
            "“%(value)s” is not a phone number: %(why)s.",
            code="invalid_phone",
            params={"value": text, "why": _parse_error_reason(error)},
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "“%(value)s” is not a valid phone number (check the digits and the country code).",
            code="invalid_phone",
            params={"value": text},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_error_reason(error: phonenumbers.NumberParseException) -> str:
    reasons = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "it does not look like a number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }
    return reasons.get(error.error_type, "it cannot be read")


def format_phone(e164: str, region: str | None = None) -> str:
    """Display form: national format for the default region, international otherwise."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    home = region or settings.DEFAULT_PHONE_REGION
    if phonenumbers.region_code_for_number(number) == home:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# Number types that cannot be a mobile phone, as phonenumbers knows them, named for people.
NOT_MOBILE = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "landline",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll-free",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium rate",
    phonenumbers.PhoneNumberType.SHARED_COST: "shared cost",
    phonenumbers.PhoneNumberType.VOIP: "internet (VoIP)",
    phonenumbers.PhoneNumberType.PAGER: "pager",
    phonenumbers.PhoneNumberType.UAN: "company number",
    phonenumbers.PhoneNumberType.VOICEMAIL: "voicemail",
}


def not_mobile_kind(e164: str) -> str:
    """What kind of number it is when its numbering plan says it is not a mobile ("landline",
    "toll-free", …), else "". North American numbers mostly cannot be told apart
    (FIXED_LINE_OR_MOBILE): they are not labelled. Such a number is kept, since it may still
    take texts (a landline with a texting service), but people should know."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ""
    return NOT_MOBILE.get(phonenumbers.number_type(number), "")
