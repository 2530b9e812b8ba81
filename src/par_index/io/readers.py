"""Read one table from a file (.csv, .xlsx, .parquet) as text-faithful raw cells.

Files are untrusted: the format is checked against the content (not only the extension), an
.xlsx is inspected before parsing (inflated size, declared sheet extent), and the header row is
declared or found. Column names and ids are stripped and NFC-normalised so that composed and
decomposed Vietnamese spellings match.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError, Issue, data_error, did_you_mean

ROW = "__row__"
"""Column holding each row's 1-based row number in its file, for error messages."""

MAX_XLSX_INFLATED = 1_000_000_000
MAX_XLSX_CELLS = 200_000_000
HEADER_SEARCH_ROWS = 30


@dataclass(frozen=True)
class Source:
    """Where a table came from: shown in errors and in the run record."""

    table: str
    path: str
    sheet: str | None
    sha256: str | None
    header_row: int | None

    def where(self, row: int | None = None, column: str | None = None) -> str:
        parts = [Path(self.path).name if self.path else self.table]
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column '{column}'")
        return ", ".join(parts)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def _sniff(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"
    return "text"


def file_format(path: Path) -> str:
    """'csv', 'xlsx' or 'parquet', checked against the file's first bytes."""
    suffix = path.suffix.lower()
    expected = {
        ".csv": "csv",
        ".txt": "csv",
        ".tsv": "csv",
        ".xlsx": "xlsx",
        ".xlsm": "xlsx",
        ".parquet": "parquet",
        ".pq": "parquet",
    }.get(suffix)
    if expected is None:
        raise data_error(
            "unknown_format",
            str(path),
            f"an input must be .csv, .xlsx or .parquet. Got '{suffix or path.name}'.",
        )
    if not path.exists():
        raise data_error("not_found", str(path), "the file does not exist.")
    if path.stat().st_size == 0:
        raise data_error("empty_file", str(path), "the file is empty.")
    actual = _sniff(path)
    wanted = {"csv": "text", "xlsx": "zip", "parquet": "parquet"}[expected]
    if actual != wanted:
        shown = {
            "zip": "a zip/xlsx file",
            "parquet": "a Parquet file",
            "ole": "an old .xls workbook (save it as .xlsx)",
            "text": "text",
        }[actual]
        raise data_error(
            "wrong_format", str(path), f"the extension says {expected}, but the content is {shown}."
        )
    return expected


def _decode_csv(path: Path, encoding: str | None) -> str:
    raw = path.read_bytes()
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise data_error(
                "encoding",
                str(path),
                f"cannot decode the file as the declared encoding '{encoding}': {exc}",
            ) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise data_error(
                "encoding", str(path), f"the file starts as UTF-16 but is not valid UTF-16: {exc}"
            ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise data_error(
            "encoding",
            str(path),
            f"the file is not UTF-8 (byte {exc.start} is not valid UTF-8).",
            "Save it as 'CSV UTF-8', or declare its encoding in the criteria file "
            "(inputs.<table>.encoding, e.g. cp1258 or utf-16).",
        ) from None


def _find_header(cells: pd.DataFrame, unit_column: str, source: Source) -> int:
    """0-based index of the first row (within the first rows) holding the unit column."""
    wanted = nfc(unit_column)
    for i in range(min(HEADER_SEARCH_ROWS, len(cells))):
        row = cells.iloc[i]
        if any(isinstance(v, str) and nfc(v) == wanted for v in row.tolist()):
            return i
    first = [str(v) for v in cells.iloc[0].tolist()] if len(cells) else []
    raise DataError(
        f"{source.where()}: no header row found",
        [
            Issue(
                "header_not_found",
                source.where(),
                f"no row among the first {HEADER_SEARCH_ROWS} holds the unit column "
                f"'{unit_column}'. "
                f"First row: {first[:12]}",
                "Declare header_row, or check unit_column in the criteria file.",
            )
        ],
    )


def _header_names(
    cells: pd.DataFrame, header_index: int, source: Source, header_rows: int = 1
) -> list[str]:
    """Column names from the header row (and the header rows below it, see
    :func:`_merge_header`); unnamed columns are ``__blank_<j>``; duplicates are refused."""
    header = cells.iloc[header_index].tolist()
    for extra in range(1, header_rows):
        if header_index + extra < len(cells):
            header = _merge_header(header, cells.iloc[header_index + extra].tolist())
    names: list[str] = []
    issues: list[Issue] = []
    for j, value in enumerate(header):
        name = "" if _blank(value) else nfc(str(value))
        if not name:
            name = f"__blank_{j}"
        if name in names:
            issues.append(
                Issue(
                    "duplicate_column",
                    source.where(header_index + 1, name),
                    f"column names must be unique; '{name}' appears twice.",
                )
            )
        names.append(name)
    if issues:
        raise DataError(f"{source.where()}: duplicate column names", issues)
    return names


def _named_frame(data: pd.DataFrame, names: list[str], first_row: int) -> pd.DataFrame:
    """Name the columns, drop unnamed empty ones, number the rows as in the file."""
    frame = data.copy()
    frame.columns = pd.Index(names[: len(frame.columns)])
    frame = frame[
        [c for c in frame.columns if not (c.startswith("__blank_") and frame[c].isna().all())]
    ]
    frame[ROW] = range(first_row + 1, first_row + 1 + len(frame))
    return frame.reset_index(drop=True)


def _frame_from_cells(
    cells: pd.DataFrame, header_index: int, source: Source, header_rows: int = 1
) -> pd.DataFrame:
    """The table below its header row(s), columns named by them."""
    names = _header_names(cells, header_index, source, header_rows)
    first = header_index + max(header_rows, 1)
    return _named_frame(cells.iloc[first:], names, first)


def _merge_header(top: list[Any], below: list[Any]) -> list[Any]:
    """Names from a header row and the header row below it.

    A full row of names over a row of labels (codes over Vietnamese captions) keeps the names.
    A caption merged over several sub-columns ("Điểm" over "tu_cham" | "tham_dinh") gives way to
    the sub-headers: an empty cell takes the one below it, and so does a caption whose right
    neighbour is empty while both have sub-headers below.
    """
    names = list(top)
    for j, (upper, lower) in enumerate(zip(top, below, strict=True)):
        if _blank(lower):
            continue
        spans = j + 1 < len(top) and _blank(top[j + 1]) and not _blank(below[j + 1])
        if _blank(upper) or spans:
            names[j] = lower
    return names


def _blank(value: Any) -> bool:
    return (
        value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""
    )


def _check_xlsx(path: Path) -> None:
    """Refuse zip bombs and absurd sheet extents before any parser allocates for them.

    calamine allocates a dense grid from the first to the last used cell and aborts the whole
    process when that fails (a 5 KB file with one cell at XFD1048576 does it), so the extent
    is read from the XML first: the declared dimension, the last row number and any
    column reference past Z.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            inflated = sum(i.file_size for i in infos)
            if inflated > MAX_XLSX_INFLATED:
                raise data_error(
                    "too_large",
                    str(path),
                    f"the workbook inflates to {inflated:,} bytes, over the limit "
                    f"of {MAX_XLSX_INFLATED:,}.",
                )
            for info in infos:
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > 20_000_000 and ratio > MAX_XLSX_RATIO:
                    raise data_error(
                        "too_large",
                        f"{path.name}, {info.filename}",
                        f"a part inflates {ratio:.0f}-fold (to {info.file_size:,} bytes); real "
                        f"workbooks stay below {MAX_XLSX_RATIO}-fold. Refused as a zip bomb.",
                    )
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    _check_extent(archive, info, path)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise data_error(
            "wrong_format", str(path), f"the .xlsx is not a valid zip archive ({exc})."
        ) from None


MAX_XLSX_RATIO = 200
_Q = rb"""["']"""
_DIMENSION = re.compile(rb"<dimension\s+ref=" + _Q + rb"[A-Z]*\d*:?([A-Z]+)(\d+)")
_ROW_REF = re.compile(rb"<row\b[^>]*?\sr=" + _Q + rb"(\d+)")
_ROW_TAG = re.compile(rb"<row\b")
_COLUMN_3 = re.compile(rb"r=" + _Q + rb"([A-Z]{3})\d")  # rows have digits only
_COLUMN_2 = re.compile(rb"r=" + _Q + rb"([A-Z]{2})\d")


def _check_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> None:
    """Bound the grid a parser would allocate: rows by the largest row reference or the
    number of rows, columns by the largest column reference or the most cells in one row (cells
    and rows may omit their reference; their position is then their order)."""
    rows, cols, counted, tail = 0, 1, 0, b""
    with archive.open(info) as handle:
        while block := handle.read(4 << 20):
            chunk = tail + block
            if rows == 0 and (match := _DIMENSION.search(chunk)):
                cols = max(cols, _column_number(match.group(1).decode()))
                rows = max(rows, int(match.group(2)))
            counted += len(_ROW_TAG.findall(block))
            found = _ROW_REF.findall(chunk)
            rows = max(rows, counted, int(found[-1]) if found else 0)
            for letters in set(_COLUMN_3.findall(chunk)):
                cols = max(cols, _column_number(letters.decode()))
            if cols < 702 and _COLUMN_2.search(chunk):
                # two-letter columns bound the width at 702; find the widest only when that
                # bound could matter (a long sheet), as it means a pass over every cell
                if rows * 702 > MAX_XLSX_CELLS:
                    widest2 = max(_column_number(c.decode()) for c in set(_COLUMN_2.findall(chunk)))
                    cols = max(cols, widest2)
                else:
                    cols = max(cols, 27)
            cells = block.count(b"<c ") + block.count(b"<c>") + block.count(b"<c/")
            references = block.count(b' r="') + block.count(b" r='") - block.count(b"<row")
            if cells > references:
                # some cells have no reference: their column is their position in the row
                widest = max(
                    piece.count(b"<c ") + piece.count(b"<c>") + piece.count(b"<c/")
                    for piece in chunk.split(b"<row")
                )
                cols = max(cols, widest)
            if rows * cols > MAX_XLSX_CELLS:
                raise data_error(
                    "too_large",
                    f"{path.name}, {info.filename}",
                    f"the sheet spans {rows:,} rows × {cols:,} columns, over the limit of "
                    f"{MAX_XLSX_CELLS:,} cells (a cell far from the data?).",
                )
            tail = chunk[-64:]


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + (ord(ch) - 64)
    return number


def xlsx_sheet_names(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    _check_xlsx(path)
    try:
        return [nfc(s) for s in CalamineWorkbook.from_path(str(path)).sheet_names]
    except Exception as exc:  # calamine raises its own error types
        raise data_error("unreadable", str(path), f"cannot open the workbook: {exc}") from None


def _read_xlsx_cells(path: Path, sheet: str) -> pd.DataFrame:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = {nfc(s): s for s in workbook.sheet_names}
        rows: list[list[Any]] = workbook.get_sheet_by_name(names[sheet]).to_python(
            skip_empty_area=False
        )
    except Exception as exc:
        raise data_error(
            "unreadable", f"{path.name}, sheet '{sheet}'", f"cannot read the sheet: {exc}"
        ) from None
    cells = pd.DataFrame(rows, dtype=object)
    return cells.replace({"": None})


def choose_sheet(path: Path, table: str, declared: str | None) -> str:
    sheets = xlsx_sheet_names(path)
    if declared is not None:
        if nfc(declared) in sheets:
            return nfc(declared)
        raise data_error(
            "no_such_sheet",
            str(path),
            f"sheet '{declared}' is not in the workbook. Sheets present: {sheets}.",
            did_you_mean(declared, sheets),
        )
    if table in sheets:
        return table
    if len(sheets) == 1:
        return sheets[0]
    raise data_error(
        "which_sheet",
        str(path),
        f"the workbook has several sheets {sheets} and none is named '{table}'.",
        f"Declare inputs.{table}.sheet in the criteria file.",
    )


def read_raw_table(
    path: str | Path,
    table: str,
    unit_column: str,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    header_rows: int = 1,
    encoding: str | None = None,
    text_columns: tuple[str, ...] = (),
    typed_numbers: bool = False,
) -> tuple[pd.DataFrame, Source]:
    """Read a table's cells. Text stays text; ``text_columns`` (ids, names) are never parsed as
    numbers, so ``00123`` keeps its zeros. Adds the column ``__row__`` (row in the file).

    ``typed_numbers`` lets the CSV parser type the other columns (numbers written with a
    decimal point come back as numbers; anything else stays text for the caller's checks).
    """
    file = Path(path)
    kind = file_format(file)
    digest = sha256_of(file)
    if kind == "parquet":
        try:
            frame = pd.read_parquet(file)
        except ImportError:
            raise data_error(
                "parquet_unavailable",
                str(file),
                "reading Parquet needs pyarrow: pip install 'par-index[parquet]'.",
            ) from None
        except Exception as exc:
            raise data_error(
                "unreadable", str(file), f"cannot read the Parquet file: {exc}"
            ) from None
        source = Source(table, str(file), None, digest, 1)
        frame.columns = pd.Index([nfc(str(c)) for c in frame.columns])
        frame[ROW] = range(2, 2 + len(frame))
        for column in text_columns:
            if column in frame.columns:
                frame[column] = frame[column].astype(object).map(_as_id_text)
        return frame, source
    if kind == "xlsx":
        chosen = choose_sheet(file, table, sheet)
        source = Source(table, str(file), chosen, digest, header_row)
        cells = _read_xlsx_cells(file, chosen)
    else:
        source = Source(table, str(file), None, digest, header_row)
        if typed_numbers:
            return _read_csv_typed(
                file, table, unit_column, source, header_row, header_rows, encoding, text_columns
            )
        cells = _read_csv_cells(file, encoding, source)
    if cells.empty:
        raise data_error("empty_table", source.where(), "the table has no rows.")
    index = header_row - 1 if header_row is not None else _find_header(cells, unit_column, source)
    if index >= len(cells):
        raise data_error(
            "header_row",
            source.where(),
            f"header_row {header_row} is past the end of the table ({len(cells)} rows).",
        )
    frame = _frame_from_cells(cells, index, source, header_rows)
    source = Source(table, str(file), source.sheet, digest, index + 1)
    for column in text_columns:
        if column in frame.columns:
            frame[column] = frame[column].map(_as_id_text)
    return frame, source


def _read_csv_typed(
    file: Path,
    table: str,
    unit_column: str,
    source: Source,
    header_row: int | None,
    header_rows: int,
    encoding: str | None,
    text_columns: tuple[str, ...],
) -> tuple[pd.DataFrame, Source]:
    text = _decode_csv(file, encoding)
    head = _read_csv_cells(file, encoding, source, text=text, lines=HEADER_SEARCH_ROWS + 10)
    if head.empty:
        raise data_error("empty_table", source.where(), "the table has no rows.")
    index = header_row - 1 if header_row is not None else _find_header(head, unit_column, source)
    if index >= len(head):
        raise data_error(
            "header_row",
            source.where(),
            f"header_row {header_row} is past the end of the table ({len(head)} rows).",
        )
    names = _header_names(head, index, source, header_rows)
    first = index + max(header_rows, 1)
    wanted = {nfc(c) for c in text_columns}
    cells = _read_csv_cells(
        file,
        encoding,
        source,
        text=text,
        skip=first,
        width=len(names),
        text_positions=[j for j, n in enumerate(names) if n in wanted],
    )
    frame = _named_frame(cells, names, first)
    for column in text_columns:
        if column in frame.columns:
            frame[column] = frame[column].astype(object).map(_as_id_text)
    return frame, Source(table, str(file), None, source.sha256, index + 1)


def _read_csv_cells(
    file: Path,
    encoding: str | None,
    source: Source,
    *,
    text: str | None = None,
    lines: int | None = None,
    skip: int = 0,
    text_positions: list[int] | None = None,
    width: int | None = None,
) -> pd.DataFrame:
    """CSV cells. By default every cell as text (None for blank). With ``text_positions``
    the other columns are typed by the parser (numbers as numbers), which is several times
    faster on large surveys; ``skip`` rows are skipped and ``lines`` limits the rows read."""
    import csv
    import io
    import warnings

    text = _decode_csv(file, encoding) if text is None else text
    separator = _separator(file, text)
    if width is None:
        # a title line above the header has fewer fields than the table: size the columns by
        # the widest of the first lines, so the parser does not stop at the header
        head = text.splitlines()[:HEADER_SEARCH_ROWS]
        width = max((len(row) for row in csv.reader(head, delimiter=separator)), default=1)
    typed = text_positions is not None
    dtype: Any = {j: str for j in text_positions or []} if typed else str
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cells = pd.read_csv(
                io.StringIO(text),
                header=None,
                names=range(max(width, 1)),
                dtype=dtype,
                keep_default_na=False,
                na_values=[""],
                skip_blank_lines=False,
                skiprows=skip,
                nrows=lines,
                sep=separator,
                engine="c",
            )
    except (pd.errors.ParserError, ValueError) as exc:
        raise data_error("csv_syntax", source.where(), f"cannot parse the CSV: {exc}") from None
    except pd.errors.EmptyDataError:
        raise data_error("empty_file", source.where(), "the file has no data.") from None
    if typed:
        return cells
    return cells.astype(object).where(cells.notna(), None)


def _separator(file: Path, text: str) -> str:
    """Tab for .tsv; for .csv/.txt a comma, or a semicolon when the first lines use those
    (Excel in locales with a decimal comma saves CSV with semicolons)."""
    if file.suffix.lower() == ".tsv":
        return "\t"
    head = "\n".join(text.splitlines()[:5])
    if head.count("\t") > max(head.count(","), head.count(";")):
        return "\t"
    return ";" if head.count(";") > head.count(",") else ","


def _as_id_text(value: Any) -> Any:
    """An id cell as text: 123.0 → '123', ' X01 ' → 'X01'; blanks stay None."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = nfc(str(value))
    return text or None
