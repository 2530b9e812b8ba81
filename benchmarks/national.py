#!/usr/bin/env python3
"""Generate a national-scale benchmark case for par-index, in the layout of data/samples/2025.

The case is scored by ``criteria/par-2025.yaml`` unchanged:

- ``registry.csv``: 20 departments (``S01``…``S20``, groups ``Sở`` / ``Cơ quan khác``) and
  3,321 communes (level ``commune``; 2,621 ``Xã``, 687 ``Phường``, 13 ``Đặc khu``, the national
  counts after 1 July 2025) with 5-digit text ids (leading zeros kept).
- ``survey_citizens.csv`` and ``survey_citizens.xlsx`` (the same table twice, one sheet written
  with xlsxwriter in constant_memory mode): 500,000 respondents × 40 questions ``q01``…``q40``,
  Likert 1–5, about 3 % ``9`` (don't know) and 2 % blank, plus ``respondent_id``, ``unit_id``
  and a post-stratification ``weight``. par-2025 reads ``q01``…``q10``; the rest is ballast, as
  in a real questionnaire.
- ``processing.csv``: one row per unit × month, months 1–12, the sample's 13 columns.
- ``appraisal.xlsx``: sheet ``Thẩm định``, title on row 1, header on row 3, the sample's columns.

Everything is synthetic (a fixed seed, vectorised numpy); the Đặc khu names are the real
ones, every number is random. Like the sample, each unit has a latent quality that every
source sees with noise, so indicators correlate and scores spread.

    python benchmarks/national.py                 # into benchmarks/output/national/
    python benchmarks/national.py --regenerate    # even if the files are there
    python benchmarks/national.py --respondents 20000 --out /tmp/small   # a quick variant

Generation is skipped when every file exists and ``manifest.json`` records the same
parameters. Files are written to a temporary name and renamed, so an interrupted run never
leaves a half-written file that looks complete.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import xlsxwriter

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "output" / "national"
SAMPLE_GENERATOR = HERE.parent / "data" / "samples" / "generate.py"


def _sample_generator() -> ModuleType:
    """``data/samples/generate.py``, loaded by path: this case uses its tables and helpers."""
    name = "par_index_sample_generator"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SAMPLE_GENERATOR)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the sample generator {SAMPLE_GENERATOR}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up while it is executed
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


sample_gen = _sample_generator()

SEED = 20250701
YEAR = 2025

N_XA, N_PHUONG, N_DAC_KHU = 2621, 687, 13  # 3,321 communes: the national counts from 1 July 2025
N_RESPONDENTS = 500_000
N_QUESTIONS = 40
MIN_RESPONDENTS = 30  # every unit gets at least this many
DK_RATE, BLANK_RATE = 0.03, 0.02
CUTS = sample_gen.CUTS  # latent → Likert 1..5

FILES = (
    "registry.csv",
    "survey_citizens.csv",
    "survey_citizens.xlsx",
    "processing.csv",
    "appraisal.xlsx",
)

# the sample's departments; its S18 manages one province's tourist area, here a generic one
DEPARTMENTS = [(i, n.removesuffix(" Mộc Châu")) for i, n in sample_gen.DEPARTMENTS]
DAC_KHU = [
    "Vân Đồn",
    "Cô Tô",
    "Cát Hải",
    "Bạch Long Vĩ",
    "Phú Quốc",
    "Thổ Châu",
    "Kiên Hải",
    "Côn Đảo",
    "Lý Sơn",
    "Phú Quý",
    "Trường Sa",
    "Hoàng Sa",
    "Cồn Cỏ",
]
SYLLABLES = """
An Bắc Bình Cẩm Chiềng Đông Đức Gia Hà Hải Hòa Hồng Hưng Kim Lạc Lam Long Minh Mường
Nam Nghĩa Ngọc Phú Phúc Quang Sơn Tân Thạch Thanh Thành Thuận Tiến Trung Trường Vân
Việt Vĩnh Xuân Yên Bảo Cao Định Giang Hiệp Khánh Lộc Lương Mỹ Nhân Phong Quế Tam Thái
Thịnh Thủy Tiên Trà Tường Vinh Hợp Lợi
""".split()  # noqa: SIM905 (syllables for synthetic names)

# the sample's columns, month weights and helpers
APPRAISAL_COLUMNS = sample_gen.APPRAISAL_COLUMNS
POINT_ITEMS = sample_gen.POINT_ITEMS
PROCESSING_COLUMNS = sample_gen.PROCESSING_COLUMNS
SEASON = sample_gen.SEASON
CREATED = sample_gen.CREATED
nfc = sample_gen.nfc
sigmoid = sample_gen.sigmoid
to_csv = sample_gen.to_csv


def rng_for(part: str) -> np.random.Generator:
    """An independent stream per file, so changing one file does not reshuffle the others."""
    return np.random.default_rng([SEED, zlib.crc32(part.encode("utf-8"))])


def seen(rng: np.random.Generator, quality: np.ndarray, rho: float = 0.8) -> np.ndarray:
    """The latent quality as one data source sees it (correlation ``rho``)."""
    noise = rng.normal(size=quality.shape)
    return np.asarray(rho * quality + np.sqrt(1 - rho**2) * noise, dtype="float64")


# ----------------------------------------------------------------------------- units


def units_frame() -> pd.DataFrame:
    """Registry plus two hidden columns (quality, population) used by the other files."""
    rng = rng_for("units")
    n_communes = N_XA + N_PHUONG + N_DAC_KHU
    groups = np.array(["Xã"] * N_XA + ["Phường"] * N_PHUONG + ["Đặc khu"] * N_DAC_KHU, dtype=object)
    groups = groups[rng.permutation(n_communes)]
    syl = np.array(SYLLABLES, dtype=object)
    first = syl[rng.integers(len(syl), size=n_communes)]
    second = syl[rng.integers(len(syl), size=n_communes)]
    names = groups + " " + first + " " + second
    khu = np.flatnonzero(groups == "Đặc khu")
    names[khu] = ["Đặc khu " + n for n in DAC_KHU]
    codes = np.arange(n_communes) * 9 + 4  # GSO-like 5-digit codes: 00004, 00013, …, 29884
    commune_ids = np.array([f"{c:05d}" for c in codes], dtype=object)
    population = np.where(
        groups == "Phường",
        rng.lognormal(np.log(30000), 0.5, n_communes),
        rng.lognormal(np.log(15000), 0.6, n_communes),
    )
    population = np.where(
        groups == "Đặc khu", rng.uniform(500, 40000, n_communes), population
    ).round()
    dept = pd.DataFrame(
        {
            "unit_id": [d[0] for d in DEPARTMENTS],
            "unit_name": [nfc(d[1]) for d in DEPARTMENTS],
            "level": "department",
            "group": ["Sở" if d[1].startswith("Sở ") else "Cơ quan khác" for d in DEPARTMENTS],
            "valid_from": "2020-01-01",
            "valid_to": "",
            "population": 0.0,
        }
    )
    comm = pd.DataFrame(
        {
            "unit_id": commune_ids,
            "unit_name": [nfc(n) for n in names],
            "level": "commune",
            "group": groups,
            "valid_from": "2025-07-01",
            "valid_to": "",
            "population": population,
        }
    )
    units = pd.concat([dept, comm], ignore_index=True)
    units["quality"] = rng.normal(size=len(units))
    return units


# ----------------------------------------------------------------------------- survey


def survey_arrays(units: pd.DataFrame, n: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unit position of each respondent, weights, n × k answers: 1..5, 9, 0 = blank)."""
    rng = rng_for("survey")
    u = len(units)
    if n < u:
        raise SystemExit(f"--respondents must be at least the number of units ({u:,})")
    floor = min(MIN_RESPONDENTS, n // u)
    # departments get about 2.5× a commune's sample; sizes vary (lognormal), total exactly n
    size_weight = rng.lognormal(0.0, 0.35, u) * np.where(units["level"] == "department", 2.5, 1)
    sizes = floor + rng.multinomial(n - floor * u, size_weight / size_weight.sum())
    unit_pos = np.repeat(np.arange(u), sizes)
    weights = np.clip(rng.lognormal(-0.08, 0.4, n), 0.3, 3.0)
    weights = np.clip(np.round(weights / weights.mean(), 4), 0.3, 3.0)
    quality = seen(rng, units["quality"].to_numpy())
    offsets = rng.normal(0, 0.2, k)
    answers = np.empty((n, k), dtype=np.int8)
    step = 50_000  # in chunks: 50k × 40 float64 temporaries instead of 500k × 40
    for start in range(0, n, step):
        stop = min(n, start + step)
        m = stop - start
        latent = (
            0.55
            + 0.55 * quality[unit_pos[start:stop], None]
            + rng.normal(0, 0.55, (m, 1))
            + offsets[None, :]
            + rng.normal(0, 0.8, (m, k))
        )
        a = (1 + np.searchsorted(CUTS, latent)).astype(np.int8)
        draw = rng.random((m, k))
        a[draw < DK_RATE] = 9
        a[(draw >= DK_RATE) & (draw < DK_RATE + BLANK_RATE)] = 0
        answers[start:stop] = a
    return unit_pos, weights, answers


def survey_frame(
    units: pd.DataFrame, unit_pos: np.ndarray, weights: np.ndarray, answers: np.ndarray
) -> pd.DataFrame:
    n, k = answers.shape
    text = np.array(["", "1", "2", "3", "4", "5", "", "", "", "9"], dtype=object)
    frame = pd.DataFrame(
        {
            "respondent_id": [f"{YEAR}-{i:06d}" for i in range(1, n + 1)],
            "unit_id": units["unit_id"].to_numpy(dtype=object)[unit_pos],
            "weight": [f"{w:.4f}" for w in weights],
        }
    )
    for j in range(k):
        frame[f"q{j + 1:02d}"] = text[answers[:, j]]
    return frame


def write_survey_xlsx(
    path: Path, frame: pd.DataFrame, weights: np.ndarray, answers: np.ndarray
) -> None:
    """One sheet, header on row 1, in constant_memory mode (rows are streamed to disk)."""
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "use_zip64": True,
        },
    )
    wb.set_properties(
        {
            "title": f"Khảo sát SIPAS {YEAR} (dữ liệu giả lập)",
            "author": "par-index national benchmark",
            "created": CREATED,
        }
    )
    ws = wb.add_worksheet("survey_citizens")
    columns = list(frame.columns)
    for j, name in enumerate(columns):
        ws.write_string(0, j, name)
    respondent = frame["respondent_id"].tolist()
    unit = frame["unit_id"].tolist()
    weight = weights.tolist()
    write_string, write_number = ws.write_string, ws.write_number
    first_q = 3
    k = answers.shape[1]
    step = 20_000
    for start in range(0, len(frame), step):
        block = answers[start : start + step].tolist()
        for offset, row in enumerate(block):
            i = start + offset
            r = i + 1
            write_string(r, 0, respondent[i])
            write_string(r, 1, unit[i])
            write_number(r, 2, weight[i])
            for j in range(k):
                v = row[j]
                if v:
                    write_number(r, first_q + j, v)
    wb.close()


