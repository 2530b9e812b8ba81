#!/usr/bin/env python3
"""Time each stage of scoring the national-scale case (benchmarks/national.py) and its memory.

    python benchmarks/bench_score.py                 # generate the case if needed, then measure
    python benchmarks/bench_score.py --profile       # also cProfile every stage over --slow s
    python benchmarks/bench_score.py --skip-cli --skip-xlsx   # the quick part only

Stages (all in this process, except the CLI):

- read: ``par_index.read_inputs`` with the survey as .csv, then as .xlsx (the other three
  inputs are the same files in both);
- measure: ``compute.measures.measure_values`` for every leaf of par-2025;
- score: ``compute.engine.score_nominal`` (measures, rules, aggregation, missing policies,
  contributions and ranks: the whole tree);
- rank: ``compute.rank.competition_rank`` over every node's scores, within level and within
  level × group, as ``score_nominal`` does it;
- assemble: ``compute.score.detail_frame`` + ``ranking_frame``; and ``par_index.score`` on the
  already-read data (= score + assemble + run record, i.e. the api minus the read);
- write: ``io.writers.write_results`` to .xlsx and to .csv;
- cli: the whole ``par-index score … --out results.xlsx`` in a subprocess, under
  ``/usr/bin/time -v`` when it exists (wall time and max RSS), once with each survey file.

Times are ``time.perf_counter`` wall seconds. A stage is run ``--repeat`` times (default 3) and
the median is reported, unless its first run takes more than ``--slow`` seconds (default 10):
then it is run once, and the table says so (runs = 1). Memory is the process's peak resident
set during the stage (Linux: VmHWM after resetting it through /proc/self/clear_refs) and the
rise over the RSS at the stage's start; memory freed earlier may be reused, so the rise is a
lower bound of the stage's working set. The CLI's max RSS is the honest end-to-end figure.

Results go to stdout as a plain table and to benchmarks/output/bench_score.json.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import re
import resource
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
import national

import par_index
import par_index.api
from par_index.compute import engine
from par_index.compute.measures import measure_values
from par_index.compute.rank import competition_rank, round_half_up
from par_index.compute.score import detail_frame, ranking_frame
from par_index.io.writers import write_results

# ----------------------------------------------------------------------------- stages


class Bench:
    def __init__(self, repeat: int, slow: float) -> None:
        self.repeat = repeat
        self.slow = slow
        self.memory = common.PeakMemory()
        self.rows: list[dict[str, Any]] = []
        self.calls: dict[str, Callable[[], Any]] = {}

    def stage(self, name: str, fn: Callable[[], Any], note: str = "") -> Any:
        result, timing = common.timed(fn, self.memory, self.repeat, self.slow)
        runs = timing["runs"]
        row = {
            "stage": name,
            **timing,
            "note": note or (f"1 run: the first took over {self.slow:g} s" if runs == 1 else ""),
        }
        self.rows.append(row)
        self.calls[name] = fn
        print(
            f"  {name:<38} {row['median_s']:8.2f} s  ({common.runs_text(runs)})  "
            f"peak {row['peak_rss_mib']:7.0f} MiB",
            flush=True,
        )
        return result


def ranking_basis(spec: par_index.IndexSpec, scores: np.ndarray) -> np.ndarray:
    """What the engine ranks on (its own helper when it has one)."""
    helper = getattr(engine, "ranking_basis", None)
    if helper is not None:
        return np.asarray(helper(spec, scores))
    decimals = spec.ranking.round_to
    return scores if decimals is None else round_half_up(scores, decimals)


def score_nodes(spec: par_index.IndexSpec, data: par_index.InputData) -> tuple[list[Any], Any]:
    """``engine.score_nominal``'s nodes and tiers (it also returns warnings and raw values)."""
    out = engine.score_nominal(spec, data)
    return out[0], out[1]


def rank_every_node(spec: par_index.IndexSpec, data: par_index.InputData, nodes: list[Any]) -> int:
    """The ranking loop of ``score_nominal``, alone: within level, and within level × group."""
    level = data.units["level"].to_numpy(dtype=object)
    group = data.units["group"].to_numpy(dtype=object)
    keys = np.array([f"{lv}\0{g}" for lv, g in zip(level, group, strict=True)], dtype=object)
    has_group = data.units["group"].notna().to_numpy()
    for result in nodes:
        basis = ranking_basis(spec, result.score)
        competition_rank(basis, level)
        if spec.ranking.within_group and has_group.any():
            np.where(has_group, competition_rank(basis, keys), np.nan)
    return len(nodes)


