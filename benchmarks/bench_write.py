#!/usr/bin/env python3
"""Time writing national-scale results with ``par_index.io.writers.write_tables``.

    python benchmarks/bench_write.py                       # 113,594 detail rows, 3 runs each
    python benchmarks/bench_write.py --rows 20000 --repeat 1
    PYTHONPATH=/tmp/export/src python benchmarks/bench_write.py   # another checkout

No scoring and no input files: a synthetic ``ranking`` (one row per unit) and ``detail`` (unit
× node, the columns and dtypes of ``par_index.results.DETAIL_COLUMNS`` as ``detail_frame``
makes them: pandas ``str`` ids and names with Vietnamese diacritics and 5-digit text ids,
object columns holding None, int64 depth, bool is_leaf, float64 with NaN, nullable Int64 ranks
with <NA>) are built from a fixed numpy seed, then written with a run record and the
criteria text of ``criteria/par-2025.yaml`` as .xlsx, .csv and .parquet (the last two for
reference). Each format is written ``--repeat`` times; the table shows the median wall time
(``time.perf_counter``), the median CPU time (``time.process_time``: this process only, so
on a loaded machine it is the better estimate of idle wall time) and the output size (for
.csv / .parquet: all files of the output, sidecars included).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import par_index
from par_index.io.writers import write_tables
from par_index.results import DETAIL_COLUMNS, RANKING_LEAD

ROOT = Path(__file__).resolve().parent.parent
CRITERIA = ROOT / "criteria" / "par-2025.yaml"
NODES = 34  # par-2025: the index, 8 areas, 25 leaves
AREAS = ["chi_dao", "the_che", "tthc", "to_chuc", "cong_vu", "tai_chinh", "chinh_quyen_so"]
MiB = 1024 * 1024


def _units(count: int, rng: np.random.Generator) -> pd.DataFrame:
    """Units as the registry gives them: 20 departments, then communes / wards."""
    departments = min(20, count)
    kinds = np.where(rng.random(count - departments) < 0.79, "Xã", "Phường")
    places = ["Hòa Bình", "Tân Phú", "Đông Hưng", "Quảng Điền", "Ea Kar", "Mường Tè", "Bắc Sơn"]
    names = [f"Sở Nội vụ và Đào tạo số {i + 1}" for i in range(departments)] + [
        f"{kind} {places[i % len(places)]} {i + 1}" for i, kind in enumerate(kinds)
    ]
    return pd.DataFrame(
        {
            "unit_id": [f"{i + 1:05d}" for i in range(count)],
            "unit_name": names,
            "level": ["department"] * departments + ["commune"] * (count - departments),
            "group": ["Sở"] * departments + [str(kind) for kind in kinds],
        }
    )


def _as_object(values: list[Any] | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=object)


def detail_table(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ranking, detail): ``rows`` detail rows (units × 34 nodes, cut to ``rows``) and one
    ranking row per unit, with the columns and dtypes the scoring code produces."""
    rng = np.random.default_rng(seed)
    count = max(1, -(-rows // NODES))
    units = _units(count, rng)
    depth = np.array([0] + [1] * 8 + [2] * 25)
    leaf = depth == 2
    node_ids = ["par-2025", *AREAS, "tac_dong"] + [f"q{k:02d}_ty_le" for k in range(1, 26)]
    node_names = ["Chỉ số cải cách hành chính năm 2025"] + [
        f"Tiêu chí {k}: Mức độ hài lòng của người dân, tổ chức" for k in range(1, NODES)
    ]
    parents = [None, *["par-2025"] * 8, *[AREAS[k % len(AREAS)] for k in range(25)]]
    n = count * NODES
    unit_index = np.repeat(np.arange(count), NODES)
    node_index = np.tile(np.arange(NODES), count)

    maximum = np.tile(np.where(depth == 0, 100.0, np.where(depth == 1, 12.5, 2.5)), count)
    maximum[rng.random(n) < 0.05] = np.nan
    score = rng.random(n) * maximum
    score[np.isnan(maximum)] = np.nan
    raw = np.where(np.tile(leaf, count), rng.random(n) * 100, np.nan)
    raw[rng.random(n) < 0.02] = np.nan
    self_assessed = np.where(rng.random(n) < 0.2, rng.integers(0, 3, n) * 1.25, np.nan)
    n_valid = np.where(rng.random(n) < 0.15, rng.integers(57, 448, n).astype(float), np.nan)
    rank = pd.array(rng.integers(1, count + 1, n), dtype="Int64")
    rank[np.isnan(score)] = pd.NA
    rank_in_group = pd.array(rng.integers(1, min(count, 2621) + 1, n), dtype="Int64")
    rank_in_group[np.isnan(score)] = pd.NA
    status = np.where(np.isnan(score), "missing", "ok")
    action = _as_object([None] * n)
    action[np.isnan(score)] = "điểm 0 (thiếu dữ liệu)"

    detail = pd.DataFrame(
        {
            "unit_id": units["unit_id"].to_numpy(dtype=object)[unit_index],
            "unit_name": units["unit_name"].to_numpy(dtype=object)[unit_index],
            "level": units["level"].to_numpy(dtype=object)[unit_index],
            "group": units["group"].to_numpy(dtype=object)[unit_index],
            "node_id": _as_object(node_ids)[node_index],
            "node_name": _as_object(node_names)[node_index],
            "parent_id": _as_object(parents)[node_index],
            "depth": depth[node_index].astype("int64"),
            "is_leaf": leaf[node_index],
            "raw_value": raw,
            "self_assessed": self_assessed,
            "n_valid": n_valid,
            "score": score,
            "points": score * 0.5,
            "maximum": maximum,
            "share": score / maximum,
            "rank": rank,
            "rank_in_group": rank_in_group,
            "status": status.astype(object),
            "action": action,
        }
    )
    for column in ("group", "parent_id", "action"):  # as detail_frame: object with None
        detail[column] = detail[column].astype(object)
    detail = detail.iloc[:rows].reset_index(drop=True)
    assert list(detail.columns) == DETAIL_COLUMNS

    total = score[node_index == 0]
    tiers = np.array(["Tốt", "Khá", "Trung bình", None], dtype=object)
    ranking = pd.DataFrame(
        {
            "unit_id": units["unit_id"],
            "unit_name": units["unit_name"],
            "level": units["level"],
            "group": units["group"].astype(object),
            "score": total,
            "maximum": 100.0,
            "share": total / 100.0,
            "rank": pd.array(np.arange(1, count + 1), dtype="Int64"),
            "rank_in_group": pd.array(np.arange(1, count + 1), dtype="Int64"),
            "tier": tiers[rng.integers(0, 4, count)],
        }
    )
    ranking["tier"] = ranking["tier"].astype(object)  # as ranking_frame: object with None
    assert list(ranking.columns) == RANKING_LEAD
    for k, area in enumerate([*AREAS, "tac_dong"]):
        ranking[area] = score[node_index == k + 1]
    return ranking, detail


def run_record() -> dict[str, Any]:
    """A run record shaped like ``api.run_record``'s (lists and dicts included)."""
    return {
        "package": "par-index",
        "version": par_index.__version__,
        "criteria": {"id": "par-2025", "sha256": "0" * 64},
        "inputs": [{"name": "survey", "path": "survey_citizens.csv", "rows": 500000}],
        "warnings": [],
        "time": "2026-11-30T00:00:00+00:00",
    }


def output_size(path: Path) -> int:
    """Bytes of the output: the file and, for .csv / .parquet, its sidecars."""
    return sum(p.stat().st_size for p in path.parent.glob(f"{path.stem}*") if p.is_file())


def measure(
    tables: dict[str, pd.DataFrame], folder: Path, suffix: str, repeat: int, criteria: str
) -> dict[str, Any]:
    """Write the tables ``repeat`` times in one format; median wall and CPU seconds."""
    walls, cpus = [], []
    path = folder / suffix.lstrip(".") / f"results{suffix}"  # a folder each: sizes stay apart
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        write_tables(tables, path, run=run_record(), criteria=criteria)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {
        "format": suffix,
        "runs": repeat,
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "size": output_size(path),
    }


def describe() -> str:
    """Which par_index is measured (folder, git commit, uncommitted changes) and versions."""
    folder = Path(par_index.__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--", "io/writers.py"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
        where = f"{folder} @ {commit}{' + uncommitted io/writers.py' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        where = f"{folder} (not a git checkout)"
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("pandas", "numpy", "xlsxwriter")
    )
    return f"par_index: {where}\nPython {platform.python_version()}, {versions}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=3341 * NODES, help="detail rows")
    parser.add_argument("--repeat", type=int, default=3, help="writes per format (median)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--formats", default=".xlsx,.csv,.parquet", help="comma-separated, e.g. .xlsx"
    )
    parser.add_argument("--keep", type=Path, help="write into this folder and keep the files")
    args = parser.parse_args(argv)

    ranking, detail = detail_table(args.rows, args.seed)
    tables = {"ranking": ranking, "detail": detail}
    criteria = CRITERIA.read_text(encoding="utf-8")
    print(describe())
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"detail {len(detail):,} rows × {detail.shape[1]} columns, ranking {len(ranking):,} rows")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_write.") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for suffix in args.formats.split(","):
            if suffix == ".parquet":
                try:
                    import pyarrow  # noqa: F401
                except ImportError:
                    print("(.parquet skipped: pyarrow is not installed)")
                    continue
            results.append(measure(tables, folder, suffix, args.repeat, criteria))
    if load is not None:  # other work on the machine inflates the wall times
        after = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"load average (1/5/15 min) before: {', '.join(f'{x:.2f}' for x in load)}; "
            f"after: {after}"
        )
    print("\n| format | detail rows | runs | wall s (median) | CPU s (median) | size MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['format']} | {len(detail):,} | {r['runs']} | {r['wall']:.2f} | "
            f"{r['cpu']:.2f} | {r['size'] / MiB:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
