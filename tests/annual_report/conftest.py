"""Session fixtures for the report tests: the 2025 samples scored, compared with 2024 through the
crosswalk, their weak indicators and rank uncertainty, and the report rendered once from them."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

import par_index as pi
from par_index.annual_report import render_report


@pytest.fixture(scope="session")
def samples() -> SimpleNamespace:
    r25 = pi.score(pi.bundled_path("criteria/par-2025.yaml"), pi.sample_inputs(2025))
    r24 = pi.score(pi.bundled_path("criteria/par-2024.yaml"), pi.sample_inputs(2024))
    walk = pd.read_csv(pi.bundled_path("samples/crosswalk-2024-2025.csv"), dtype=str)
    comparison = pi.compare(r25, r24, crosswalk=walk)
    weak = pi.low_ranking(r25, previous=r24, crosswalk=walk)
    # par-2025.yaml flags a survey indicator under 30 respondents or above a 0.1 margin: the
    # samples have one commune (14052, 12 respondents) and one department without a survey (S15)
    unc = pi.uncertainty(r25.spec, pi.sample_inputs(2025), draws=300, seed=11)
    return SimpleNamespace(
        r25=r25, r24=r24, crosswalk=walk, comparison=comparison, weak=weak, unc=unc
    )


@pytest.fixture(scope="session")
def report(samples: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    out = tmp_path_factory.mktemp("report")
    start = time.perf_counter()
    paths = render_report(
        samples.r25, out, comparison=samples.comparison, weak=samples.weak, uncertainty=samples.unc
    )
    seconds = time.perf_counter() - start
    return SimpleNamespace(
        out=out, paths=paths, seconds=seconds, html=paths["html"].read_text(encoding="utf-8")
    )


HOSTILE = {
    "S01": '=HYPERLINK("http://evil.example","x")',
    "S02": "+84 912 345 678",
    "S03": "-1+2",
    "S04": "@SUM(A1:A2)",
    "S05": "<script>alert('x')</script> & $x^2$",
    # xlsxwriter writes a string shaped like rich-text XML raw: names must survive it
    "S06": "<r><t>A</t></r></si><si><r><t>B</t></r>",
    "S07": "<r>x</r>",
}
HOSTILE_AREA = "=1+1 <b>area</b>"


def hostile(results: pi.Results) -> pi.Results:
    """The same results with unit and criterion names a spreadsheet or a browser would run."""
    ranking = results.ranking.copy()
    detail = results.detail.copy()
    for frame in (ranking, detail):
        frame["unit_name"] = [
            HOSTILE.get(unit, name)
            for unit, name in zip(frame["unit_id"], frame["unit_name"], strict=True)
        ]
    spec = results.spec
    criteria = list(spec.criteria)
    criteria[0] = criteria[0].model_copy(update={"name": HOSTILE_AREA, "name_en": HOSTILE_AREA})
    return dataclasses.replace(
        results,
        spec=spec.model_copy(update={"criteria": criteria}),
        ranking=ranking,
        detail=detail,
    )


@pytest.fixture(scope="session")
def hostile_results(samples: SimpleNamespace) -> pi.Results:
    return hostile(samples.r25)


def unit_rows(results: pi.Results) -> list[dict[str, object]]:
    return results.ranking.to_dict(orient="records")


ROOT = Path(__file__).resolve().parents[2]
