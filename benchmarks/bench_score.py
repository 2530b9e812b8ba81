#!/usr/bin/env python3
"""Time each stage of scoring the national-scale case (benchmarks/national.py) and its memory.

    python benchmarks/bench_score.py                 # generate the case if needed, then measure
    python benchmarks/bench_score.py --profile       # also cProfile every stage over --slow s
    python benchmarks/bench_score.py --skip-cli --skip-xlsx   # the quick part only

Stages (all in this process, except the CLI):

- read: ``par_index.read_inputs`` with the survey as .csv, then as .xlsx (the other three
  inputs are the same files in both);
- measure: ``compute.measures.measure_values`` for every leaf of par-2025;
- score: ``compute.engine.score_tree`` (measures, rules, aggregation, missing policies,
  contributions and ranks: the whole tree);
- rank: ``compute.rank.competition_rank`` over every node's scores, within level and within
  level × group, as ``score_tree`` does it;
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
import os
import platform
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import national  # noqa: E402

import par_index  # noqa: E402
import par_index.api  # noqa: E402
from par_index.compute import engine  # noqa: E402
from par_index.compute.measures import measure_values  # noqa: E402
from par_index.compute.rank import competition_rank, round_half_up  # noqa: E402
from par_index.compute.score import detail_frame, ranking_frame  # noqa: E402
from par_index.io.writers import write_results  # noqa: E402

CRITERIA = ROOT / "criteria" / "par-2025.yaml"
OUTPUT = HERE / "output"
MiB = 1024 * 1024


# ----------------------------------------------------------------------------- memory


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakMemory:
    """Peak RSS of this process over a stretch of code.

    Linux: reset the high-water mark (``echo 5 > /proc/self/clear_refs``, Linux ≥ 4.0) and
    read ``VmHWM`` afterwards. Where that is refused, a thread samples ``VmRSS`` every 5 ms.
    Elsewhere only the lifetime peak (``ru_maxrss``) is known.
    """

    def __init__(self) -> None:
        self.method = "none"
        if _status_kib("VmRSS") is not None:
            try:
                with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
                    handle.write("5")
                self.method = "VmHWM"
            except OSError:
                self.method = "sampled"
        else:
            self.method = "ru_maxrss"
        self._stop = threading.Event()
        self._sampled = 0
        self._thread: threading.Thread | None = None

    def rss(self) -> float:
        kib = _status_kib("VmRSS")
        return float("nan") if kib is None else kib * 1024 / MiB

    def start(self) -> float:
        gc.collect()
        base = self.rss()
        if self.method == "VmHWM":
            with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
                handle.write("5")
        elif self.method == "sampled":
            self._sampled = _status_kib("VmRSS") or 0
            self._stop.clear()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return base

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self._sampled = max(self._sampled, _status_kib("VmRSS") or 0)

    def peak(self) -> float:
        if self.method == "VmHWM":
            return (_status_kib("VmHWM") or 0) * 1024 / MiB
        if self.method == "sampled":
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            return self._sampled * 1024 / MiB
        return lifetime_peak_mib()


def lifetime_peak_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MiB if sys.platform == "darwin" else peak / 1024


# ----------------------------------------------------------------------------- stages


class Bench:
    def __init__(self, repeat: int, slow: float) -> None:
        self.repeat = repeat
        self.slow = slow
        self.memory = PeakMemory()
        self.rows: list[dict[str, Any]] = []
        self.calls: dict[str, Callable[[], Any]] = {}

    def stage(self, name: str, fn: Callable[[], Any], note: str = "") -> Any:
        times: list[float] = []
        cpu: list[float] = []
        peaks: list[float] = []
        rises: list[float] = []
        result = None
        while True:
            result = None
            base = self.memory.start()
            t0, c0 = time.perf_counter(), time.process_time()
            result = fn()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            peak = self.memory.peak()
            peaks.append(peak)
            rises.append(peak - base)
            if len(times) >= self.repeat or times[0] > self.slow:
                break
        row = {
            "stage": name,
            "runs": len(times),
            "median_s": statistics.median(times),
            "min_s": min(times),
            "max_s": max(times),
            "times_s": times,
            "cpu_s": statistics.median(cpu),
            "peak_rss_mib": max(peaks),
            "rss_rise_mib": max(rises),
            "note": note
            or (f"1 run: the first took over {self.slow:g} s" if len(times) == 1 else ""),
        }
        self.rows.append(row)
        self.calls[name] = fn
        print(
            f"  {name:<38} {row['median_s']:8.2f} s  ({len(times)} run"
            f"{'s' if len(times) > 1 else ''})  peak {row['peak_rss_mib']:7.0f} MiB",
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


def score_tree(spec: par_index.IndexSpec, data: par_index.InputData) -> tuple[list[Any], Any]:
    """``engine.score_tree``'s nodes and tiers (it may also return warnings)."""
    out = engine.score_tree(spec, data)
    return out[0], out[1]


