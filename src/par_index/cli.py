"""The ``par-index`` command line. It holds no logic: every verb calls the api and prints.

Errors from bad input (:class:`ParIndexError`) are printed as readable messages on stderr with
exit code 1, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from . import api, progress
from ._version import __version__
from .errors import ParIndexError, format_issues
from .io.writers import records
from .results import Uncertainty
from .spec.loader import json_schema, load_spec

app = typer.Typer(
    name="par-index",
    help="Score and rank public-administration reform indices from criteria files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(error: ParIndexError) -> None:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(1)


def _pairs(values: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise typer.BadParameter(f"--input takes NAME=PATH. Got '{value}' instead.")
        pairs[name.strip()] = path.strip()
    return pairs


@contextmanager
def _progress(console: Console | None = None) -> Iterator[None]:
    """A status line on stderr (what is being done, and how far a loop is) while the work
    inside runs — only when stderr is a terminal, so pipes and logs stay clean."""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield
        return
    with console.status("") as status:

        def show(what: str, fraction: float | None) -> None:
            status.update(what if fraction is None else f"{what} · {fraction:.0%}")

        with progress.listening(show):
            yield


CriteriaOption = Annotated[Path, typer.Option("--criteria", "-c", help="The criteria file (YAML).")]
InputPairsOption = Annotated[
    list[str] | None,
    typer.Option("--input", "-i", help="An input given by name: NAME=PATH (repeatable)."),
]


@app.command()
def score(
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Input files: one per input of the criteria file (matched by file or sheet "
            "name), or a single file for a single-input criteria file."
        ),
    ] = None,
    criteria: CriteriaOption = Path(),
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Where to write results: .xlsx, .csv, .parquet or .json."),
    ] = None,
    input_pairs: InputPairsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ranking as JSON.")] = False,
    draws: Annotated[
        int,
        typer.Option(
            "--draws",
            "-n",
            min=0,
            help="Replications drawn for each rank's 90 % interval, carried by the results "
            "and shown by the report (0: none).",
        ),
    ] = api.DEFAULT_DRAWS,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed of the draws.")] = 0,
) -> None:
    """Score and rank every unit on every node of a criteria file, and draw how sure each
    rank is (see par-index uncertainty)."""
    if criteria == Path():
        raise typer.BadParameter("--criteria FILE is required.")
    try:
        with _progress():
            results = api.score_files(
                criteria, inputs or [], _pairs(input_pairs or []), out, draws=draws, seed=seed
            )
    except ParIndexError as error:
        _fail(error)
        return
    if as_json:
        typer.echo(json.dumps(records(results.ranking), ensure_ascii=False, indent=1))
        return
    for level in results.levels:
        ranking = results.level(level)
        ranked = ranking[ranking["rank"].notna()]
        if ranked.empty:
            typer.echo(f"{level}: {len(ranking)} units, none scored")
            continue
        best = ranked.iloc[0]
        unranked = len(ranking) - len(ranked)
        extra = f" ({unranked} without a score)" if unranked else ""
        typer.echo(
            f"{level}: {len(ranked)} units ranked{extra}; first: {best['unit_name']} "
            f"({best['score']:.2f})"
        )
    for warning in results.run.get("warnings", []):
        typer.echo(f"warning: {warning}", err=True)
    if results.uncertainty is not None:
        _echo_intervals(results.uncertainty)
    missing = len(results.missing)
    if missing:
        typer.echo(
            f"{missing} unit × node values were missing (see the detail's status and "
            "action columns)."
        )
    if out is not None:
        typer.echo(f"wrote {out}")


@app.command()
def uncertainty(
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(help="Input files, as for score."),
    ] = None,
    criteria: CriteriaOption = Path(),
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Where to write the tables: .xlsx, .csv, .parquet or .json."
        ),
    ] = None,
    draws: Annotated[
        int, typer.Option("--draws", "-n", min=1, help="How many replications to draw.")
    ] = api.DEFAULT_DRAWS,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed: the same seed, the same output.")
    ] = 0,
    input_pairs: InputPairsOption = None,
) -> None:
    """Rank uncertainty: redo the scoring DRAWS times, varied as the criteria file's
    uncertainty block says (survey respondents resampled by default), and report each unit's
    median rank, 90 % rank interval, tier and top-k chances and small-sample flags."""
    if criteria == Path():
        raise typer.BadParameter("--criteria FILE is required.")
    if out is None:
        raise typer.BadParameter("--out FILE is required (.xlsx, .csv, .parquet or .json).")
    try:
        with _progress():
            result = api.uncertainty_files(
                criteria, inputs or [], _pairs(input_pairs or []), out, draws=draws, seed=seed
            )
    except ParIndexError as error:
        _fail(error)
        return
    _echo_intervals(result)
    for warning in result.run.get("warnings", []):
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"wrote {out}")


def _echo_intervals(result: Uncertainty) -> None:
    """Per level: the median and widest 90 % rank interval and the units flagged."""
    info = result.run.get("uncertainty", {})
    if not (info.get("survey") or info.get("weights") or info.get("alternatives")):
        typer.echo(
            "rank intervals: nothing varies between draws (no survey to resample, no weights or "
            "alternatives declared under uncertainty), so every rank is exact; see the "
            "sensitivity table for what the ranking hangs on"
        )
        return
    table = result.units
    for level in result.levels:
        rows = table[(table["level"] == level) & table["rank_nominal"].notna()]
        if rows.empty:
            typer.echo(f"{level}: no unit ranked")
            continue
        width = (rows["rank_p95"] - rows["rank_p05"]).astype("float64")
        flagged = int(rows["flagged"].sum())
        typer.echo(
            f"{level}: {len(rows)} units; 90 % rank interval median width {width.median():g} "
            f"places (widest {width.max():g}); {flagged} flagged for a small survey sample"
        )
    typer.echo(f"{info.get('draws')} draws in {info.get('seconds', 0):.1f} s")


@app.command()
def validate(criteria: Annotated[Path, typer.Argument(help="The criteria file (YAML).")]) -> None:
    """Check a criteria file: print every problem (exit 1) or a summary of the tree."""
    try:
        spec = load_spec(criteria)
    except ParIndexError as error:
        typer.echo(f"{error.summary}", err=True)
        if error.issues:
            typer.echo(format_issues(error.issues), err=True)
        raise typer.Exit(1) from None
    typer.echo(spec.summary())


@app.command()
def schema() -> None:
    """Print the JSON Schema of the criteria file format."""
    typer.echo(json_schema())


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the results.")] = Path(
        "demo-results"
    ),
) -> None:
    """Score the bundled sample province (2024 and 2025) with the bundled criteria, and write
    the 2025 annual report with rank intervals and changes since 2024."""
    from .samples import run_demo

    try:
        with _progress():
            demo = run_demo(out)
    except ParIndexError as error:
        _fail(error)
        return
    for item in demo.years:
        levels = ", ".join(f"{level}" for level in item.rankings)
        typer.echo(f"{item.year}: {item.units} units scored ({levels}) → {item.workbook}")
        for path in item.rankings.values():
            typer.echo(f"    {path}")
    typer.echo(f"annual report → {demo.report['html']} and {demo.report['xlsx']}")


@app.command()
def compare(
    current: Annotated[Path, typer.Argument(help="This year's results (from par-index score).")],
    previous: Annotated[Path, typer.Argument(help="Last year's results.")],
    out: Annotated[Path, typer.Option("--out", "-o", help=".xlsx, .csv, .parquet or .json")],
    crosswalk: Annotated[
        Path | None,
        typer.Option(
            help="previous_unit_id, current_unit_id[, weight]: carries last year onto this year's "
            "map when units merged."
        ),
    ] = None,
) -> None:
    """Year-over-year changes of every unit and node, flagging criteria changes."""
    try:
        comparison = api.compare(current, previous, crosswalk=crosswalk)
        comparison.to_excel(out)
    except ParIndexError as error:
        _fail(error)
        return
    for row in comparison.summary.itertuples():
        typer.echo(
            f"{row.level}: {row.rose} rose, {row.fell} fell, {row.unchanged} unchanged, "
            f"{row.new} new; mean {row.mean_previous:.2f} → {row.mean_current:.2f}"
        )
    changed = comparison.nodes[~comparison.nodes["comparable"]]
    if len(changed):
        typer.echo(f"not comparable (criteria changed): {', '.join(changed['node_id'])}")
    typer.echo(f"wrote {out}")


@app.command()
def weak(
    results: Annotated[Path, typer.Argument(help="Results written by par-index score.")],
    out: Annotated[Path, typer.Option("--out", "-o", help=".xlsx, .csv, .parquet or .json")],
    bottom_share: Annotated[
        float | None, typer.Option(help="Weak = in this bottom share of places (default 0.25).")
    ] = None,
    bottom_k: Annotated[int | None, typer.Option(help="Weak = in the bottom k places.")] = None,
    below_share: Annotated[
        float | None, typer.Option(help="Weak = below this share of the maximum.")
    ] = None,
    previous: Annotated[Path | None, typer.Option(help="Last year's results.")] = None,
    crosswalk: Annotated[Path | None, typer.Option(help="Unit crosswalk, as for compare.")] = None,
) -> None:
    """Each unit's low-ranking indicators, ordered by points at stake."""
    try:
        report = api.low_ranking(
            results,
            bottom_share=bottom_share,
            bottom_k=bottom_k,
            below_share=below_share,
            previous=previous,
            crosswalk=crosswalk,
        )
        report.to_excel(out)
    except ParIndexError as error:
        _fail(error)
        return
    units = report.weak["unit_id"].nunique()
    typer.echo(f"{len(report.weak)} weak indicators in {units} units; wrote {out}")