def measure_every_leaf(spec: par_index.IndexSpec, data: par_index.InputData) -> int:
    leaves = spec.leaves()
    for leaf in leaves:
        assert leaf.measure is not None
        table = spec.inputs[leaf.measure.table]
        measure_values(leaf.measure, data, getattr(table, "weight_column", None))
    return len(leaves)


# ----------------------------------------------------------------------------- CLI


def run_cli(name: str, command: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {"stage": name, "runs": 1, "command": " ".join(command)}
    done, seconds, figures = common.run_timed(command, common.OUTPUT / "cli-time.txt")
    row["median_s"] = row["min_s"] = row["max_s"] = seconds
    row["times_s"] = [seconds]
    row["cpu_s"] = None
    row["returncode"] = done.returncode
    row["stdout"] = done.stdout.strip()
    if done.returncode != 0:
        row["stderr"] = done.stderr.strip()[-2000:]
    if "peak_rss_mib" in figures:
        row["peak_rss_mib"] = figures["peak_rss_mib"]
        row["memory_method"] = "/usr/bin/time -v (max RSS)"
        row.update({key: figures[key] for key in ("user_s", "system_s") if key in figures})
        if "user_s" in row and "system_s" in row:
            row["cpu_s"] = row["user_s"] + row["system_s"]
    else:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        row["peak_rss_mib"] = usage.ru_maxrss / (common.MiB if sys.platform == "darwin" else 1024)
        row["memory_method"] = "getrusage(RUSAGE_CHILDREN): the largest child so far"
    row["rss_rise_mib"] = None
    row["note"] = "subprocess, 1 run"
    print(
        f"  {name:<38} {row['median_s']:8.2f} s  (1 run)  peak {row['peak_rss_mib']:7.0f} MiB"
        f"{common.failed(done)}",
        flush=True,
    )
    return row


# ----------------------------------------------------------------------------- profile


def profile(name: str, fn: Callable[[], Any], top: int = 15) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("cumulative").print_stats(top)
    text = buffer.getvalue()
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    (common.OUTPUT / f"profile-{slug}.txt").write_text(text, encoding="utf-8")
    return text


# ----------------------------------------------------------------------------- report


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'stage':<38} {'runs':>4} {'median s':>9} {'min s':>8} {'max s':>8} {'CPU s':>7} "
        f"{'peak RSS MiB':>13} {'rise MiB':>9}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        rise, cpu = r.get("rss_rise_mib"), r.get("cpu_s")
        lines.append(
            f"{r['stage']:<38} {r['runs']:>4} {r['median_s']:>9.2f} {r['min_s']:>8.2f} "
            f"{r['max_s']:>8.2f} {'—' if cpu is None else format(cpu, '.2f'):>7} "
            f"{r['peak_rss_mib']:>13.0f} {'—' if rise is None else format(rise, '.0f'):>9}"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--case",
        type=Path,
        default=national.DEFAULT_OUT,
        help="folder of the generated case (generated there if missing)",
    )
    ap.add_argument("--repeat", type=int, default=3, help="runs per cheap stage (median)")
    ap.add_argument(
        "--slow",
        type=float,
        default=10.0,
        help="a stage whose first run takes longer is run once (seconds)",
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="cProfile every in-process stage slower than --slow (top 15 by "
        "cumulative time, also saved as output/profile-<stage>.txt)",
    )
    ap.add_argument("--skip-xlsx", action="store_true", help="skip reading the .xlsx survey")
    ap.add_argument("--skip-cli", action="store_true", help="skip the CLI subprocess runs")
    ap.add_argument("--json", type=Path, default=common.OUTPUT / "bench_score.json")
    args = ap.parse_args(argv)

    common.OUTPUT.mkdir(parents=True, exist_ok=True)
    results_dir = common.OUTPUT / "results"
    results_dir.mkdir(exist_ok=True)
    started = datetime.now().astimezone()
    print(f"par-index benchmark — {started:%Y-%m-%d %H:%M %Z}")
    t0 = time.perf_counter()
    load_before = common.load_average()
    measured = common.source()  # at the start: others may commit while the benchmark runs
    paths = common.national_case(args.case)
    generation_s = time.perf_counter() - t0
    manifest = json.loads((args.case / "manifest.json").read_text(encoding="utf-8"))
    spec = par_index.load_spec(common.CRITERIA)
    other_inputs = {
        "registry": paths["registry"],
        "processing": paths["processing"],
        "appraisal": paths["appraisal"],
    }
    csv_sources = {**other_inputs, "survey": paths["survey_csv"]}
    xlsx_sources = {**other_inputs, "survey": paths["survey_xlsx"]}
    sizes = {p.name: p.stat().st_size for p in paths.values()}
    listed = ", ".join(f"{k} {v / common.MiB:.1f} MiB" for k, v in sizes.items())
    print(f"case: {args.case}  ({listed})")
    bench = Bench(args.repeat, args.slow)
    print(f"memory measured by: {bench.memory.method}\n")
    data = bench.stage("read (survey .csv)", lambda: par_index.read_inputs(spec, csv_sources))
    rows_read = {name: info["rows_read"] for name, info in data.sources.items()}
    xlsx_data = None
    if not args.skip_xlsx:
        xlsx_data = bench.stage(
            "read (survey .xlsx)", lambda: par_index.read_inputs(spec, xlsx_sources)
        )
    n_leaves = bench.stage("measure (every leaf)", lambda: measure_every_leaf(spec, data))
    nodes, tiers = bench.stage("score (engine.score_nominal)", lambda: score_nodes(spec, data))
    bench.stage("rank (competition_rank, all nodes)", lambda: rank_every_node(spec, data, nodes))
    bench.stage(
        "assemble (detail + ranking frames)",
        lambda: (detail_frame(data.units, nodes), ranking_frame(spec, data.units, nodes, tiers)),
    )
    results = bench.stage("api.score on read data", lambda: par_index.score(spec, data))
    bench.stage(
        "write .xlsx (write_results)", lambda: write_results(results, results_dir / "results.xlsx")
    )
    bench.stage(
        "write .csv (write_results)", lambda: write_results(results, results_dir / "results.csv")
    )

    bench.stage(
        "api.score_files (CLI path, in process)",
        lambda: par_index.api.score_files(
            common.CRITERIA,
            [paths["registry"], paths["processing"], paths["appraisal"]],
            {"survey": paths["survey_csv"]},
            out=results_dir / "score_files.xlsx",
        ),
    )

    checks: dict[str, Any] = {
        "units": {
            level: int((results.ranking["level"] == level).sum()) for level in results.levels
        },
        "detail_rows": len(results.detail),
        "nodes": len(nodes),
        "leaves": n_leaves,
        "rows_read": rows_read,
        "missing_values": len(results.missing),
    }
    if xlsx_data is not None:
        other = par_index.score(spec, xlsx_data)
        checks["csv_and_xlsx_survey_agree"] = bool(other.ranking.equals(results.ranking))
        del other, xlsx_data
    gc.collect()

    cli_rows = []
    if not args.skip_cli:
        for suffix, sources in (("csv", csv_sources), ("xlsx", xlsx_sources)):
            if suffix == "xlsx" and args.skip_xlsx:
                continue
            out = str(results_dir / f"cli-{suffix}.xlsx")
            command = common.cli_command("score", sources, "--out", out)
            cli_rows.append(run_cli(f"cli: par-index score (survey .{suffix})", command))

    rows = bench.rows + cli_rows
    print()
    print(table(rows))
    print(
        f"\nruns: median of {args.repeat}; stages whose first run took over {args.slow:g} s "
        "were run once (runs = 1)."
    )
    process_peak = max([r["peak_rss_mib"] for r in bench.rows] + [common.lifetime_peak_mib()])
    print(f"peak RSS of this process over the whole benchmark: {process_peak:.0f} MiB")
    if load_before is not None:
        print(common.load_text(load_before))
    print(f"checks: {json.dumps(checks, ensure_ascii=False)}")

    profiles: dict[str, str] = {}
    if args.profile:
        slow_rows = [r for r in bench.rows if r["median_s"] > args.slow]
        for row in slow_rows:
            print(f"\n=== cProfile: {row['stage']} (top 15 by cumulative time) ===")
            text = profile(row["stage"], bench.calls[row["stage"]])
            profiles[row["stage"]] = text
            print(text)

    report = {
        **common.report_head(started, measured, load_before),
        "case": {
            "folder": str(args.case),
            "params": manifest.get("params"),
            "files_bytes": sizes,
            "generation_s": manifest.get("total_seconds"),
            "generation_s_this_run": round(generation_s, 2),
        },
        "method": {
            "timer": "time.perf_counter (wall)",
            "repeat": args.repeat,
            "once_if_first_run_over_s": args.slow,
            "memory": bench.memory.method,
        },
        "stages": rows,
        "process_peak_rss_mib": process_peak,
        "checks": checks,
        "profiles": profiles,
    }
    return common.write_report(args.json, report, cli_rows)


if __name__ == "__main__":
    sys.exit(main())
