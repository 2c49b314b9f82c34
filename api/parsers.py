"""JSON in: only text that is valid Unicode.

JSON may spell a lone surrogate (`"\\ud800"`), which no UTF-8 text, PostgreSQL column or JSON
answer can hold: such a body is refused as unreadable, before any field echoes it in an error.
"""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class UnicodeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if not _valid_text(data):
            raise ParseError("The body holds text that is not valid Unicode (a lone surrogate).")
        return data


def _valid_text(value) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_valid_text(key) and _valid_text(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_valid_text(item) for item in value)
    return True
