"""`par-index report` from results files, as an analyst runs it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

import par_index as pi
from par_index.cli import app
from par_index.io.writers import write_results


def test_report_command_writes_both_files(tmp_path: Path) -> None:
    r25 = pi.score(pi.bundled_path("criteria/par-2025.yaml"), pi.sample_inputs(2025))
    r24 = pi.score(pi.bundled_path("criteria/par-2024.yaml"), pi.sample_inputs(2024))
    write_results(r25, tmp_path / "r25.xlsx")
    write_results(r24, tmp_path / "r24.csv")
    crosswalk = pi.bundled_path("samples/crosswalk-2024-2025.csv")
    result = CliRunner().invoke(
        app,
        [
            "report",
            str(tmp_path / "r25.xlsx"),
            "--previous",
            str(tmp_path / "r24.csv"),
            "--crosswalk",
            str(crosswalk),
            "--out",
            str(tmp_path / "report"),
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert all(name in html for name in r25.ranking["unit_name"])
    import re  # (the SVG namespace URI is not a fetch; src/href/url() would be)

    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?https?:""", html)
    ranking = pd.read_excel(
        tmp_path / "report" / "par-2025.xlsx", sheet_name=None, engine="calamine"
    )
    assert len(ranking) > 3
    bad = CliRunner().invoke(
        app, ["report", str(tmp_path / "r25.xlsx"), "--out", str(tmp_path / "r2"), "--lang", "fr"]
    )
    assert bad.exit_code == 1 and "Traceback" not in bad.output


def test_pi_report_stays_the_function_after_a_report(tmp_path: Path) -> None:
    # the package's report subpackage was called `report` too: importing it on the first call
    # rebound par_index.report to the module, and a second pi.report(...) failed
    r25 = pi.score(pi.bundled_path("criteria/par-2025.yaml"), pi.sample_inputs(2025))
    first = pi.report(r25, tmp_path / "one")
    second = pi.report(r25, tmp_path / "two")
    assert first["html"].exists() and second["html"].exists()
    assert callable(pi.report) and pi.report.__module__ == "par_index.api"
