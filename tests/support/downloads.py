"""Reading the CSV files the pages download, as a spreadsheet program would."""

import csv
import io


def csv_rows(response) -> list[list[str]]:
    """The rows of a streamed CSV download, checking it declares UTF-8 and starts with the
    byte-order mark that makes Excel read accents right."""
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    data = b"".join(response.streaming_content)
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
