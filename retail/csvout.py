"""One CSV writer for every export: a text cell a spreadsheet would run as a formula (=, +, -, @, tab, carriage
return first) is written with a leading apostrophe, so names typed into the register stay text (formula injection).
Numbers, dates and empty cells are written as they are."""
import csv
import io

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer with every cell passed through `safe_cell`."""

    def __init__(self, buffer, **options):
        options.setdefault("lineterminator", "\r\n")
        self._writer = csv.writer(buffer, **options)

    def writerow(self, row) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def writer(buffer, **options) -> SafeWriter:
    return SafeWriter(buffer, **options)


class StreamingWriter(SafeWriter):
    """A SafeWriter into its own buffer, for a streamed export: `take()` returns what was written since the last
    call, so each batch of rows goes out as it is made and memory stays that of one batch."""

    def __init__(self, **options):
        self._buffer = io.StringIO()
        super().__init__(self._buffer, **options)

    def take(self) -> str:
        data = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return data


def read_cell(value: str) -> str:
    """A cell as imported: trimmed, and the apostrophe our own exports put before formula-like text taken off, so an
    export imports back unchanged."""
    value = value.strip()
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
