#!/usr/bin/env python3
"""Time ``par_index.uncertainty`` (rank uncertainty) and its peak memory: 1,000 draws on the
sample province and on the national-scale case (benchmarks/national.py: 3,321 communes + 20
departments, 500,000 respondents).

    python benchmarks/bench_uncertainty.py                  # generate the case if needed
    python benchmarks/bench_uncertainty.py --draws 2000     # another number of draws
    python benchmarks/bench_uncertainty.py --skip-cli       # in-process stages only

Stages (the inputs are read once, outside the timed stages, except for the CLI):

- ``samples``: the bundled 2025 sample (95 units, ~11,000 respondents), par-2025 as it is
  (its ``uncertainty`` block only sets the flags: the survey is resampled);
- ``national, survey``: the same on the national case;
- ``national, survey + weights + alternatives``: par-2025 with a block that also perturbs
  the weights of every area (×0.8–1.2) and switches two rules and the total's aggregation;
- ``national, 3× draws``: the first configuration with three times the draws, to show that
  working memory is bounded by the chunk (only the per-draw results, draws × units, grow);
- ``cli``: ``par-index uncertainty … --draws N --out x.xlsx`` in a subprocess under
  ``/usr/bin/time -v`` (read + draws + write, and the process's max RSS).

Each in-process stage reports wall time (``time.perf_counter``), CPU time, and the peak
resident set during the stage (Linux VmHWM reset before it, as in bench_score.py) and its rise
over the stage's start: the rise is what the draws need on top of the data already read.
Results go to stdout and to benchmarks/output/bench_uncertainty.json.
"""

from __future__ import annotations

import argparse
import gc
import sys
from functools import partial
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
import national

import par_index
from par_index.spec import spec_from_data

VARIED = {
    "min_n": 30,
    "max_margin": 0.1,
    "weights": [
        {"node": area, "range": [0.8, 1.2]}
        for area in (
            "chi_dao",
            "the_che",
            "tthc",
            "to_chuc",
            "cong_vu",
            "tai_chinh",
            "chinh_quyen_so",
            "tac_dong",
        )
    ],
    "alternatives": [
        {"node": "giai_ngan", "rule": {"kind": "minmax"}},
        {"node": "dung_han", "rule": {"kind": "linear", "worst": 0.7, "best": 1.0}},
        {"node": "par-2025", "aggregation": "geometric_mean", "zero_floor": 0.01},
    ],
}


def varied_spec() -> par_index.IndexSpec:
    data = yaml.safe_load(common.CRITERIA.read_text(encoding="utf-8"))
    data["uncertainty"] = VARIED
    return spec_from_data(data, str(common.CRITERIA))


def run_cli(paths: dict[str, Path], draws: int, out: Path) -> dict[str, Any]:
    sources = {**paths, "survey": paths["survey_csv"]}
    command = common.cli_command("uncertainty", sources, "--draws", str(draws), "--out", str(out))
    done, seconds, figures = common.run_timed(command, common.OUTPUT / "cli-uncertainty-time.txt")
    row: dict[str, Any] = {
        "stage": f"cli: par-index uncertainty --draws {draws} (national)",
        "runs": 1,
        "median_s": seconds,
        "returncode": done.returncode,
        "stdout": done.stdout.strip(),
        "command": " ".join(command),
    }
    if done.returncode:
        row["stderr"] = done.stderr.strip()[-2000:]
    row.update(figures)
    print(
        f"  {row['stage']:<46} {row['median_s']:7.2f} s  (1 run)  "
        f"peak {row.get('peak_rss_mib', float('nan')):6.0f} MiB{common.failed(done)}",
        flush=True,
    )
    return row


def summary(result: par_index.Uncertainty) -> dict[str, Any]:
    units = result.units
    width = (units["rank_p95"] - units["rank_p05"]).astype("float64")
    inside = (units["rank_p05"] <= units["rank_nominal"]) & (
        units["rank_nominal"] <= units["rank_p95"]
    )
    return {
        "units": len(units),
        "draws": result.draws,
        "chunk": result.run["uncertainty"]["chunk"],
        "median_rank_interval_width": {
            level: float(width[units["level"] == level].median()) for level in result.levels
        },
        "nominal_rank_inside_interval": float(inside.mean()),
        "flagged_units": int(units["flagged"].sum()),
        "fallbacks": result.run["uncertainty"]["fallbacks"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", type=Path, default=national.DEFAULT_OUT)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--skip-triple", action="store_true", help="skip the 3× draws stage")
    common.stage_arguments(ap, "bench_uncertainty")
    args = ap.parse_args(argv)

    start = common.begin("uncertainty")
    paths = common.national_case(args.case)
    spec = par_index.load_spec(common.CRITERIA)
    draws, seed = args.draws, args.seed
    rows: list[dict[str, Any]] = []
    checks: dict[str, Any] = {}

    print("reading the inputs (not timed here; see bench_score.py)", flush=True)
    samples = par_index.read_inputs(spec, par_index.sample_inputs(2025))
    national_data = par_index.read_inputs(
        spec,
        {
            "registry": paths["registry"],
            "processing": paths["processing"],
            "appraisal": paths["appraisal"],
            "survey": paths["survey_csv"],
        },
    )
    respondents_read = {
        "samples": len(samples.tables["survey"]),
        "national": len(national_data.tables["survey"]),
    }
    print(f"respondents: {respondents_read}\n", flush=True)

    varied = varied_spec()
    everything = "survey+weights+alternatives"
    # (key in checks, data, criteria, what the draws vary, draws, runs)
    configs = [
        ("samples", samples, spec, "survey", draws, args.repeat),
        ("national", national_data, spec, "survey", draws, args.repeat),
        ("national_varied", national_data, varied, everything, draws, args.repeat),
        ("national_triple", national_data, spec, "survey", 3 * draws, 1),
    ]
    for key, data, criteria, varies, n_draws, repeat in configs:
        if key == "national_triple" and args.skip_triple:
            continue
        name = f"{key.split('_')[0]}: {n_draws} draws ({varies})"
        run = partial(par_index.uncertainty, criteria, data, draws=n_draws, seed=seed)
        result = common.stage(rows, name, run, repeat, args.slow)
        checks[key] = summary(result)
        if key == "national":
            checks[key]["seconds_in_run_record"] = result.run["uncertainty"]["seconds"]
        del result
    gc.collect()
    if not args.skip_cli:
        rows.append(run_cli(paths, draws, common.OUTPUT / "results" / "uncertainty.xlsx"))

    return common.finish(
        args.json, start, rows, checks, draws=draws, seed=seed, respondents=respondents_read
    )


if __name__ == "__main__":
    sys.exit(main())
