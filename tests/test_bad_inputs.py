"""The bad-input corpus (tests/data/bad, listed in its README), every case through the CLI.

Wrong and hostile inputs must stop the run with exit code 1 and a message that names the place
(file, sheet, row, column, or YAML path and line) and what was expected, never a traceback.
Messy but legitimate inputs must be read exactly as the clean ones are. The hostile workbooks
run in a subprocess with a timeout and a memory cap, so that a process abort or a hang fails
the test instead of the test run.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import importlib.util
import json
import shutil
import subprocess
import sys
import time
import traceback
import unicodedata
import zipfile
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from par_index.cli import app

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "data" / "bad"
runner = CliRunner()


def _make_corpus() -> Any:
    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_corpus = _make_corpus()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole corpus in one temporary folder: the committed text cases copied, the binary
    ones generated. Tests run with this folder as the working directory, so messages name
    files as a user would see them."""
    folder = tmp_path_factory.mktemp("bad")
    for path in BAD.iterdir():
        if path.is_file() and path.suffix in (".csv", ".yaml", ".xlsx", ".json"):
            shutil.copy2(path, folder / path.name)
    make_corpus.build(folder)
    make_corpus.build_bombs(folder)
    return folder


@pytest.fixture
def in_corpus(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(corpus)
    return corpus


def score(
    spec: str = "base.yaml",
    *,
    registry: str = "registry.csv",
    stats: str = "stats.csv",
    survey: str = "survey.csv",
    extra: Sequence[str] = (),
) -> tuple[str, ...]:
    """Arguments of `par-index score` with one or more inputs of base.yaml replaced."""
    return (
        "score", "-c", spec,
        "-i", f"registry={registry}", "-i", f"stats={stats}", "-i", f"survey={survey}",
        *extra,
    )  # fmt: skip


def run_cli(args: Sequence[str]) -> Any:
    return runner.invoke(app, list(args))


def assert_refused(result: Any, expected: Sequence[str]) -> None:
    """Exit code 1, a message holding every expected piece, and no traceback: an exception
    other than the CLI's own exit is a crash that `par-index` would print as a traceback."""
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        crash = "".join(traceback.format_exception(*result.exc_info))
        pytest.fail(f"uncaught {type(result.exception).__name__} (a traceback):\n{crash}")
    assert result.exit_code == 1, output
    assert "Traceback" not in output
    missing = [piece for piece in expected if piece not in output]
    assert not missing, f"{missing} not in the message:\n{output}"


# -- wrong inputs: refused with a precise message ---------------------------------------------


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    expected: tuple[str, ...]
    """Pieces of the message: the place first, then what was expected and what was found."""


REFUSED: dict[str, Case] = {
    # -- the criteria file
    "single_no_units": Case(
        ("score", "-c", "single_score_levels.yaml", "single_xa_only.csv"),
        ("units.score_levels: no unit has a level in ['phường']", "Levels present: ['xã']"),
    ),
    "spec_many_mistakes-validate": Case(
        ("validate", "spec_many_mistakes.yaml"),
        (
            "spec_many_mistakes.yaml: 5 problem(s)",
            "year (line 6): Input should be a valid integer. Got '2025'",
            "criteria[0] (line 11): max must equal the sum of the children's maxima (7)",
            "criteria[1].rule.bands (line 24): bands must be ordered from the best band down",
            "criteria[2].maxx (line 28): is not a known key",
            "criteria[2].id (line 26): id 'ke_hoach' must be unique",
        ),
    ),
    "spec_many_mistakes-score": Case(
        ("score", "-c", "spec_many_mistakes.yaml", "stats.csv"),
        ("5 problem(s)", "criteria[2].maxx (line 28)", "criteria[1].rule.bands (line 24)"),
    ),
    "spec_cross_checks": Case(
        ("validate", "spec_cross_checks.yaml"),
        (
            "11 problem(s)",
            "criteria[3].name (line 23): is required",
            "criteria[0].measure.table (line 17): table must be one of the inputs",
            "Did you mean 'stats'?",
            "criteria[1].measure.table (line 19): a survey measure must read an input of kind",
            "criteria[1].applies_to.levels (line 18): level must be one of ['xã', 'phường']",
            "units.table: units.table must name the input that lists the units",
            "units (line 11): give either level or level_column, not both",
            "criteria[0].id (line 17): a top-level id becomes a column of the ranking table",
            "criteria[2].measure.threshold (line 21): threshold must lie on the answer scale",
            "tiers[0] (line 13): a tier takes at_least or above, not both",
            "tiers[1] (line 14): tiers must run from the best down",
            "tiers (line 13): tier names must be unique",
        ),
    ),
    "spec_duplicate_key": Case(
        ("validate", "spec_duplicate_key.yaml"),
        ("criteria[0].max", "key 'max' appears twice in one mapping (line 9)"),
    ),
    "spec_not_a_mapping": Case(
        ("validate", "spec_not_a_mapping.yaml"),
        ("(top level)", "must be a mapping of keys", "Got list instead"),
    ),
    "yaml_syntax": Case(
        ("validate", "yaml_syntax.yaml"),
        ("yaml_syntax.yaml: not valid YAML", "line 5, column 1", "expected ',' or '}'"),
    ),
    "spec_cp1258": Case(
        ("validate", "spec_cp1258.yaml"),
        ("spec_cp1258.yaml", "must be UTF-8 text (byte 16 is not)"),
    ),
    "spec_criteria_not_a_list": Case(
        ("validate", "spec_criteria_not_a_list.yaml"),
        ("spec_criteria_not_a_list.yaml", "criteria (line 5)", "valid list"),
    ),
    "spec_not_found": Case(
        ("validate", "no_such_criteria.yaml"),
        ("no_such_criteria.yaml", "cannot read the criteria file"),
    ),
    # -- which file is which input
    "input_not_given": Case(
        ("score", "-c", "base.yaml", "-i", "registry=registry.csv", "-i", "stats=stats.csv"),
        ("survey", "input 'survey' was not given", "--input survey=PATH"),
    ),
    "input_unknown_name": Case(
        score(extra=("-i", "surveys=survey.csv")),
        ("surveys", "is not an input of the criteria file", "Did you mean 'survey'?"),
    ),
    "input_file_unmatched": Case(
        ("score", "-c", "base.yaml", "registry.csv", "stats.csv", "survey_bad_weights.csv"),
        ("survey_bad_weights.csv", "matches none of the inputs", "input 'survey' was not given"),
    ),
    "input_file_unused": Case(
        (*score(), "stats.csv"),
        ("stats.csv", "every input is already given by --input"),
    ),
    # -- files that cannot be read as tables
    "stats_unknown_extension": Case(
        score(stats="stats.ods"), ("stats.ods", "must be .csv, .xlsx or .parquet", "'.ods'")
    ),
    "stats_not_found": Case(
        score(stats="no_such_stats.csv"), ("no_such_stats.csv", "does not exist")
    ),
    "stats_empty": Case(score(stats="stats_empty.csv"), ("stats_empty.csv", "the file is empty")),
    "stats_bom_only": Case(
        score(stats="stats_bom_only.csv"), ("stats_bom_only.csv", "the table has no rows")
    ),
    "stats_text_as_xlsx": Case(
        score(stats="stats_text.xlsx"),
        ("stats_text.xlsx", "the extension says xlsx, but the content is text"),
    ),
    "stats_old_xls": Case(
        score(stats="stats_old_xls.xlsx"),
        ("stats_old_xls.xlsx", "the content is an old .xls workbook (save it as .xlsx)"),
    ),
    "stats_zip_as_csv": Case(
        score(stats="stats_zip.csv"),
        ("stats_zip.csv", "the extension says csv, but the content is a zip"),
    ),
    "stats_broken_zip": Case(
        score(stats="stats_broken_zip.xlsx"), ("stats_broken_zip.xlsx", "not a valid zip archive")
    ),
    "stats_corrupt_deflate": Case(
        score(stats="stats_corrupt_deflate.xlsx"), ("stats_corrupt_deflate.xlsx",)
    ),
    "registry_utf16_truncated": Case(
        score(registry="registry_utf16_truncated.csv"), ("registry_utf16_truncated.csv",)
    ),
    "stats_no_such_sheet": Case(
        score("sheet_declared.yaml", stats="stats_no_such_sheet.xlsx"),
        (
            "stats_no_such_sheet.xlsx",
            "sheet 'Số liệu' is not in the workbook",
            "Sheets present: ['So lieu', 'Ghi chú']",
            "Did you mean 'So lieu'?",
        ),
    ),
    "stats_which_sheet": Case(
        score(stats="stats_no_such_sheet.xlsx"),
        ("stats_no_such_sheet.xlsx", "several sheets ['So lieu', 'Ghi chú']", "inputs.stats.sheet"),
    ),
    "registry_cp1258-undeclared": Case(
        score(registry="registry_cp1258.csv"),
        ("registry_cp1258.csv", "is not UTF-8 (byte 4", "encoding", "cp1258"),
    ),
    "stats_unclosed_quote": Case(
        score(stats="stats_unclosed_quote.csv"),
        ("stats_unclosed_quote.csv", "cannot parse the CSV", "EOF inside string"),
    ),
    "stats_no_header": Case(
        score(stats="stats_no_header.csv"),
        (
            "stats_no_header.csv",
            "no row among the first 30 holds the unit column 'ma'",
            "header_row",
        ),
    ),
    "stats_header_row_past_end": Case(
        score("header_row_99.yaml"),
        ("stats.csv", "header_row 99 is past the end of the table (4 rows)"),
    ),
    "stats_duplicate_column": Case(
        score(stats="stats_duplicate_column.csv"),
        ("stats_duplicate_column.csv, row 1, column 'gia_tri'", "column names must be unique"),
    ),
    # -- tables that do not hold what the criteria file needs
    "stats_missing_column": Case(
        score(stats="stats_missing_column.csv"),
        (
            "stats_missing_column.csv, column 'gia_tri'",
            "needs column 'gia_tri' in input 'stats'",
            "Columns present: ['ma', 'gia tri', 'hoan_thanh', 'dung_han', 'da_xu_ly']",
            "Did you mean 'gia tri'?",
        ),
    ),
    "stats_decimal_comma-undeclared": Case(
        score(stats="stats_decimal_comma.csv"),
        (
            "stats_decimal_comma.csv, row 2, column 'gia_tri'",
            "values must be numbers",
            "row 2: '8,5', row 4: '7,25'",
            "decimal: ','",
        ),
    ),
    "registry_duplicate_ids": Case(
        score(registry="registry_duplicate_ids.csv"),
        (
            "registry_duplicate_ids.csv, row 3, column 'ma'",
            "unit ids must be unique in the units table",
            "row 3: '00102', row 5: '00102'",
        ),
    ),
    "survey_unknown_unit": Case(
        score(survey="survey_unknown_unit.csv"),
        (
            "survey_unknown_unit.csv, row 5, column 'ma'",
            "not in the units table 'registry': '00199'",
            "unknown_units: exclude",
        ),
    ),
    "stats_missing_unit": Case(
        score(stats="stats_missing_unit.csv"),
        (
            "unit 'XÃ03' (Xã Ẳng Nưa), node 'gia_tri': has no data in 'stats_missing_unit.csv'",
            "node 'dung_han'",
            "missing: zero | reweight",
        ),
    ),
    "survey_out_of_scale": Case(
        score(survey="survey_out_of_scale.csv"),
        (
            "survey_out_of_scale.csv, row 3, column 'q1'",
            "answers must be whole numbers 1–5; don't-know codes [9] or blank",
            "row 3: 6, row 5: 0, row 6: 4.5",
        ),
    ),
    "survey_duplicate_respondent": Case(
        score(survey="survey_duplicate_respondent.csv"),
        (
            "survey_duplicate_respondent.csv, row 3, column 'phieu'",
            "each respondent must appear once",
            "row 3: 'P02', row 6: 'P02'",
        ),
    ),
    "survey_bad_weights": Case(
        score(survey="survey_bad_weights.csv"),
        (
            "survey_bad_weights.csv, row 3, column 'w'",
            "respondent weights must be positive numbers",
            "row 3: 0, row 4: -1, row 5: blank",
        ),
    ),
    "stats_negative_count": Case(
        score(stats="stats_negative_count.csv"),
        (
            "stats_negative_count.csv, row 3, column 'dung_han'",
            "counts must be zero or more",
            "row 3: -5",
        ),
    ),
    "stats_numerator_over": Case(
        score(stats="stats_numerator_over.csv"),
        (
            "stats_numerator_over.csv, row 4, column 'dung_han'",
            "dung_han must not exceed da_xu_ly",
            "10832 > 10800",
            "bounded: false",
        ),
    ),
    "single_not_yes_no": Case(
        ("score", "-c", "single.yaml", "single_not_yes_no.csv"),
        (
            "single_not_yes_no.csv, row 3, column 'bao_cao'",
            "values must be yes or no",
            "row 3: 'chưa rõ'",
        ),
    ),
    "single_blank_denominator": Case(
        ("score", "-c", "single.yaml", "single_blank_denominator.csv"),
        (
            "single_blank_denominator.csv, row 3, column 'da_xu_ly'",
            "da_xu_ly must be given where dung_han is",
        ),
    ),
    "single_missing_id": Case(
        ("score", "-c", "single.yaml", "single_missing_id.csv"),
        ("single_missing_id.csv, row 3, column 'ma'", "every row with data must name its unit"),
    ),
    "single_bad_levels": Case(
        ("score", "-c", "single.yaml", "single_bad_levels.csv"),
        (
            # a blank level is a missing level, not a level called 'nan'
            "single_bad_levels.csv, row 2, column 'cap': every unit needs a level",
            "column 'cap': levels must be one of ['xã', 'phường']",
            "row 3: 'huyện'",
        ),
    ),
    # -- scoring
    "single_out_of_range": Case(
        ("score", "-c", "single.yaml", "single_out_of_range.csv"),
        ("single_out_of_range.csv, node 'tham_dinh'", "must lie within [0, 10]", "00101: 12"),
    ),
    "single_geometric_zero": Case(
        ("score", "-c", "single.yaml", "single_geometric_zero.csv"),
        ("node 'single-table'", "needs positive child scores", "00101 in 'bao_cao'", "zero_floor"),
    ),
    # -- criteria import (a structure table is an input too)
    "structure_no_id": Case(
        ("criteria", "import", "structure_no_id.csv", "-o", "imported.yaml"),
        ("structure_no_id.csv", "needs an id column", "Columns present: ['ma', 'name']"),
    ),
    "structure_bad_weight": Case(
        ("criteria", "import", "structure_bad_weight.csv", "-o", "imported.yaml"),
        ("structure_bad_weight.csv", "weight", "'cao'"),
    ),
    # -- results files read back by compare / weak
    "results_not_json_results": Case(
        ("weak", "results_not_results.json", "-o", "weak.xlsx"),
        ("results_not_results.json", "not a results file"),
    ),
    "results_empty_json": Case(
        ("weak", "results_empty.json", "-o", "weak.xlsx"),
        (
            "results_empty.json, ranking: columns ['unit_id'",
            "results_empty.json, detail: columns",
            "do not carry the criteria",
        ),
    ),
    "results_wrong_workbook": Case(
        ("weak", "stats_plain_raw.xlsx", "-o", "weak.xlsx"),
        ("stats_plain_raw.xlsx", "sheets 'ranking' and 'detail'", "Missing: ['ranking', 'detail']"),
    ),
    "results_broken_zip": Case(
        ("weak", "stats_broken_zip.xlsx", "-o", "weak.xlsx"),
        ("stats_broken_zip.xlsx", "cannot open the workbook"),
    ),
    "results_not_found": Case(
        ("weak", "no_such_results.xlsx", "-o", "weak.xlsx"),
        ("no_such_results.xlsx", "does not exist"),
    ),
    # -- hostile text: refused, nothing evaluated
    "yaml_aliases": Case(
        ("validate", "yaml_aliases.yaml"),
        ("yaml_aliases.yaml: refused", "expands to more than 200000 nodes"),
    ),
    "yaml_deep_lists": Case(
        ("validate", "yaml_deep_lists.yaml"),
        ("yaml_deep_lists.yaml", "line 4, column", "nesting depth"),
    ),
    "yaml_deep_maps": Case(
        ("validate", "yaml_deep_maps.yaml"),
        ("yaml_deep_maps.yaml", "line 4, column", "nesting depth"),
    ),
    "yaml_deep_100": Case(
        ("validate", "yaml_deep_100.yaml"),
        ("yaml_deep_100.yaml: refused", "nested more than 64 levels deep"),
    ),
    "yaml_python_tag": Case(
        ("score", "-c", "yaml_python_tag.yaml", "stats.csv"),
        ("yaml_python_tag.yaml", "line 3, column 7", "python/object/apply:os.system"),
    ),
    "spec_too_big": Case(
        ("validate", "spec_too_big.yaml"),
        ("spec_too_big.yaml", "larger than a criteria file may be (5000000 bytes)"),
    ),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_with_place_and_expectation(name: str, in_corpus: Path) -> None:
    case = REFUSED[name]
    assert_refused(run_cli(case.args), case.expected)
    assert not (in_corpus / "par_index_pwned.txt").exists()  # the python tag ran nothing
    assert not (in_corpus / "imported.yaml").exists() and not (in_corpus / "weak.xlsx").exists()


# -- messy but legitimate: read exactly as the clean files are --------------------------------

NAMES = {"00101": "Xã Mường Bú", "00102": "Phường Tô Hiệu", "XÃ03": "Xã Ẳng Nưa"}
RAW = {
    "00101": {"gia_tri": 8.5, "hoan_thanh": 1.0, "dung_han": 0.9, "hai_long": 1 / 4},
    "00102": {"gia_tri": 6.0, "hoan_thanh": 0.85, "dung_han": 0.9, "hai_long": 1.0},
    "XÃ03": {"gia_tri": 7.25, "hoan_thanh": 0.7, "dung_han": 10732 / 10800, "hai_long": 2 / 3},
}
# hand-worked: gia_tri as is; hoan_thanh bands ≥1 → 5, ≥0.8 → 3, else 0; dung_han and
# hai_long linear 0..1 → 0..5 (hai_long: weighted share of answers ≥ 4, the 9 left out)
SCORES = {
    "00101": 8.5 + 5 + 4.5 + 1.25,
    "00102": 6 + 3 + 4.5 + 5,
    "XÃ03": 7.25 + 0 + 5 * 10732 / 10800 + 5 * 2 / 3,
}


@dataclass(frozen=True)
class Messy:
    args: tuple[str, ...]
    table: str
    """The input the case replaces."""
    header_row: int = 1
    counts: tuple[tuple[str, int], ...] = ()
    """Rows the run record must account for in that table, besides the rows used."""


MESSY: dict[str, Messy] = {
    "stats_title_blank_totals": Messy(
        score(stats="stats_title_blank_totals.csv"),
        "stats",
        header_row=4,
        counts=(("blank rows skipped", 3), ("totals rows skipped", 1)),
    ),
    "stats_two_header_rows": Messy(
        score("header_rows_2.yaml", stats="stats_two_header_rows.csv"), "stats"
    ),
    "stats_merged_header": Messy(
        score("header_rows_2.yaml", stats="stats_merged_header.xlsx"), "stats", header_row=3
    ),
    "stats_numbers_as_text": Messy(score(stats="stats_numbers_as_text.xlsx"), "stats"),
    "stats_decimal_comma-declared": Messy(
        score("decimal_comma.yaml", stats="stats_decimal_comma.csv"), "stats"
    ),
    "stats_space_row": Messy(
        score(stats="stats_space_row.csv"), "stats", counts=(("blank rows skipped", 1),)
    ),
    "registry_utf16": Messy(score(registry="registry_utf16.csv"), "registry"),
    "registry_cp1258-declared": Messy(score("cp1258.yaml", registry="registry_cp1258.csv"),
                                      "registry"),
    "registry_nfd": Messy(score(registry="registry_nfd.csv"), "registry"),
    "registry_spaces": Messy(score(registry="registry_spaces.csv"), "registry"),
    "stats_plain_raw": Messy(score(stats="stats_plain_raw.xlsx"), "stats"),
}


def _accounted(run: dict[str, Any]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for row in run["rows"]:
        counts.setdefault(row["table"], {})[row["what"]] = row["count"]
    return counts


def assert_rows_accounted(run: dict[str, Any]) -> None:
    """Every row read is used, or skipped / excluded with its reason counted."""
    counts = _accounted(run)
    for source in run["inputs"]:
        table = counts[source["table"]]
        accounted = sum(
            n
            for what, n in table.items()
            if what == "rows used" or what.endswith(" skipped") or what.startswith("rows excluded")
        )
        assert accounted == source["rows_read"], (source, table)


@pytest.mark.parametrize("name", list(MESSY))
def test_messy_but_legitimate_is_read_correctly(name: str, in_corpus: Path,
                                                tmp_path: Path) -> None:
    case = MESSY[name]
    out = tmp_path / "results.json"
    result = run_cli((*case.args, "-o", str(out)))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    ranking = {row["unit_id"]: row for row in document["ranking"]}
    assert set(ranking) == set(SCORES)  # ids as text: '00101' keeps its zeros
    for unit, expected in SCORES.items():
        assert ranking[unit]["score"] == pytest.approx(expected)
        name_read = ranking[unit]["unit_name"]
        assert name_read == NAMES[unit] and unicodedata.is_normalized("NFC", name_read)
    raw = {(row["unit_id"], row["node_id"]): row["raw_value"] for row in document["detail"]}
    for unit, values in RAW.items():
        for node, value in values.items():
            assert raw[(unit, node)] == pytest.approx(value), (unit, node)
    run = document["run"]
    assert_rows_accounted(run)
    source = next(s for s in run["inputs"] if s["table"] == case.table)
    assert source["header_row"] == case.header_row
    counts = _accounted(run)[case.table]
    assert counts["rows used"] == 3
    for what, count in case.counts:
        assert counts.get(what) == count, counts


def test_rows_of_levels_not_scored_are_accounted_for(in_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = run_cli(("score", "-c", "single_score_levels.yaml", "single.csv", "-o", str(out)))
    assert result.exit_code == 0, result.output
    run = json.loads(out.read_text(encoding="utf-8"))["run"]
    assert_rows_accounted(run)
    assert _accounted(run)["t"] == {"rows used": 1, "rows excluded: unit's level not scored": 1}


def test_a_warning_is_not_an_error(in_corpus: Path) -> None:
    result = run_cli(("score", "-c", "single.yaml", "single.csv"))
    assert result.exit_code == 0, result.output
    assert "warning: node 'mien_nui', applies_to.groups: ['Miền núi'] match no unit" in (
        result.output
    )


# -- text a spreadsheet would take for a formula ----------------------------------------------

FORMULA_UNITS = dict(make_corpus.FORMULA_UNITS)
FORMULA_NODES = {
    "gia_tri": "=SUM(1,2)",
    "hoan_thanh": "-Hoàn thành kế hoạch",
    "dung_han": "+Tỷ lệ hồ sơ đúng hạn",
    "hai_long": "@Tỷ lệ hài lòng",
}


@pytest.mark.parametrize("registry", ["registry_formulas.csv", "registry_formulas.xlsx"])
def test_formula_text_is_carried_through_as_text(registry: str, in_corpus: Path,
                                                 tmp_path: Path) -> None:
    args = score("spec_formulas.yaml", registry=registry)
    for suffix in (".xlsx", ".csv", ".json"):
        result = run_cli((*args, "-o", str(tmp_path / f"r{suffix}")))
        assert result.exit_code == 0, result.output
    # .json: unchanged
    document = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert {r["unit_id"]: r["unit_name"] for r in document["ranking"]} == FORMULA_UNITS
    nodes = {r["node_id"]: r["node_name"] for r in document["detail"]}
    assert {k: nodes[k] for k in FORMULA_NODES} == FORMULA_NODES
    # .xlsx: string cells, never a formula
    with zipfile.ZipFile(tmp_path / "r.xlsx") as archive:
        for part in archive.namelist():
            if part.startswith("xl/worksheets/"):
                xml = archive.read(part).decode()
                assert "<f>" not in xml and "<f " not in xml, part
    import openpyxl

    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    cells = {
        (sheet, cell.value): cell.data_type
        for sheet in ("ranking", "detail")
        for row in book[sheet].iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    }
    for text in FORMULA_UNITS.values():
        assert cells[("ranking", text)] == "s" and cells[("detail", text)] == "s"
    for text in FORMULA_NODES.values():
        assert cells[("detail", text)] == "s"
    # .csv: an apostrophe before each, so a spreadsheet shows the text
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        names = {row["unit_id"]: row["unit_name"] for row in csv.DictReader(handle)}
    assert names == {unit: "'" + text for unit, text in FORMULA_UNITS.items()}
    with (tmp_path / "r.detail.csv").open(encoding="utf-8-sig", newline="") as handle:
        detail = {row["node_id"]: row["node_name"] for row in csv.DictReader(handle)}
    assert {k: detail[k] for k in FORMULA_NODES} == {
        k: "'" + v for k, v in FORMULA_NODES.items()
    }


# -- nothing lost: outputs atomic, never over an input ----------------------------------------


def _copy_inputs(corpus: Path, folder: Path) -> None:
    for name in ("base.yaml", "registry.csv", "stats.csv", "survey.csv"):
        shutil.copy2(corpus / name, folder / name)


def test_refuses_to_write_over_an_input(corpus: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _copy_inputs(corpus, tmp_path)
    monkeypatch.chdir(tmp_path)
    before = (tmp_path / "stats.csv").read_bytes()
    result = run_cli(score(extra=("-o", "stats.csv")))
    assert_refused(result, ("stats.csv", "refusing to write the output over one of its own input"))
    assert (tmp_path / "stats.csv").read_bytes() == before


@pytest.mark.parametrize(("input_name", "as_file"), [
    ("criteria", "r.criteria.yaml"),  # the criteria sidecar of r.csv
    ("stats", "r.detail.csv"),  # the detail sidecar of r.csv
])
def test_refuses_a_sidecar_over_an_input_and_writes_nothing(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, input_name: str, as_file: str
) -> None:
    _copy_inputs(corpus, tmp_path)
    monkeypatch.chdir(tmp_path)
    source = "base.yaml" if input_name == "criteria" else "stats.csv"
    (tmp_path / source).rename(tmp_path / as_file)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    args = score(as_file) if input_name == "criteria" else score(stats=as_file)
    result = run_cli((*args, "-o", "r.csv"))
    assert_refused(result, (as_file, "own input"))
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before, f"a refused run wrote {sorted(set(after) - set(before))}"


def test_an_unwritable_output_is_a_message(corpus: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(corpus)
    blocked = tmp_path / "not_a_folder"
    blocked.write_text("a file where the output folder should be")
    result = run_cli(score(extra=("-o", str(blocked / "r.xlsx"))))
    assert_refused(result, ("not_a_folder",))


def test_a_failed_run_leaves_the_previous_output(corpus: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(corpus)
    out = tmp_path / "r.xlsx"
    assert run_cli(score(extra=("-o", str(out)))).exit_code == 0
    before = out.read_bytes()
    result = run_cli(score(stats="stats_negative_count.csv", extra=("-o", str(out))))
    assert_refused(result, ("stats_negative_count.csv, row 3",))
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]  # no temporary file left


# -- results read back: compare and weak -------------------------------------------------------


@pytest.fixture(scope="session")
def results(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Results of base.yaml written as r.xlsx and r.csv (with its sidecars)."""
    folder = tmp_path_factory.mktemp("results")
    with contextlib.chdir(corpus):
        for suffix in (".xlsx", ".csv"):
            result = run_cli((*score(), "-o", str(folder / f"r{suffix}")))
            assert result.exit_code == 0, result.output
    return folder


@pytest.mark.parametrize(("crosswalk", "expected"), [
    ("crosswalk_bad.csv", (
        "crosswalk, previous_unit_id: 1 ids are not units of the previous results: ['00999']",
        "crosswalk, current_unit_id: 1 ids are not units of the current results: ['00777']",
        "crosswalk, previous_unit_id: a previous unit may map to one current unit only",
        "crosswalk, weight: weights must be positive numbers",
    )),
    ("crosswalk_no_current.csv", ("crosswalk", "needs columns previous_unit_id, current_unit_id",
                                  "Columns present: ['previous_unit_id', 'sau']")),
])
def test_bad_crosswalk(crosswalk: str, expected: tuple[str, ...], results: Path,
                       in_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.xlsx"
    result = run_cli(("compare", str(results / "r.xlsx"), str(results / "r.xlsx"),
                      "--crosswalk", crosswalk, "-o", str(out)))
    assert_refused(result, expected)
    assert not out.exists()


def test_results_with_a_broken_run_record(results: Path, tmp_path: Path) -> None:
    for name in ("r.csv", "r.detail.csv", "r.criteria.yaml"):
        shutil.copy2(results / name, tmp_path / name)
    (tmp_path / "r.run.json").write_text("{not json", encoding="utf-8")
    result = run_cli(("weak", str(tmp_path / "r.csv"), "-o", str(tmp_path / "w.xlsx")))
    assert_refused(result, ("r.run.json",))


# -- hostile workbooks: in a subprocess, with a timeout and a memory cap -----------------------

HOSTILE: dict[str, Case] = {
    "hostile_billion_laughs": Case(
        score(stats="hostile_billion_laughs.xlsx"),
        ("hostile_billion_laughs.xlsx, sheet 'stats'", "cannot read the sheet", "entity"),
    ),
    "hostile_bomb_1gib": Case(
        score(stats="hostile_bomb_1gib.xlsx"),
        ("hostile_bomb_1gib.xlsx", "the workbook inflates to 1,073,7", "over the limit"),
    ),
    "hostile_bomb_300mb": Case(
        score(stats="hostile_bomb_300mb.xlsx"),
        ("hostile_bomb_300mb.xlsx, xl/worksheets/sheet1.xml", "inflates 1027-fold", "zip bomb"),
    ),
    "hostile_far_cell": Case(
        score(stats="hostile_far_cell.xlsx"),
        ("hostile_far_cell.xlsx", "1,048,576 rows × 16,384 columns", "over the limit"),
    ),
    "hostile_far_cell_no_dimension": Case(
        score(stats="hostile_far_cell_no_dimension.xlsx"),
        ("hostile_far_cell_no_dimension.xlsx", "1,048,576 rows × 16,384 columns", "limit"),
    ),
    # the same cell, written in ways XML allows and a spreadsheet reader accepts
    "hostile_far_cell_single_quotes": Case(
        score(stats="hostile_far_cell_single_quotes.xlsx"),
        ("hostile_far_cell_single_quotes.xlsx", "limit"),
    ),
    "hostile_far_cell_newline": Case(
        score(stats="hostile_far_cell_newline.xlsx"), ("hostile_far_cell_newline.xlsx", "limit")
    ),
    "hostile_far_cell_implicit": Case(
        score(stats="hostile_far_cell_implicit.xlsx"),
        ("hostile_far_cell_implicit.xlsx", "limit"),
    ),
    # results read back by `weak` / `compare` go through the same checks
    "hostile_results_far_cell": Case(
        ("weak", "hostile_results_far_cell.xlsx", "-o", "weak_out.xlsx"),
        ("hostile_results_far_cell.xlsx", "limit"),
    ),
}

TIMEOUT = 120  # seconds, for the whole process (start-up included, on a busy machine)
WITHIN = 60  # seconds a refusal may take
MEMORY_CAP = 4 << 30  # bytes of address space: an allocation past it fails fast, no swap storm

_LAUNCH = (
    "import sys\n"
    "try:\n"
    "    import resource\n"
    "    resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))\n"
    "except ImportError:  # not on Windows\n"
    "    pass\n"
    "sys.argv = ['par-index', *sys.argv[1:]]\n"
    "from par_index.cli import main\n"
    "main()\n"
)


@dataclass
class Ran:
    returncode: int | None
    output: str
    seconds: float


def _run_isolated(args: Sequence[str], cwd: Path) -> Ran:
    """The console entry point in its own process: an abort is a return code, not a crash of
    the test run, and a hang is a timeout."""
    start = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-c", _LAUNCH.format(cap=MEMORY_CAP), *args],
            cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") + (exc.stderr or b"").decode(
            errors="replace"
        )
        return Ran(None, out, time.monotonic() - start)
    return Ran(done.returncode, done.stdout + done.stderr, time.monotonic() - start)


@pytest.fixture(scope="session")
def hostile_runs(corpus: Path) -> dict[str, Future[Ran]]:
    """Every hostile case started at once, three at a time (each needs a few seconds of
    interpreter start-up)."""
    pool = ThreadPoolExecutor(max_workers=3)
    runs = {name: pool.submit(_run_isolated, case.args, corpus) for name, case in HOSTILE.items()}
    pool.shutdown(wait=False)
    return runs


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_workbook_refused_quickly(name: str, hostile_runs: dict[str, Future[Ran]],
                                          corpus: Path) -> None:
    ran = hostile_runs[name].result()
    tail = ran.output[-3000:]
    assert ran.returncode is not None, f"no answer within {TIMEOUT} s:\n{tail}"
    assert ran.returncode == 1, f"exit code {ran.returncode} (negative: a signal):\n{tail}"
    assert ran.seconds < WITHIN, f"took {ran.seconds:.0f} s"
    assert "Traceback" not in ran.output
    missing = [piece for piece in HOSTILE[name].expected if piece not in ran.output]
    assert not missing, f"{missing} not in the message:\n{tail}"
    assert not (corpus / "weak_out.xlsx").exists()


# -- the corpus itself -------------------------------------------------------------------------


def test_corpus_is_generated_byte_for_byte_the_same(tmp_path: Path) -> None:
    first = make_corpus.build(tmp_path / "a")
    second = make_corpus.build(tmp_path / "b")
    assert {n: p.read_bytes() for n, p in first.items()} == {
        n: p.read_bytes() for n, p in second.items()
    }


def test_every_case_is_in_the_readme() -> None:
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    files = {p.name for p in BAD.iterdir() if p.suffix in (".csv", ".yaml", ".xlsx", ".json")}
    files |= set(make_corpus.BOOKS) | set(make_corpus.RAW_BOOKS) | set(make_corpus.BYTES)
    files |= set(make_corpus.BOMBS)
    assert [f for f in sorted(files) if f"`{f}`" not in readme] == []


def _codes_in_source() -> set[str]:
    """Every literal code given to Issue / data_error / bad_cells_issue under src/."""
    codes = set()
    for path in (ROOT / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                first = node.args[0]
                if called in ("Issue", "data_error", "bad_cells_issue") and isinstance(
                    first, ast.Constant
                ) and isinstance(first.value, str):
                    codes.add(first.value)
    return codes


def test_every_error_code_is_documented() -> None:
    doc = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert sorted(c for c in _codes_in_source() if f"`{c}`" not in doc) == []