def rank_every_node(spec: par_index.IndexSpec, data: par_index.InputData, nodes: list[Any]) -> int:
    """The ranking loop of ``score_tree``, alone: within level, and within level × group."""
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


def cli_command(sources: dict[str, Path], out: Path) -> list[str]:
    script = Path(sys.executable).with_name("par-index")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "par_index"]
    return [
        *base,
        "score",
        "--criteria",
        str(CRITERIA),
        str(sources["registry"]),
        str(sources["processing"]),
        str(sources["appraisal"]),
        "--input",
        f"survey={sources['survey']}",
        "--out",
        str(out),
    ]


def run_cli(name: str, command: list[str]) -> dict[str, Any]:
    gnu_time = "/usr/bin/time" if Path("/usr/bin/time").exists() else shutil.which("time")
    report = OUTPUT / "cli-time.txt"
    row: dict[str, Any] = {"stage": name, "runs": 1, "command": " ".join(command)}
    full = [gnu_time, "-v", "-o", str(report), *command] if gnu_time else command
    t0 = time.perf_counter()
    done = subprocess.run(full, capture_output=True, text=True, check=False)
    row["median_s"] = row["min_s"] = row["max_s"] = time.perf_counter() - t0
    row["times_s"] = [row["median_s"]]
    row["cpu_s"] = None
    row["returncode"] = done.returncode
    row["stdout"] = done.stdout.strip()
    if done.returncode != 0:
        row["stderr"] = done.stderr.strip()[-2000:]
    text = (
        report.read_text(encoding="utf-8", errors="replace") if gnu_time and report.exists() else ""
    )
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if match:
        row["peak_rss_mib"] = int(match.group(1)) / 1024
        row["memory_method"] = "/usr/bin/time -v (max RSS)"
        for key, pattern in (
            ("user_s", r"User time \(seconds\): ([\d.]+)"),
            ("system_s", r"System time \(seconds\): ([\d.]+)"),
        ):
            found = re.search(pattern, text)
            if found:
                row[key] = float(found.group(1))
        if "user_s" in row and "system_s" in row:
            row["cpu_s"] = row["user_s"] + row["system_s"]
    else:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        row["peak_rss_mib"] = usage.ru_maxrss / (MiB if sys.platform == "darwin" else 1024)
        row["memory_method"] = "getrusage(RUSAGE_CHILDREN): the largest child so far"
    row["rss_rise_mib"] = None
    row["note"] = "subprocess, 1 run"
    print(
        f"  {name:<38} {row['median_s']:8.2f} s  (1 run)  peak {row['peak_rss_mib']:7.0f} MiB"
        f"{'' if done.returncode == 0 else '  FAILED: ' + done.stderr.strip()[-300:]}",
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
    (OUTPUT / f"profile-{slug}.txt").write_text(text, encoding="utf-8")
    return text


# ----------------------------------------------------------------------------- report


def versions() -> dict[str, str]:
    out = {}
    for package in ("par-index", "numpy", "pandas", "python-calamine", "xlsxwriter"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "?"
    return out


def source() -> dict[str, Any]:
    """Which par_index was measured: its folder, and the git commit (and dirtiness) there."""
    folder = Path(par_index.__file__).resolve().parent
    info: dict[str, Any] = {"package_dir": str(folder)}
    try:

        def git(*cmd: str) -> str:
            return subprocess.run(
                ["git", "-C", str(folder), *cmd],
                capture_output=True,
                text=True,
                check=True,
                timeout=30,
            ).stdout.strip()

        info["commit"] = git("rev-parse", "HEAD")
        info["uncommitted_changes_in_src"] = bool(git("status", "--porcelain", "--", "."))
    except (OSError, subprocess.SubprocessError):
        info["commit"] = None  # not a git checkout (e.g. an exported tree)
    return info


def machine() -> dict[str, Any]:
    mem_kib = None
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            mem_kib = int(handle.readline().split()[1])
    except OSError:
        pass
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "memory_gib": round(mem_kib / 1024 / 1024, 1) if mem_kib else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions(),
    }


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


def case_size(folder: Path) -> tuple[int, int]:
    """The size of the case already in ``folder`` (so a smaller case is not overwritten),
    or the national defaults."""
    try:
        params = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["params"]
        return int(params["respondents"]), int(params["questions"])
    except (OSError, ValueError, KeyError, TypeError):
        return national.N_RESPONDENTS, national.N_QUESTIONS


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
    ap.add_argument("--json", type=Path, default=OUTPUT / "bench_score.json")
    args = ap.parse_args(argv)

    OUTPUT.mkdir(parents=True, exist_ok=True)
    results_dir = OUTPUT / "results"
    results_dir.mkdir(exist_ok=True)
    started = datetime.now().astimezone()
    print(f"par-index benchmark — {started:%Y-%m-%d %H:%M %Z}")
    t0 = time.perf_counter()
    respondents, questions = case_size(args.case)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    measured = source()  # at the start: others may commit while the benchmark runs
    paths = national.generate(args.case, respondents, questions, log=lambda s: print(s, flush=True))
    generation_s = time.perf_counter() - t0
    manifest = json.loads((args.case / "manifest.json").read_text(encoding="utf-8"))
    spec = par_index.load_spec(CRITERIA)
    common = {
        "registry": paths["registry"],
        "processing": paths["processing"],
        "appraisal": paths["appraisal"],
    }
    csv_sources = {**common, "survey": paths["survey_csv"]}
    xlsx_sources = {**common, "survey": paths["survey_xlsx"]}
    sizes = {p.name: p.stat().st_size for p in paths.values()}
    print(f"case: {args.case}  ({', '.join(f'{k} {v / MiB:.1f} MiB' for k, v in sizes.items())})")
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
    nodes, tiers = bench.stage("score (engine.score_tree)", lambda: score_tree(spec, data))
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
            CRITERIA,
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
        cli_rows.append(
            run_cli(
                "cli: par-index score (survey .csv)",
                cli_command(csv_sources, results_dir / "cli-csv.xlsx"),
            )
        )
        if not args.skip_xlsx:
            cli_rows.append(
                run_cli(
                    "cli: par-index score (survey .xlsx)",
                    cli_command(xlsx_sources, results_dir / "cli-xlsx.xlsx"),
                )
            )

    rows = bench.rows + cli_rows
    print()
    print(table(rows))
    print(
        f"\nruns: median of {args.repeat}; stages whose first run took over {args.slow:g} s "
        "were run once (runs = 1)."
    )
    process_peak = max([r["peak_rss_mib"] for r in bench.rows] + [lifetime_peak_mib()])
    print(f"peak RSS of this process over the whole benchmark: {process_peak:.0f} MiB")
    if load_before is not None:
        print(
            f"load average (1/5/15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
            f"after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
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
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "par_index": measured,
        "load_average_1_5_15min": {
            "before": load_before,
            "after": os.getloadavg() if load_before else None,
        },
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
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    print(f"\nwrote {args.json}")
    failed = [r for r in cli_rows if r.get("returncode")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