# ----------------------------------------------------------------------------- processing


def processing_frame(units: pd.DataFrame) -> pd.DataFrame:
    """One row per unit × month 1–12; ``carried_over`` is last month's ``pending``."""
    rng = rng_for("processing")
    u = len(units)
    dept = (units["level"] == "department").to_numpy()
    q = seen(rng, units["quality"].to_numpy())
    base = np.where(
        dept,
        np.exp(rng.uniform(np.log(280), np.log(2300), u)),
        40 + units["population"].to_numpy() / 130,
    )
    lo = np.where(dept, 200, 20)
    hi = np.where(dept, 3000, 600)
    level_online = np.where(dept, 0.6, -0.5)
    fee_share = rng.uniform(0.25, 0.6, u)
    pending_prev = None
    months = []
    for m in range(1, 13):
        received = np.clip(rng.poisson(base * SEASON[m - 1]), lo, hi)
        carried = (
            rng.integers(0, np.maximum(2, np.round(0.06 * received)) + 1)
            if pending_prev is None
            else pending_prev
        )
        available = received + carried
        p_pending = np.clip(0.07 - 0.025 * q + rng.normal(0, 0.015, u), 0.005, 0.2)
        pending = rng.binomial(available, p_pending)
        processed = available - pending
        p_none = rng.uniform(0.005, 0.04, u)
        p_ontime = 0.85 + 0.15 * sigmoid(1.6 + 1.3 * q + rng.normal(0, 0.35, u))
        p_early = sigmoid(-0.6 + 0.6 * q + rng.normal(0, 0.2, u))
        classified = rng.binomial(processed, 1 - p_none)
        timely = rng.binomial(classified, p_ontime)
        early = rng.binomial(timely, p_early)
        on_time = timely - early
        late = classified - timely
        online = rng.binomial(
            received, 0.2 + 0.7 * sigmoid(level_online + 0.6 + 0.9 * q + rng.normal(0, 0.15, u))
        )
        fee_files = rng.binomial(received, fee_share)
        paid_online = rng.binomial(
            fee_files, 0.05 + 0.9 * sigmoid(0.2 + 0.9 * q + rng.normal(0, 0.15, u))
        )
        digitised = rng.binomial(
            processed, 0.3 + 0.7 * sigmoid(1.0 + 0.9 * q + rng.normal(0, 0.15, u))
        )
        months.append(
            np.column_stack(
                [
                    np.full(u, m),
                    received,
                    carried,
                    processed,
                    early,
                    on_time,
                    late,
                    pending,
                    online,
                    fee_files,
                    paid_online,
                    digitised,
                ]
            )
        )
        pending_prev = pending
    block = np.stack(months, axis=1).reshape(u * 12, -1).astype(np.int64)  # unit-major
    frame = pd.DataFrame(block, columns=PROCESSING_COLUMNS[1:])
    frame.insert(0, "unit_id", np.repeat(units["unit_id"].to_numpy(dtype=object), 12))
    return frame


