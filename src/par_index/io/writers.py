"""Write results as .xlsx, .csv, .parquet or .json — atomically, and safe for spreadsheets.

A file is written to a temporary name beside the target and renamed into place, so an
interrupted run leaves the previous file intact. Text that a spreadsheet would evaluate
(``=``, ``+``, ``-``, ``@`` …) is written as text: in .xlsx as a string cell, in .csv with a
leading apostrophe (OWASP's advice), so a unit named ``=HYPERLINK(...)`` stays a name.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import progress
from ..errors import OutputError

if TYPE_CHECKING:
    from ..results import Results

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMATS = (".xlsx", ".csv", ".parquet", ".json")


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _umask_mode()


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` then rename tmp onto ``path``; on failure the old file stays."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write here ({exc.strerror or exc}).") from None
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, _FILE_MODE)  # mkstemp makes owner-only files; outputs are for sharing
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write the output ({exc.strerror or exc}).") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def check_output(path: Path, inputs: Iterable[str | Path] = ()) -> None:
    """Refuse an unknown extension or writing over one of the run's own inputs."""
    if path.suffix.lower() not in FORMATS:
        raise OutputError(
            f"{path}: the output format is chosen by its extension, one of "
            f"{', '.join(FORMATS)}. Got '{path.suffix or path.name}' instead."
        )
    not_an_input(path, inputs)


def not_an_input(path: Path, inputs: Iterable[str | Path]) -> None:
    """Refuse to write ``path`` over one of the run's own input files."""
    target = path.resolve()
    for item in inputs:
        if Path(item).resolve() == target:
            raise OutputError(
                f"{path}: refusing to write the output over one of its own input files."
            )


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells a spreadsheet would evaluate with an apostrophe (and text that already
    starts with one, so that :func:`unescape_cell` gives every name back exactly)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].astype(object).map(escape_cell)
    return out


def escape_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith((*FORMULA_PREFIXES, "'")):
        return "'" + value
    return value


def unescape_cell(value: Any) -> Any:
    if (
        isinstance(value, str)
        and value.startswith("'")
        and value[1:2].startswith((*FORMULA_PREFIXES, "'"))
        and len(value) > 1
    ):
        return value[1:]
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA:
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN → null, numpy scalars → Python."""
    return [
        {str(k): _jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
    ]


def run_pairs(run: dict[str, Any]) -> list[tuple[str, str]]:
    """The run record as (key, text) pairs: a list item per row (``inputs[0]``, …), nested
    records as JSON text — for a sheet, a sidecar or the report's run table."""
    rows: list[tuple[str, str]] = []
    for key, value in run.items():
        if isinstance(value, list):
            for i, item in enumerate(value):
                rows.append((f"{key}[{i}]", json.dumps(item, ensure_ascii=False)))
        elif isinstance(value, dict):
            rows.append((key, json.dumps(value, ensure_ascii=False)))
        else:
            rows.append((key, "" if value is None else str(value)))
    return rows


def run_frame(run: dict[str, Any]) -> pd.DataFrame:
    """The run record as two columns (key, value) for a sheet or a sidecar file."""
    return pd.DataFrame(run_pairs(run), columns=["key", "value"])


def write_results(results: Results, path: Path, inputs: Iterable[str | Path] = ()) -> Path:
    """Write scoring results in the format of ``path``'s extension (see :func:`write_tables`):
    the ranking and detail tables, the run record and the criteria they were scored with, so
    that ``par-index compare`` can re-read them without re-scoring — and, when the results
    carry their rank uncertainty, its tables ``uncertainty``, ``uncertainty_survey`` and
    ``uncertainty_removal`` (its settings in the run record's ``uncertainty``)."""
    from ..spec.loader import dump_spec

    tables = {"ranking": results.ranking, "detail": results.detail}
    run = results.run
    spread = results.uncertainty
    if spread is not None:
        tables.update(
            {
                "uncertainty": spread.units,
                "uncertainty_survey": spread.survey,
                "uncertainty_removal": spread.removal,
            }
        )
        run = {**run, "uncertainty": spread.run.get("uncertainty", {})}
    return write_tables(
        tables,
        path,
        run=run,
        criteria=dump_spec(results.spec),
        inputs=inputs,
    )


