#!/usr/bin/env python3
"""Time ``par_index.uncertainty`` (rank uncertainty) and its peak memory: 1,000 draws on the
sample province and on the national-scale case (benchmarks/national.py: 3,321 communes + 20
departments, 500,000 respondents).

    python benchmarks/bench_uncertainty.py                  # generate the case if needed
    python benchmarks/bench_uncertainty.py --draws 2000     # another number of draws
    python benchmarks/bench_uncertainty.py --skip-cli       # in-process stages only

Stages (the inputs are read once, outside the timed stages, except for the CLI):

- ``samples``: the bundled 2025 sample (95 units, ~11,000 respondents), par-2025 as it is
  (its criteria file declares no ``uncertainty`` block: the survey is resampled);
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
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import national  # noqa: E402
from bench_score import PeakMemory, case_size, machine, source  # noqa: E402

import par_index  # noqa: E402
from par_index.spec import spec_from_data  # noqa: E402

CRITERIA = ROOT / "criteria" / "par-2025.yaml"
OUTPUT = HERE / "output"
MiB = 1024 * 1024

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
    data = yaml.safe_load(CRITERIA.read_text(encoding="utf-8"))
    data["uncertainty"] = VARIED
    return spec_from_data(data, str(CRITERIA))


def stage(
    rows: list[dict[str, Any]], name: str, fn: Callable[[], Any], repeat: int, slow: float
) -> Any:
    memory = PeakMemory()
    times, cpu, peaks, rises = [], [], [], []
    result = None
    while True:
        result = None
        gc.collect()
        base = memory.start()
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        peak = memory.peak()
        peaks.append(peak)
        rises.append(peak - base)
        if len(times) >= repeat or times[0] > slow:
            break
    row = {
        "stage": name,
        "runs": len(times),
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "cpu_s": statistics.median(cpu),
        "peak_rss_mib": max(peaks),
        "rss_rise_mib": max(rises),
        "memory_method": memory.method,
    }
    rows.append(row)
    print(
        f"  {name:<46} {row['median_s']:7.2f} s  (CPU {row['cpu_s']:6.2f} s, {len(times)} run"
        f"{'s' if len(times) > 1 else ''})  peak {row['peak_rss_mib']:6.0f} MiB  "
        f"rise {row['rss_rise_mib']:5.0f} MiB",
        flush=True,
    )
    return result


def run_cli(paths: dict[str, Path], draws: int, out: Path) -> dict[str, Any]:
    script = Path(sys.executable).with_name("par-index")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "par_index"]
    command = [
        *base,
        "uncertainty",
        "--criteria",
        str(CRITERIA),
        str(paths["registry"]),
        str(paths["processing"]),
        str(paths["appraisal"]),
        "--input",
        f"survey={paths['survey_csv']}",
        "--draws",
        str(draws),
        "--out",
        str(out),
    ]
    gnu_time = "/usr/bin/time" if Path("/usr/bin/time").exists() else shutil.which("time")
    report = OUTPUT / "cli-uncertainty-time.txt"
    full = [gnu_time, "-v", "-o", str(report), *command] if gnu_time else command
    t0 = time.perf_counter()
    done = subprocess.run(full, capture_output=True, text=True, check=False)
    row: dict[str, Any] = {
        "stage": f"cli: par-index uncertainty --draws {draws} (national)",
        "runs": 1,
        "median_s": time.perf_counter() - t0,
        "returncode": done.returncode,
        "stdout": done.stdout.strip(),
        "command": " ".join(command),
    }
    if done.returncode:
        row["stderr"] = done.stderr.strip()[-2000:]
    text = report.read_text(encoding="utf-8", errors="replace") if report.exists() else ""
    for key, label in (
        ("peak_rss_mib", "Maximum resident set size (kbytes)"),
        ("user_s", "User time (seconds)"),
        ("system_s", "System time (seconds)"),
    ):
        for line in text.splitlines():
            if label in line:
                value = float(line.rsplit(":", 1)[1])
                row[key] = value / 1024 if key == "peak_rss_mib" else value
    print(
        f"  {row['stage']:<46} {row['median_s']:7.2f} s  (1 run)  "
        f"peak {row.get('peak_rss_mib', float('nan')):6.0f} MiB"
        f"{'' if done.returncode == 0 else '  FAILED: ' + done.stderr.strip()[-300:]}",
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
    ap.add_argument("--repeat", type=int, default=3, help="runs per stage (median)")
    ap.add_argument("--slow", type=float, default=10.0, help="run a slower stage once")
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--skip-triple", action="store_true", help="skip the 3× draws stage")
    ap.add_argument("--json", type=Path, default=OUTPUT / "bench_uncertainty.json")
    args = ap.parse_args(argv)

    OUTPUT.mkdir(parents=True, exist_ok=True)
    started = datetime.now().astimezone()
    print(f"par-index uncertainty benchmark — {started:%Y-%m-%d %H:%M %Z}")
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    measured = source()
    respondents, questions = case_size(args.case)
    paths = national.generate(args.case, respondents, questions, log=lambda s: print(s, flush=True))
    spec = par_index.load_spec(CRITERIA)
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

    result = stage(
        rows,
        f"samples: {draws} draws (survey)",
        lambda: par_index.uncertainty(spec, samples, draws=draws, seed=seed),
        args.repeat,
        args.slow,
    )
    checks["samples"] = summary(result)
    result = stage(
        rows,
        f"national: {draws} draws (survey)",
        lambda: par_index.uncertainty(spec, national_data, draws=draws, seed=seed),
        args.repeat,
        args.slow,
    )
    checks["national"] = summary(result)
    checks["national"]["seconds_in_run_record"] = result.run["uncertainty"]["seconds"]
    del result
    varied = varied_spec()
    result = stage(
        rows,
        f"national: {draws} draws (survey+weights+alternatives)",
        lambda: par_index.uncertainty(varied, national_data, draws=draws, seed=seed),
        args.repeat,
        args.slow,
    )
    checks["national_varied"] = summary(result)
    del result
    if not args.skip_triple:
        result = stage(
            rows,
            f"national: {3 * draws} draws (survey)",
            lambda: par_index.uncertainty(spec, national_data, draws=3 * draws, seed=seed),
            1,
            args.slow,
        )
        checks["national_triple"] = summary(result)
        del result
    gc.collect()
    if not args.skip_cli:
        rows.append(run_cli(paths, draws, OUTPUT / "results" / "uncertainty.xlsx"))

    print()
    head = f"{'stage':<56} {'runs':>4} {'median s':>9} {'CPU s':>7} {'peak MiB':>9} {'rise MiB':>9}"
    print(head)
    print("-" * len(head))
    for r in rows:
        cpu = r.get("cpu_s")
        if cpu is None and "user_s" in r:
            cpu = r["user_s"] + r.get("system_s", 0.0)
        rise = r.get("rss_rise_mib")
        print(
            f"{r['stage']:<56} {r['runs']:>4} {r['median_s']:>9.2f} "
            f"{'—' if cpu is None else format(cpu, '.2f'):>7} "
            f"{r.get('peak_rss_mib', float('nan')):>9.0f} "
            f"{'—' if rise is None else format(rise, '.0f'):>9}"
        )
    if load_before is not None:
        print(
            f"\nload average (1/5/15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
            f"after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
    print(f"checks: {json.dumps(checks, ensure_ascii=False)}")
    report = {
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "par_index": measured,
        "load_average_1_5_15min": {
            "before": load_before,
            "after": os.getloadavg() if load_before else None,
        },
        "draws": draws,
        "seed": seed,
        "respondents": respondents_read,
        "stages": rows,
        "checks": checks,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    print(f"\nwrote {args.json}")
    return 1 if any(r.get("returncode") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
