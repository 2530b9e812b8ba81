"""The command line: exit codes, messages without tracebacks, --json equal to the library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

import par_index as pi
from par_index.cli import app
from par_index.io.results_reader import read_results

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

SPEC = """
id: tiny
name: Chỉ số thử
max: 10
aggregation: weighted_mean
inputs:
  t: {kind: table, unit_column: ma}
units: {name_column: ten, level: xã}
criteria:
  - {id: a, name: Tiêu chí A, weight: 1, max: 10, measure: {kind: column, table: t, column: a}}
  - {id: b, name: Tiêu chí B, weight: 3, max: 10, measure: {kind: column, table: t, column: b},
     rule: {kind: linear, worst: 0, best: 100}}
"""


def _files(tmp_path: Path) -> tuple[Path, Path]:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    data = tmp_path / "t.csv"
    data.write_text("ma,ten,a,b\n001,Xã Mường Bú,8,50\n002,Phường Tô Hiệu,6,90\n",
                    encoding="utf-8")
    return spec, data


def test_score_json_equals_library(tmp_path: Path) -> None:
    spec, data = _files(tmp_path)
    result = runner.invoke(app, ["score", str(data), "-c", str(spec), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    library = pi.score(spec, {"t": data}).ranking
    assert [row["unit_id"] for row in printed] == ["002", "001"]  # leading zeros kept
    # hand-worked: 001 = (8/10·1 + 0.5·3)/4·10 = 5.75; 002 = (0.6 + 2.7)/4·10 = 8.25
    assert [row["score"] for row in printed] == list(library["score"]) == [8.25, 5.75]
    assert printed[0]["unit_name"] == "Phường Tô Hiệu"


def test_score_writes_each_format(tmp_path: Path) -> None:
    spec, data = _files(tmp_path)
    for suffix in (".xlsx", ".csv", ".json", ".parquet"):
        out = tmp_path / f"r{suffix}"
        result = runner.invoke(app, ["score", str(data), "-c", str(spec), "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.exists()
    assert (tmp_path / "r.detail.csv").exists() and (tmp_path / "r.run.json").exists()
    sheets = pd.read_excel(tmp_path / "r.xlsx", sheet_name=None, dtype={"unit_id": str},
                           engine="calamine")
    # the rank uncertainty is drawn by default and travels with the results
    assert list(sheets) == [
        "ranking",
        "detail",
        "uncertainty",
        "uncertainty_survey",
        "uncertainty_removal",
        "run",
        "criteria",
    ]
    assert list(sheets["ranking"]["unit_id"]) == ["002", "001"]
    assert list(sheets["uncertainty"]["unit_id"]) == ["002", "001"]
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert doc["run"]["criteria_sha256"] and doc["run"]["inputs"][0]["sha256"]
    assert len(doc["detail"]) == 2 * 3  # two units × (root + two criteria)


def test_score_carries_the_rank_intervals_unless_draws_is_0(tmp_path: Path) -> None:
    spec, data = _files(tmp_path)
    out = tmp_path / "r.csv"
    result = runner.invoke(
        app, ["score", str(data), "-c", str(spec), "-o", str(out), "--draws", "50", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "rank intervals: nothing varies" in result.output  # no survey, weights or alternatives
    back = read_results(out)
    assert back.uncertainty is not None and back.uncertainty.draws == 50
    assert back.run["uncertainty"]["seed"] == 3
    # nothing varies in this index (no survey, no declared weights): every interval is a point
    units = back.uncertainty.units
    assert (units["rank_p05"] == units["rank_nominal"]).all()
    assert (units["rank_p95"] == units["rank_nominal"]).all()
    again = runner.invoke(
        app, ["score", str(data), "-c", str(spec), "-o", str(tmp_path / "q.csv"), "--draws", "0"]
    )
    assert again.exit_code == 0, again.output
    assert read_results(tmp_path / "q.csv").uncertainty is None
    assert not (tmp_path / "q.uncertainty.csv").exists()
    assert "rank interval" not in again.output


def test_bad_input_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    spec, data = _files(tmp_path)
    data.write_text("ma,ten,a,b\n001,Xã A,8,5O\n", encoding="utf-8")  # letter O, not zero
    result = runner.invoke(app, ["score", str(data), "-c", str(spec)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "t.csv, row 2, column 'b'" in result.output and "'5O'" in result.output


def test_refuses_to_overwrite_an_input(tmp_path: Path) -> None:
    spec, data = _files(tmp_path)
    before = data.read_bytes()
    result = runner.invoke(app, ["score", str(data), "-c", str(spec), "-o", str(data)])
    assert result.exit_code == 1 and "own input" in result.output
    assert data.read_bytes() == before


def test_validate_and_schema(tmp_path: Path) -> None:
    spec, _ = _files(tmp_path)
    ok = runner.invoke(app, ["validate", str(spec)])
    assert ok.exit_code == 0 and ok.stdout.startswith("tiny:")
    spec.write_text(SPEC.replace("weight: 3", "weight: -3").replace("max: 10\naggr",
                                                                    "max: 0\naggr"))
    bad = runner.invoke(app, ["validate", str(spec)])
    assert bad.exit_code == 1
    assert "criteria[1].weight" in bad.output and "max" in bad.output
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    assert "criteria" in schema["properties"]


def test_python_dash_m_runs(tmp_path: Path) -> None:
    spec, data = _files(tmp_path)
    done = subprocess.run([sys.executable, "-m", "par_index", "score", str(data), "-c",
                           str(spec), "--json"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["unit_id"] == "002"


def test_demo_writes_every_level_of_both_years(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    expected = {"par-2024-department-ranking.csv", "par-2024-district-ranking.csv",
                "par-2024-commune-ranking.csv", "par-2025-department-ranking.csv",
                "par-2025-commune-ranking.csv", "par-2024.xlsx", "par-2025.xlsx"}
    assert expected <= {p.name for p in tmp_path.iterdir()}
    registry = pd.read_csv(ROOT / "data/samples/2024/registry.csv", dtype=str)
    communes = pd.read_csv(tmp_path / "par-2024-commune-ranking.csv", dtype={"unit_id": str},
                           encoding="utf-8-sig")
    assert set(communes["unit_id"]) == set(registry.loc[registry["level"] == "commune",
                                                        "unit_id"])
    assert communes["rank"].min() == 1 and communes["score"].between(0, 100).all()
    # the 2025 report shows the changes since 2024 and each unit's rank interval
    from par_index.io.results_reader import read_results

    spread = read_results(tmp_path / "par-2025.xlsx").uncertainty
    assert spread is not None and spread.draws == 1000 and len(spread.units) == 95
    html = (tmp_path / "report-2025" / "index.html").read_text(encoding="utf-8")
    assert "Khoảng hạng 90\u00a0%" in html and "Thay đổi hạng" in html
    assert (tmp_path / "report-2025" / "par-2025.xlsx").stat().st_size > 50_000
    assert "annual report" in result.output