# ----------------------------------------------------------------------------- appraisal


def appraisal_frame(units: pd.DataFrame) -> pd.DataFrame:
    rng = rng_for("appraisal")
    u = len(units)
    q = seen(rng, units["quality"].to_numpy())
    dept = (units["level"] == "department").to_numpy()
    ward = (units["group"] == "Phường").to_numpy()
    out: dict[str, object] = {"unit_id": units["unit_id"], "unit_name": units["unit_name"]}
    for col, mx in POINT_ITEMS:
        self_pts = np.minimum(
            mx, np.round(mx * sigmoid(2.4 + 0.8 * q + rng.normal(0, 0.7, u)) * 4) / 4
        )
        raised = (self_pts < mx) & (rng.random(u) < 0.07)
        cut = rng.poisson(0.45 * np.exp(-0.6 * q) * mx / 4)
        appraised = np.where(raised, self_pts + 0.25, np.maximum(0.0, self_pts - 0.25 * cut))
        if col == "sap_xep":  # departments only
            self_pts = np.where(dept, self_pts, np.nan)
            appraised = np.where(dept, appraised, np.nan)
        out[f"{col}_self"] = self_pts
        out[col] = appraised
    completion = 95 + 7 * q + rng.normal(0, 6, u)
    completion -= np.where(rng.random(u) < 0.06, rng.uniform(10, 35, u), 0)
    yes_no = np.array(["Không", "Có"], dtype=object)
    out["ty_le_hoan_thanh_ke_hoach"] = np.round(np.clip(completion, 55, 100), 1)
    out["bao_cao_dung_han"] = yes_no[(rng.random(u) < sigmoid(2.6 + q)).astype(int)]
    out["so_vi_pham"] = np.minimum(3, rng.poisson(0.25 * np.exp(-0.7 * q))).astype(float)
    out["ty_le_giai_ngan"] = np.round(
        np.clip(0.83 + 0.07 * q + rng.normal(0, 0.08, u), 0.40, 1.00), 3
    )
    out["tu_chu"] = yes_no[(rng.random(u) < sigmoid(1.6 + 0.6 * q)).astype(int)]
    out["ung_dung_so"] = rng.binomial(6, sigmoid(0.6 + 0.7 * q)).astype(float)
    out["an_toan_thong_tin"] = yes_no[(rng.random(u) < sigmoid(1.8 + 0.8 * q)).astype(int)]
    smart = yes_no[(rng.random(u) < sigmoid(0.2 + q)).astype(int)]
    out["do_thi_thong_minh"] = np.where(ward, smart, None)
    return pd.DataFrame(out)[APPRAISAL_COLUMNS]