def write_tables(
    tables: dict[str, pd.DataFrame],
    path: Path,
    *,
    run: dict[str, Any] | None = None,
    criteria: str | None = None,
    inputs: Iterable[str | Path] = (),
) -> Path:
    """Write named tables, a run record and the criteria (YAML text) in one output.

    .xlsx: a sheet per table, then ``run`` and ``criteria``. .json: one document.
    .csv / .parquet: the first table at ``path``; each other table at ``<stem>.<name><ext>``,
    the run record at ``<stem>.run.json`` and the criteria at ``<stem>.criteria.yaml``, so
    nothing computed is left out.
    """
    inputs = list(inputs)
    check_output(path, inputs)
    progress.stage(f"writing {path.name}")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return atomic_write(path, lambda tmp: _write_xlsx(tables, run, criteria, tmp))
    if suffix == ".json":
        document: dict[str, Any] = {name: records(frame) for name, frame in tables.items()}
        document["run"] = run or {}
        document["criteria"] = criteria
        text = json.dumps(document, ensure_ascii=False, indent=1)
        return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    if suffix == ".parquet":
        _require_pyarrow()
    targets = {name: path if i == 0 else sidecar(path, name) for i, name in enumerate(tables)}
    # every file this output will write is checked before the first is written
    for target in [
        *targets.values(),
        sidecar(path, "run", ".json"),
        sidecar(path, "criteria", ".yaml"),
    ]:
        not_an_input(target, inputs)
    for name, frame in tables.items():
        if suffix == ".csv":
            write_frame_csv(frame, targets[name])
        else:
            atomic_write(targets[name], _parquet_writer(frame))
    if run is not None:
        text = json.dumps(run, ensure_ascii=False, indent=1)
        atomic_write(sidecar(path, "run", ".json"), lambda tmp: tmp.write_text(text, "utf-8"))
    if criteria is not None:
        atomic_write(
            sidecar(path, "criteria", ".yaml"),
            lambda tmp: tmp.write_text(criteria, encoding="utf-8"),
        )
    return path


def _parquet_writer(frame: pd.DataFrame) -> Callable[[Path], object]:
    return lambda tmp: frame.to_parquet(tmp, index=False)


def sidecar(path: Path, name: str, suffix: str | None = None) -> Path:
    """``results.csv`` → ``results.detail.csv`` (or another suffix)."""
    return path.with_name(f"{path.stem}.{name}{suffix or path.suffix}")


def write_frame_csv(frame: pd.DataFrame, path: Path) -> Path:
    """UTF-8 with BOM (so Excel shows Vietnamese correctly), formula-safe."""
    return atomic_write(
        path,
        lambda tmp: csv_safe(frame).to_csv(
            tmp, index=False, encoding="utf-8-sig", lineterminator="\n"
        ),
    )


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise OutputError(
            "writing Parquet needs pyarrow: pip install 'par-index[parquet]'."
        ) from None


def write_text(sheet: Any, row: int, col: int, text: str, cell_format: Any = None) -> None:
    """A text cell that stays the text given. xlsxwriter writes a string that starts with
    ``<r>`` and ends with ``</r>`` as raw rich-text XML (a name could then lose its text or
    inject entries that shift every later name onto another unit), so such a string is written
    as a rich string of three plain runs, which every reader joins back into the same text."""
    if text.startswith("<r>") and text.endswith("</r>"):
        parts = (text[:1], text[1:2], text[2:])
        if cell_format is None:
            sheet.write_rich_string(row, col, *parts)
        else:
            sheet.write_rich_string(row, col, *parts, cell_format)
    elif cell_format is None:
        sheet.write_string(row, col, text)
    else:
        sheet.write_string(row, col, text, cell_format)


def _write_xlsx(
    tables: dict[str, pd.DataFrame], run: dict[str, Any] | None, criteria: str | None, path: Path
) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "nan_inf_to_errors": False},
    )
    try:
        header = workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        )
        number = workbook.add_format({"num_format": "0.00"})
        percent = workbook.add_format({"num_format": "0.0%"})
        integer = workbook.add_format({"num_format": "0"})
        formats = {
            column: percent if "share" in column else integer
            for frame in tables.values()
            for column in frame.columns
            if "share" in column or column.startswith("rank") or column in ("depth", "n_valid")
        }
        for name, frame in tables.items():
            _sheet(workbook, name, frame, header, number, formats)
        if run is not None:
            _sheet(workbook, "run", run_frame(run), header, number, {})
        if criteria is not None:
            lines = pd.DataFrame({"criteria (YAML)": criteria.splitlines()})
            _sheet(workbook, "criteria", lines, header, number, {})
    finally:
        workbook.close()


def _sheet(
    workbook: Any, name: str, frame: pd.DataFrame, header: Any, number: Any, formats: dict[str, Any]
) -> None:
    sheet = workbook.add_worksheet(name)
    for j, column in enumerate(frame.columns):
        write_text(sheet, 0, j, str(column), header)
        values = frame[column].tolist()
        width = max([len(str(column))] + [len(str(v)) for v in values[:500] if v is not None])
        sheet.set_column(j, j, min(max(width + 2, 8), 60))
        cell_format = formats.get(str(column), number)
        for i, value in enumerate(values, start=1):
            if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                continue
            if isinstance(value, bool | np.bool_):
                sheet.write_boolean(i, j, bool(value))
            elif isinstance(value, int | float | np.number):
                sheet.write_number(i, j, float(value), cell_format)
            else:
                write_text(sheet, i, j, str(value))
    sheet.freeze_panes(1, 0)
    if len(frame.columns):
        sheet.autofilter(0, 0, max(len(frame), 1), len(frame.columns) - 1)
