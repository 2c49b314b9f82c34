"""JSON in: only text that is valid Unicode, nested no deeper than any request needs.

JSON may spell a lone surrogate (`"\\ud800"`), which no UTF-8 text, PostgreSQL column or JSON
answer can hold: such a body is refused as unreadable, before any field echoes it in an error.
A body nested so deep that Python's parser runs out of stack is unreadable too (400, not 500).
"""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class UnicodeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("The body is nested too deeply.") from error
        if not _valid_text(data):
            raise ParseError("The body holds text that is not valid Unicode (a lone surrogate).")
        return data


def _valid_text(data) -> bool:
    """Whether every string in the parsed body encodes as UTF-8 (walked without recursion)."""
    waiting = [data]
    while waiting:
        value = waiting.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(value, dict):
            waiting.extend(value.keys())
            waiting.extend(value.values())
        elif isinstance(value, list):
            waiting.extend(value)
    return True
