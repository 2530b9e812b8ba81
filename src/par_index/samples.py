"""The bundled criteria files and sample data (the embedded default), and the demo run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import ParIndexError
from .spec.index import IndexSpec

SAMPLE_YEARS = (2024, 2025)
SAMPLE_FILES = {
    "registry": "registry.csv",
    "survey_citizens": "survey_citizens.csv",
    "survey_businesses": "survey_businesses.csv",
    "processing": "processing.csv",
    "service_766": "service_766.csv",
    "appraisal": "appraisal.xlsx",
}
ALIASES = {"survey": "survey_citizens"}
"""The PAR files call the citizen survey input ``survey``."""


def _roots() -> list[Path]:
    here = Path(__file__).resolve().parent
    return [here / "_bundled", here.parents[1]]  # installed wheel; source checkout


def bundled_path(relative: str) -> Path:
    """Path of a bundled file: ``criteria/…`` or ``samples/…`` (``data/samples/…`` in a
    checkout)."""
    for root in _roots():
        candidates = [root / relative]
        if relative.startswith("samples/"):
            candidates.append(root / "data" / relative)
        for path in candidates:
            if path.exists():
                return path
    raise ParIndexError(
        f"bundled file '{relative}' not found (is the package installed completely?)"
    )


def sample_inputs(year: int, criteria: IndexSpec | str | Path | None = None) -> dict[str, Path]:
    """The sample input files of a year, keyed by input name.

    Without ``criteria``: the inputs of the bundled PAR files (registry, survey, processing,
    appraisal). With a criteria file (or its path): exactly the inputs it declares, matched by
    name to the sample files.
    """
    if year not in SAMPLE_YEARS:
        raise ParIndexError(f"sample data exists for {list(SAMPLE_YEARS)}. Got {year} instead.")
    if criteria is None:
        names = ["registry", "survey", "processing", "appraisal"]
    else:
        from .spec.loader import load_spec

        spec = criteria if isinstance(criteria, IndexSpec) else load_spec(criteria)
        names = list(spec.inputs)
        unknown = [n for n in names if ALIASES.get(n, n) not in SAMPLE_FILES]
        if unknown:
            raise ParIndexError(
                f"the samples have no input named {unknown}; they have "
                f"{sorted([*SAMPLE_FILES, *ALIASES])}."
            )
    return {
        name: bundled_path(f"samples/{year}/{SAMPLE_FILES[ALIASES.get(name, name)]}")
        for name in names
    }


@dataclass(frozen=True)
class DemoOutput:
    year: int
    workbook: Path
    rankings: dict[str, Path]
    units: int


@dataclass(frozen=True)
class Demo:
    """What ``par-index demo`` wrote: per year the results workbook (with its rank intervals)
    and a ranking CSV per level; the 2025 annual report (workbook and HTML)."""

    years: list[DemoOutput]
    report: dict[str, Path]


def run_demo(out: Path) -> Demo:
    """Score both sample years with the bundled criteria as ``par-index score`` does (rank
    intervals drawn), and write the 2025 annual report (changes since 2024 through the
    crosswalk, weak indicators, rank intervals) into ``out``."""
    from .annual_report import render_report
    from .api import DEFAULT_DRAWS, compare, low_ranking, score_files
    from .io.writers import write_frame_csv

    written = []
    scored = {}
    for year in SAMPLE_YEARS:
        criteria = bundled_path(f"criteria/par-{year}.yaml")
        workbook = out / f"par-{year}.xlsx"
        results = score_files(
            criteria, named=sample_inputs(year), out=workbook, draws=DEFAULT_DRAWS
        )
        scored[year] = results
        rankings = {}
        for level in results.levels:
            rankings[level] = write_frame_csv(
                results.level(level), out / f"par-{year}-{level}-ranking.csv"
            )
        written.append(DemoOutput(year, workbook, rankings, len(results.ranking)))
    current, previous = scored[SAMPLE_YEARS[-1]], scored[SAMPLE_YEARS[0]]
    crosswalk = bundled_path(f"samples/crosswalk-{SAMPLE_YEARS[0]}-{SAMPLE_YEARS[-1]}.csv")
    report = render_report(
        current,
        out / f"report-{SAMPLE_YEARS[-1]}",
        comparison=compare(current, previous, crosswalk),
        weak=low_ranking(current, previous=previous, crosswalk=crosswalk),
        uncertainty=current.uncertainty,
    )
    return Demo(written, report)