def write_appraisal(path: Path, frame: pd.DataFrame) -> None:
    wb, ws = sample_gen.appraisal_workbook(
        path, YEAR, "dữ liệu giả lập", "par-index national benchmark"
    )
    formats = {
        "ty_le_hoan_thanh_ke_hoach": wb.add_format({"num_format": "0.0"}),
        "ty_le_giai_ngan": wb.add_format({"num_format": "0.000"}),
        "so_vi_pham": wb.add_format({"num_format": "0"}),
        "ung_dung_so": wb.add_format({"num_format": "0"}),
    }
    points = wb.add_format({"num_format": "0.00"})
    for j, col in enumerate(APPRAISAL_COLUMNS):
        fmt = formats.get(col, points)
        for i, v in enumerate(frame[col].tolist(), start=3):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                continue
            if isinstance(v, str):
                ws.write_string(i, j, v)
            else:
                ws.write_number(i, j, float(v), fmt)
    wb.close()


# ----------------------------------------------------------------------------- main


def atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def params(respondents: int, questions: int) -> dict[str, object]:
    return {
        "seed": SEED,
        "departments": len(DEPARTMENTS),
        "xa": N_XA,
        "phuong": N_PHUONG,
        "dac_khu": N_DAC_KHU,
        "respondents": respondents,
        "questions": questions,
        "dont_know_rate": DK_RATE,
        "blank_rate": BLANK_RATE,
        "generator_version": 1,
    }


