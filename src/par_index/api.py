"""The functional facade shared by notebooks and the CLI: the only place that wires io → compute.

>>> import par_index as pi
>>> spec = pi.load_spec(pi.bundled_path("criteria/par-2025.yaml"))
>>> results = pi.score(spec, pi.sample_inputs(2025))
>>> sorted(results.levels)
['commune', 'department']
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from . import progress
from ._version import __version__
from .compute.engine import score_nominal
from .compute.score import score as _score
from .errors import DataError, Issue
from .io.inputs import TableSource, read_inputs
from .io.readers import file_format, nfc, sha256_of, xlsx_sheet_names
from .io.writers import write_results
from .results import Comparison, Results, Uncertainty, WeakReport
from .spec.index import IndexSpec
from .spec.loader import load_spec, spec_to_data
from .tables import InputData

SpecLike = IndexSpec | str | Path


def _as_spec(spec: SpecLike) -> tuple[IndexSpec, Path | None]:
    if isinstance(spec, IndexSpec):
        return spec, None
    return load_spec(spec), Path(spec)


def resolve_sources(
    spec: IndexSpec, files: Sequence[str | Path] = (), named: Mapping[str, str | Path] | None = None
) -> dict[str, TableSource]:
    """Match files to the criteria file's inputs, as on the command line.

    ``named`` pairs (``--input survey=path``) are taken as given. The remaining inputs come from
    ``files``: a single file for a criteria file with a single input is that input; a workbook
    whose sheet names match input names serves those inputs; otherwise a file serves the input
    named like its stem (``survey.csv`` → ``survey``).
    """
    sources: dict[str, TableSource] = dict(named or {})
    wanted = [name for name in spec.inputs if name not in sources]
    paths = [Path(f) for f in files]
    if not wanted:
        if paths:
            raise DataError(
                "too many input files",
                [
                    Issue(
                        "unused_input",
                        str(paths[0]),
                        "every input is already given by --input; this file would not be used.",
                    )
                ],
            )
        return sources
    if len(paths) == 1 and len(wanted) == 1:
        sources[wanted[0]] = paths[0]
        return sources
    issues: list[Issue] = []
    for path in paths:
        matched = False
        if path.suffix.lower() in (".xlsx", ".xlsm") and file_format(path) == "xlsx":
            sheets = xlsx_sheet_names(path)
            for name in wanted:
                declared = spec.inputs[name].sheet
                if name not in sources and (nfc(declared or name) in sheets):
                    sources[name] = path
                    matched = True
        stem = nfc(path.stem)
        if stem in wanted and stem not in sources:
            sources[stem] = path
            matched = True
        if not matched:
            issues.append(
                Issue(
                    "unmatched_file",
                    str(path),
                    f"this file matches none of the inputs {wanted} (by sheet or file name).",
                    "Give it as --input NAME=PATH.",
                )
            )
    for name in wanted:
        if name not in sources:
            issues.append(
                Issue(
                    "missing_input",
                    name,
                    f"input '{name}' was not given.",
                    f"Give a file named {name}.csv/.xlsx, a workbook with a sheet "
                    f"'{name}', or --input {name}=PATH.",
                )
            )
    if issues:
        raise DataError("the input files do not match the criteria file", issues)
    return sources


def spec_digest(spec: IndexSpec) -> str:
    """SHA-256 of the criteria's canonical JSON form (the same for equal specs)."""
    text = json.dumps(spec_to_data(spec), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_record(spec: IndexSpec, spec_path: Path | None, data: InputData) -> dict[str, Any]:
    return {
        "package": "par-index",
        "version": __version__,
        "time_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "index_id": spec.id,
        "index_name": spec.name,
        "year": spec.year,
        "criteria_file": str(spec_path) if spec_path else None,
        "criteria_sha256": sha256_of(spec_path) if spec_path else None,
        "criteria_digest": spec_digest(spec),
        "inputs": list(data.sources.values()),
        "rows": data.accounting,
        "units": len(data.units),
    }


def score(
    spec: SpecLike,
    data: InputData | Mapping[str, TableSource],
    *,
    draws: int = 0,
    seed: int = 0,
) -> Results:
    """Score and rank every unit on every node of the criteria.

    ``spec`` is an :class:`IndexSpec` or the path of a criteria file; ``data`` is the result of
    :func:`read_inputs` or a mapping of input names to paths or DataFrames. With ``draws`` > 0
    the rank uncertainty is drawn on the same data too (as :func:`uncertainty` does) and
    carried as ``results.uncertainty`` (``par-index score`` draws 1,000 by default).
    """
    from dataclasses import replace

    index, path = _as_spec(spec)
    prepared = data if isinstance(data, InputData) else read_inputs(index, data)
    record = run_record(index, path, prepared)
    progress.stage("scoring")
    nominal = score_nominal(index, prepared)
    results = _score(index, prepared, record, nominal)
    if draws > 0:
        from .compute.uncertainty import uncertainty as _uncertainty

        spread = _uncertainty(index, prepared, draws=draws, seed=seed, run=record, nominal=nominal)
        results = replace(results, uncertainty=spread)
    return results


def _results(value: Results | str | Path) -> Results:
    if isinstance(value, Results):
        return value
    from .io.results_reader import read_results

    return read_results(value)


def compare(
    current: Results | str | Path,
    previous: Results | str | Path,
    crosswalk: pd.DataFrame | str | Path | None = None,
) -> Comparison:
    """Year-over-year changes. ``current``/``previous`` are results or files written by
    ``par-index score``; ``crosswalk`` (previous_unit_id, current_unit_id[, weight]) carries
    last year onto this year's map where units merged."""
    from .compute.compare import compare as _compare

    walk = crosswalk
    if walk is not None and not isinstance(walk, pd.DataFrame):
        from .io.readers import read_raw_table

        walk, _ = read_raw_table(
            walk,
            "crosswalk",
            "previous_unit_id",
            text_columns=("previous_unit_id", "current_unit_id"),
        )
        walk = walk.drop(columns="__row__")
    return _compare(_results(current), _results(previous), walk)


def low_ranking(
    results: Results | str | Path,
    *,
    bottom_share: float | None = None,
    bottom_k: int | None = None,
    below_share: float | None = None,
    top_share: float = 0.25,
    previous: Results | str | Path | None = None,
    crosswalk: pd.DataFrame | str | Path | None = None,
) -> WeakReport:
    """Each unit's weak and strong indicators, and where each level loses most points."""
    from .compute.weak import low_ranking as _low_ranking

    current = _results(results)
    comparison = compare(current, previous, crosswalk) if previous is not None else None
    return _low_ranking(
        current,
        bottom_share=bottom_share,
        bottom_k=bottom_k,
        below_share=below_share,
        top_share=top_share,
        comparison=comparison,
    )


def report(
    results: Results | str | Path,
    out: str | Path,
    *,
    previous: Results | str | Path | None = None,
    crosswalk: pd.DataFrame | str | Path | None = None,
    lang: str = "vi",
    bottom_share: float | None = None,
    uncertainty: Uncertainty | str | Path | None = None,
) -> dict[str, Path]:
    """The annual report of ``results`` into the folder ``out``: ``<index>-<year>.xlsx`` and
    ``index.html``. With ``previous`` (and a ``crosswalk`` where units merged) it shows the
    year-over-year changes; rank intervals come from ``uncertainty`` (from :func:`uncertainty`
    or a file written by ``par-index uncertainty``, on the same criteria and inputs) or else
    from the results themselves when ``par-index score`` drew them; weak indicators are always
    included."""
    from .annual_report import render_report
    from .compute.weak import low_ranking as _low_ranking

    current = _results(results)
    comparison = compare(current, previous, crosswalk) if previous is not None else None
    spread = uncertainty if uncertainty is not None else current.uncertainty
    source = "uncertainty"
    if spread is not None and not isinstance(spread, Uncertainty):
        from .io.results_reader import read_uncertainty

        source = str(spread)
        spread = read_uncertainty(spread)
    if spread is not None and spread is not current.uncertainty:
        from dataclasses import replace

        from .annual_report.intervals import check_matches

        check_matches(current, spread, source)
        current = replace(current, uncertainty=spread)  # the weak list marks small samples
    weak = _low_ranking(current, bottom_share=bottom_share, comparison=comparison)
    return render_report(
        current,
        Path(out),
        comparison=comparison,
        weak=weak,
        lang=lang,
        uncertainty=spread,
    )


DEFAULT_DRAWS = 1000
"""Replications drawn for rank intervals when none is said (``score`` and ``uncertainty``)."""


def score_files(
    criteria: str | Path,
    files: Sequence[str | Path] = (),
    named: Mapping[str, str | Path] | None = None,
    out: str | Path | None = None,
    draws: int = 0,
    seed: int = 0,
) -> Results:
    """The whole ``par-index score`` run: load, read, score (and draw the rank uncertainty
    when ``draws`` > 0, see :func:`score`), and write ``out`` if given — the intervals with the
    results, so that the report shows them without another step."""
    index = load_spec(criteria)
    sources = resolve_sources(index, files, named)
    used = [p for p in sources.values() if not isinstance(p, pd.DataFrame)]
    if out is not None:  # refuse a bad output before the work, not after
        from .io.writers import check_output

        check_output(Path(out), [*used, criteria])
    results = score(criteria, read_inputs(index, sources), draws=draws, seed=seed)
    if out is not None:
        write_results(results, Path(out), inputs=[*used, criteria])
    return results


def uncertainty(
    spec: SpecLike,
    data: InputData | Mapping[str, TableSource],
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> Uncertainty:
    """Rank uncertainty: ``draws`` replications of the whole scoring, varied as the criteria
    file's ``uncertainty`` block declares (survey respondents resampled by default), and the
    spread of every unit's score and rank. The same ``seed`` gives the same result.

    ``spec`` and ``data`` are as for :func:`score`.
    """
    from .compute.uncertainty import uncertainty as _uncertainty

    index, path = _as_spec(spec)
    prepared = data if isinstance(data, InputData) else read_inputs(index, data)
    return _uncertainty(
        index, prepared, draws=draws, seed=seed, run=run_record(index, path, prepared)
    )


def uncertainty_files(
    criteria: str | Path,
    files: Sequence[str | Path] = (),
    named: Mapping[str, str | Path] | None = None,
    out: str | Path | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> Uncertainty:
    """The whole ``par-index uncertainty`` run: load, read, draw, and write ``out`` if given."""
    from .io.writers import check_output, write_tables
    from .spec.loader import dump_spec

    index = load_spec(criteria)
    sources = resolve_sources(index, files, named)
    inputs = [*(p for p in sources.values() if not isinstance(p, pd.DataFrame)), criteria]
    if out is not None:  # refuse a bad output before the draws, not after
        check_output(Path(out), inputs)
    result = uncertainty(criteria, read_inputs(index, sources), draws=draws, seed=seed)
    if out is not None:
        write_tables(
            result.tables(),
            Path(out),
            run=result.run,
            criteria=dump_spec(result.spec),
            inputs=inputs,
        )
    return result
