"""The bundled criteria files and sample data (the embedded default), and the demo run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import ParIndexError

SAMPLE_YEARS = (2024, 2025)
SAMPLE_FILES = {
    "registry": "registry.csv",
    "survey": "survey_citizens.csv",
    "processing": "processing.csv",
    "appraisal": "appraisal.xlsx",
}


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


def sample_inputs(year: int) -> dict[str, Path]:
    """The sample input files of a year, keyed by the input names of ``par-<year>.yaml``."""
    if year not in SAMPLE_YEARS:
        raise ParIndexError(f"sample data exists for {list(SAMPLE_YEARS)}. Got {year} instead.")
    return {name: bundled_path(f"samples/{year}/{file}") for name, file in SAMPLE_FILES.items()}


@dataclass(frozen=True)
class DemoOutput:
    year: int
    workbook: Path
    rankings: dict[str, Path]
    units: int


def run_demo(out: Path) -> list[DemoOutput]:
    """Score both sample years with the bundled criteria; write a workbook per year and a
    ranking CSV per level into ``out``."""
    from .api import score
    from .io.writers import write_frame_csv, write_results

    written = []
    for year in SAMPLE_YEARS:
        criteria = bundled_path(f"criteria/par-{year}.yaml")
        results = score(criteria, sample_inputs(year))
        workbook = write_results(results, out / f"par-{year}.xlsx")
        rankings = {}
        for level in results.levels:
            rankings[level] = write_frame_csv(
                results.level(level), out / f"par-{year}-{level}-ranking.csv"
            )
        written.append(DemoOutput(year, workbook, rankings, len(results.ranking)))
    return written