@app.command()
def report(
    results: Annotated[Path, typer.Argument(help="Results written by par-index score.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the report.")],
    previous: Annotated[Path | None, typer.Option(help="Last year's results.")] = None,
    crosswalk: Annotated[Path | None, typer.Option(help="Unit crosswalk, as for compare.")] = None,
    lang: Annotated[str, typer.Option(help="vi (default) or en.")] = "vi",
    uncertainty: Annotated[
        Path | None,
        typer.Option(
            help="Rank uncertainty written by par-index uncertainty (same criteria and "
            "inputs), instead of the one the results carry (par-index score draws it)."
        ),
    ] = None,
) -> None:
    """The annual ranking report: a formatted workbook and a self-contained HTML page."""
    try:
        with _progress():
            paths = api.report(
                results,
                out,
                previous=previous,
                crosswalk=crosswalk,
                lang=lang,
                uncertainty=uncertainty,
            )
    except ParIndexError as error:
        _fail(error)
        return
    for kind, path in sorted(paths.items()):
        typer.echo(f"wrote {kind}: {path}")


criteria_app = typer.Typer(help="Work with criteria files.", no_args_is_help=True)
app.add_typer(criteria_app, name="criteria")


@criteria_app.command("import")
def criteria_import(
    table: Annotated[Path, typer.Argument(help="Structure table: one row per indicator.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The criteria file to write.")],
    parents: Annotated[
        str, typer.Option(help="Parent columns, nearest first, comma-separated (pillar,sub).")
    ] = "",
    index_id: Annotated[str | None, typer.Option("--id", help="Index id.")] = None,
    name: Annotated[str | None, typer.Option(help="Index name.")] = None,
    rule: Annotated[
        str | None, typer.Option(help="linear (goalposts), minmax or identity.")
    ] = None,
    scale: Annotated[float, typer.Option(help="Maximum of every node.")] = 100.0,
    aggregation: Annotated[str, typer.Option(help="Aggregation of inner nodes.")] = (
        "weighted_mean"
    ),
    data_table: Annotated[str, typer.Option("--table", help="Input name of the data.")] = "data",
    unit_column: Annotated[str, typer.Option(help="Unit id column of the data.")] = "unit_id",
    name_column: Annotated[str | None, typer.Option(help="Unit name column.")] = None,
) -> None:
    """Turn a structure table (id, name, parents, weight, direction, goalposts) into a
    criteria file, validated like any other."""
    from .io.structure import ImportOptions, import_structure
    from .spec.loader import dump_spec, spec_from_data

    options = ImportOptions(
        parents=[p.strip() for p in parents.split(",") if p.strip()],
        index_id=index_id or table.stem.replace("_", "-"),
        index_name=name or table.stem,
        rule=rule,
        scale=scale,
        aggregation=aggregation,
        table=data_table,
        unit_column=unit_column,
        name_column=name_column,
    )
    try:
        spec = spec_from_data(import_structure(table, options), str(table))
    except ParIndexError as error:
        _fail(error)
        return
    dump_spec(spec, out)
    typer.echo(f"wrote {out}: {spec.summary()}")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"par-index {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True)] = False,
) -> None:
    """Score and rank public-administration reform indices from criteria files."""


def main() -> None:
    """Console entry point."""
    try:
        app()
    except ParIndexError as error:  # a safety net: commands catch their own
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