def is_complete(out: Path, wanted: dict[str, object]) -> bool:
    manifest = out / "manifest.json"
    if not manifest.exists() or not all((out / f).exists() for f in FILES):
        return False
    try:
        return bool(json.loads(manifest.read_text(encoding="utf-8")).get("params") == wanted)
    except ValueError:
        return False


def generate(
    out: Path,
    respondents: int = N_RESPONDENTS,
    questions: int = N_QUESTIONS,
    regenerate: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Path]:
    """Write the case into ``out`` unless it is there already; returns the input paths."""
    wanted = params(respondents, questions)
    paths = {
        "registry": out / "registry.csv",
        "survey_csv": out / "survey_citizens.csv",
        "survey_xlsx": out / "survey_citizens.xlsx",
        "processing": out / "processing.csv",
        "appraisal": out / "appraisal.xlsx",
    }
    if not regenerate and is_complete(out, wanted):
        log(f"{out}: already generated (--regenerate to rebuild)")
        return paths
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    @contextmanager
    def step(name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        timings[name] = round(time.perf_counter() - start, 2)
        log(f"  {name:<28} {timings[name]:7.1f} s")

    units = units_frame()
    with step("registry.csv"):
        registry = units.drop(columns=["quality", "population"])
        atomic(paths["registry"], lambda p: to_csv(registry, p))
    with step("survey (arrays)"):
        unit_pos, weights, answers = survey_arrays(units, respondents, questions)
    with step("survey (frame)"):
        survey = survey_frame(units, unit_pos, weights, answers)
    with step("survey_citizens.csv"):
        atomic(paths["survey_csv"], lambda p: to_csv(survey, p))
    with step("survey_citizens.xlsx"):
        atomic(paths["survey_xlsx"], lambda p: write_survey_xlsx(p, survey, weights, answers))
    with step("processing.csv"):
        processing = processing_frame(units)
        atomic(paths["processing"], lambda p: to_csv(processing, p))
    with step("appraisal.xlsx"):
        appraisal = appraisal_frame(units)
        atomic(paths["appraisal"], lambda p: write_appraisal(p, appraisal))

    counts = units.groupby(["level", "group"], as_index=False).size()
    answered = (answers >= 1) & (answers <= 5)
    manifest = {
        "params": wanted,
        "generated": datetime.now().astimezone().isoformat(timespec="seconds"),
        "seconds": timings,
        "total_seconds": round(time.perf_counter() - t0, 1),
        "units": {
            f"{lv}/{g}": int(c)
            for lv, g, c in zip(counts["level"], counts["group"], counts["size"], strict=True)
        },
        "respondents": len(answers),
        "answers": {
            "dont_know": float(np.mean(answers == 9)),
            "blank": float(np.mean(answers == 0)),
            "4_or_5_of_valid": float((answered & (answers >= 4)).sum() / answered.sum()),
        },
        "processing_rows": len(processing),
        "files": {f: (out / f).stat().st_size for f in FILES},
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    log(f"  {'total':<28} {manifest['total_seconds']:7.1f} s")
    return paths


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"output folder (default: {DEFAULT_OUT.relative_to(HERE.parent)})",
    )
    ap.add_argument(
        "--regenerate", action="store_true", help="rebuild the files even if they exist"
    )
    ap.add_argument("--respondents", type=int, default=N_RESPONDENTS)
    ap.add_argument("--questions", type=int, default=N_QUESTIONS)
    args = ap.parse_args(argv)
    if args.questions < 10:
        sys.exit("--questions must be at least 10 (par-2025 reads q01..q10)")
    generate(args.out, args.respondents, args.questions, args.regenerate)
    for f in FILES:
        path = args.out / f
        print(f"{path.stat().st_size:>14,d}  {path}")


if __name__ == "__main__":
    main()
