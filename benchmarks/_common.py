"""What the benchmark scripts share: paths, peak-memory measurement, timed stages and CLI runs,
and the description of the machine and of the ``par_index`` measured.

Not a script: the ``bench_*.py`` scripts import it (their folder is on ``sys.path`` when they
run as ``python benchmarks/<script>.py``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import national

import par_index

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
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


def timed(
    fn: Callable[[], Any], memory: PeakMemory, repeat: int, slow: float
) -> tuple[Any, dict[str, Any]]:
    """Run ``fn`` ``repeat`` times, or once when its first run takes over ``slow`` seconds.

    Returns the last run's result and the figures: ``runs``, wall ``median_s`` / ``min_s`` /
    ``max_s`` / ``times_s``, the median ``cpu_s``, the highest peak RSS and rise over the RSS
    at a run's start (MiB).
    """
    times: list[float] = []
    cpu: list[float] = []
    peaks: list[float] = []
    rises: list[float] = []
    result = None
    while True:
        result = None
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
    return result, {
        "runs": len(times),
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "times_s": times,
        "cpu_s": statistics.median(cpu),
        "peak_rss_mib": max(peaks),
        "rss_rise_mib": max(rises),
    }


def stage(
    rows: list[dict[str, Any]], name: str, fn: Callable[[], Any], repeat: int, slow: float
) -> Any:
    """Time ``fn`` (see :func:`timed`), append its row to ``rows``, print a line, return its
    result."""
    memory = PeakMemory()
    result, timing = timed(fn, memory, repeat, slow)
    del timing["times_s"]  # not recorded
    row = {"stage": name, **timing, "memory_method": memory.method}
    rows.append(row)
    print(
        f"  {name:<46} {row['median_s']:7.2f} s  (CPU {row['cpu_s']:6.2f} s, "
        f"{runs_text(row['runs'])})  peak {row['peak_rss_mib']:6.0f} MiB  "
        f"rise {row['rss_rise_mib']:5.0f} MiB",
        flush=True,
    )
    return result


def print_stages(rows: list[dict[str, Any]]) -> None:
    """The table of every stage: runs, median wall time, CPU, peak and rise of memory."""
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


def cli_command(command: str, sources: dict[str, Path], *options: str) -> list[str]:
    """``par-index <command> --criteria par-2025.yaml <registry> <processing> <appraisal>
    --input survey=<survey> <options…>``, with this interpreter's ``par-index``."""
    script = Path(sys.executable).with_name("par-index")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "par_index"]
    return [
        *base,
        command,
        "--criteria",
        str(CRITERIA),
        str(sources["registry"]),
        str(sources["processing"]),
        str(sources["appraisal"]),
        "--input",
        f"survey={sources['survey']}",
        *options,
    ]


def run_timed(
    command: list[str], report: Path
) -> tuple[subprocess.CompletedProcess[str], float, dict[str, float]]:
    """Run ``command`` under ``/usr/bin/time -v`` (writing ``report``) when there is one.

    Returns the finished process, its wall seconds, and what GNU time reported of
    ``peak_rss_mib`` (max RSS), ``user_s`` and ``system_s`` (each only when found).
    """
    gnu_time = "/usr/bin/time" if Path("/usr/bin/time").exists() else shutil.which("time")
    full = [gnu_time, "-v", "-o", str(report), *command] if gnu_time else command
    t0 = time.perf_counter()
    done = subprocess.run(full, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    text = (
        report.read_text(encoding="utf-8", errors="replace") if gnu_time and report.exists() else ""
    )
    figures: dict[str, float] = {}
    for key, pattern, scale in (
        ("peak_rss_mib", r"Maximum resident set size \(kbytes\): (\d+)", 1 / 1024),
        ("user_s", r"User time \(seconds\): ([\d.]+)", 1.0),
        ("system_s", r"System time \(seconds\): ([\d.]+)", 1.0),
    ):
        found = re.search(pattern, text)
        if found:
            figures[key] = float(found.group(1)) * scale
    return done, seconds, figures


def failed(done: subprocess.CompletedProcess[str]) -> str:
    """The tail of a failed run's stderr, for the progress line ('' when it succeeded)."""
    return "" if done.returncode == 0 else "  FAILED: " + done.stderr.strip()[-300:]


def runs_text(runs: int) -> str:
    return f"{runs} run{'s' if runs > 1 else ''}"


# ----------------------------------------------------------------------------- case


def case_size(folder: Path) -> tuple[int, int]:
    """The size of the case already in ``folder`` (so a smaller case is not overwritten),
    or the national defaults."""
    try:
        params = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["params"]
        return int(params["respondents"]), int(params["questions"])
    except (OSError, ValueError, KeyError, TypeError):
        return national.N_RESPONDENTS, national.N_QUESTIONS


def national_case(folder: Path) -> dict[str, Path]:
    """The case's input paths, generated first (at the size already there) when missing."""
    respondents, questions = case_size(folder)
    return national.generate(folder, respondents, questions, log=lambda s: print(s, flush=True))


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


def load_average() -> tuple[float, float, float] | None:
    return os.getloadavg() if hasattr(os, "getloadavg") else None


def load_text(before: tuple[float, float, float]) -> str:
    return (
        f"load average (1/5/15 min) before: {', '.join(f'{x:.2f}' for x in before)}; "
        f"after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


@dataclass(frozen=True)
class Start:
    """When a bench began, the load average then, and which par_index it measures."""

    started: datetime
    load_before: tuple[float, float, float] | None
    measured: dict[str, Any]


def stage_arguments(ap: argparse.ArgumentParser, name: str) -> None:
    """The options every stage bench has: --repeat, --slow and --json."""
    ap.add_argument("--repeat", type=int, default=3, help="runs per stage (median)")
    ap.add_argument("--slow", type=float, default=10.0, help="run a slower stage once")
    ap.add_argument("--json", type=Path, default=OUTPUT / f"{name}.json")


def begin(title: str) -> Start:
    """Print the bench's title line and note its start (before anything is measured: others
    may commit while it runs)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    started = datetime.now().astimezone()
    print(f"par-index {title} benchmark — {started:%Y-%m-%d %H:%M %Z}")
    return Start(started, load_average(), source())


def report_head(
    started: datetime, measured: dict[str, Any], load_before: tuple[float, float, float] | None
) -> dict[str, Any]:
    """The first fields of a bench's JSON report: when, where, what and the load around it."""
    return {
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "par_index": measured,
        "load_average_1_5_15min": {
            "before": load_before,
            "after": os.getloadavg() if load_before else None,
        },
    }


def finish(
    path: Path,
    start: Start,
    rows: list[dict[str, Any]],
    checks: dict[str, Any],
    **fields: Any,
) -> int:
    """Print the stage table, the load and the checks; write the JSON report (its head,
    ``fields``, the stages and the checks); return the exit status."""
    print()
    print_stages(rows)
    if start.load_before is not None:
        print(f"\n{load_text(start.load_before)}")
    print(f"checks: {json.dumps(checks, ensure_ascii=False)}")
    report = {
        **report_head(start.started, start.measured, start.load_before),
        **fields,
        "stages": rows,
        "checks": checks,
    }
    return write_report(path, report, rows)


def write_report(path: Path, report: dict[str, Any], rows: list[dict[str, Any]]) -> int:
    """Write the JSON report; return the exit status: 1 when a subprocess in ``rows`` failed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"\nwrote {path}")
    return 1 if any(r.get("returncode") for r in rows) else 0
