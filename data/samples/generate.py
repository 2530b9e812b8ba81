#!/usr/bin/env python3
"""Generate the synthetic sample data shipped with par-index.

The data describe a fictional mountain province modelled on Sơn La for the
scoring years 2024 and 2025 (the two-level local government reform of
1 July 2025: districts abolished, communes merged, two departments merged
into others).  Everything is synthetic: names are real-sounding, numbers are
drawn from a seeded random generator.

Each administrative unit has a latent "quality" (standard normal).  A unit's
citizen and business survey answers, its processing performance and its
appraisal points all depend on that quality, so that indicators correlate and
scores spread realistically.  A 2025 commune's quality is the
population-weighted mean of its predecessor communes' quality plus noise.

The output is byte-for-byte reproducible::

    python data/samples/generate.py            # writes next to this file
    python data/samples/generate.py --out DIR  # writes somewhere else

Only numpy, pandas and xlsxwriter are needed.
"""

from __future__ import annotations

import argparse
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

SEED = 20251231
YEARS = (2024, 2025)
HERE = Path(__file__).resolve().parent


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def rng_for(*parts: object) -> np.random.Generator:
    """An independent, stable random stream per component.

    Streams are keyed by name so that changing one part of the generator does
    not reshuffle every other file.
    """
    key = "/".join(str(p) for p in parts).encode("utf-8")
    return np.random.default_rng([SEED, zlib.crc32(key)])


DOMAIN_RHO = 0.8  # correlation of a domain-specific quality with the unit's latent quality


def domain_quality(rng: np.random.Generator, q: float) -> float:
    """The unit's quality as seen by one data source (survey, portal, appraisal).

    Sources agree only partly, as in real indices, so sub-indices correlate
    (about 0.6) without being copies of each other.
    """
    return float(DOMAIN_RHO * q + np.sqrt(1 - DOMAIN_RHO**2) * rng.normal())


def sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------
# Administrative units
# --------------------------------------------------------------------------

DEPARTMENTS: list[tuple[str, str]] = [
    ("S01", "Sở Nội vụ"),
    ("S02", "Sở Tài chính"),
    ("S03", "Sở Tư pháp"),
    ("S04", "Sở Xây dựng"),
    ("S05", "Sở Y tế"),
    ("S06", "Sở Giáo dục và Đào tạo"),
    ("S07", "Sở Nông nghiệp và Môi trường"),
    ("S08", "Sở Công Thương"),
    ("S09", "Sở Khoa học và Công nghệ"),
    ("S10", "Sở Văn hóa, Thể thao và Du lịch"),
    ("S11", "Sở Dân tộc và Tôn giáo"),
    ("S12", "Sở Ngoại vụ"),
    ("S13", "Thanh tra tỉnh"),
    ("S14", "Văn phòng UBND tỉnh"),
    ("S15", "Ban Quản lý các khu công nghiệp"),
    ("S16", "Văn phòng Đoàn ĐBQH và HĐND tỉnh"),
    ("S17", "Ban Quản lý dự án đầu tư xây dựng tỉnh"),
    ("S18", "Ban Quản lý Khu du lịch quốc gia Mộc Châu"),
    ("S19", "Công an tỉnh"),
    ("S20", "Đài Phát thanh và Truyền hình tỉnh"),
]
# 2024-only departments, merged on 1 March 2025 into the second id.
MERGED_DEPARTMENTS: list[tuple[str, str, str]] = [
    ("S21", "Sở Kế hoạch và Đầu tư", "S02"),
    ("S22", "Sở Thông tin và Truyền thông", "S09"),
]
NO_CITIZENS_2025 = "S15"  # serves firms only: no citizen respondents in 2025

# (id, name, 2024 communes, 2025 successors: number of wards, number of communes,
#  names of the new wards).  Urban units (phường, thị trấn) are listed first.
DISTRICTS: list[tuple[str, str, list[str], int, int, list[str]]] = [
    ("H01", "Thành phố Sơn La", [
        "Phường Chiềng Lề", "Phường Tô Hiệu", "Phường Quyết Thắng", "Phường Quyết Tâm",
        "Phường Chiềng Cơi", "Phường Chiềng Sinh", "Phường Chiềng An", "Xã Chiềng Cọ",
        "Xã Chiềng Đen", "Xã Chiềng Xôm", "Xã Chiềng Ngần", "Xã Hua La",
    ], 4, 1, ["Phường Tô Hiệu", "Phường Chiềng An", "Phường Chiềng Cơi", "Phường Chiềng Sinh"]),
    ("H02", "Huyện Quỳnh Nhai", [
        "Xã Mường Giàng", "Xã Mường Chiên", "Xã Cà Nàng", "Xã Chiềng Khay", "Xã Mường Giôn",
        "Xã Pá Ma Pha Khinh", "Xã Chiềng Ơn", "Xã Chiềng Bằng", "Xã Mường Sại", "Xã Nậm Ét",
        "Xã Chiềng Khoang",
    ], 0, 4, []),
    ("H03", "Huyện Thuận Châu", [
        "Thị trấn Thuận Châu", "Xã Phổng Lái", "Xã Mường É", "Xã Chiềng Pha", "Xã Chiềng La",
        "Xã Chiềng Ngàm", "Xã Liệp Tè", "Xã É Tòng", "Xã Phổng Lập", "Xã Phổng Lăng",
        "Xã Chiềng Ly", "Xã Noong Lay", "Xã Mường Khiêng", "Xã Mường Bám", "Xã Long Hẹ",
        "Xã Chiềng Bôm", "Xã Thôm Mòn", "Xã Tông Lạnh", "Xã Tông Cọ", "Xã Bó Mười",
        "Xã Co Mạ", "Xã Púng Tra", "Xã Chiềng Pấc", "Xã Nậm Lầu", "Xã Bon Phặng",
        "Xã Co Tòng", "Xã Muổi Nọi",
    ], 0, 10, []),
    ("H04", "Huyện Mường La", [
        "Thị trấn Ít Ong", "Xã Nậm Giôn", "Xã Chiềng Lao", "Xã Hua Trai", "Xã Ngọc Chiến",
        "Xã Mường Trai", "Xã Nậm Păm", "Xã Chiềng Muôn", "Xã Chiềng Ân", "Xã Pi Toong",
        "Xã Chiềng Công", "Xã Tạ Bú", "Xã Chiềng San", "Xã Mường Bú", "Xã Chiềng Hoa",
        "Xã Mường Chùm",
    ], 0, 6, []),
    ("H05", "Huyện Bắc Yên", [
        "Thị trấn Bắc Yên", "Xã Chiềng Sại", "Xã Háng Đồng", "Xã Phiêng Ban", "Xã Hua Nhàn",
        "Xã Hồng Ngài", "Xã Song Pe", "Xã Xím Vàng", "Xã Làng Chếu", "Xã Hang Chú",
        "Xã Tạ Khoa", "Xã Chim Vàn", "Xã Pắc Ngà", "Xã Mường Khoa", "Xã Phiêng Côn",
        "Xã Tà Xùa",
    ], 0, 6, []),
    ("H06", "Huyện Phù Yên", [
        "Thị trấn Phù Yên", "Xã Suối Tọ", "Xã Mường Thải", "Xã Mường Cơi", "Xã Quang Huy",
        "Xã Huy Bắc", "Xã Huy Thượng", "Xã Tân Lang", "Xã Gia Phù", "Xã Tường Phù",
        "Xã Huy Hạ", "Xã Huy Tân", "Xã Mường Lang", "Xã Suối Bau", "Xã Huy Tường",
        "Xã Mường Do", "Xã Sập Xa", "Xã Tường Thượng", "Xã Tường Tiến", "Xã Tường Phong",
        "Xã Tường Hạ", "Xã Kim Bon", "Xã Mường Bang", "Xã Đá Đỏ", "Xã Tân Phong",
    ], 0, 9, []),
    ("H07", "Huyện Mộc Châu", [
        "Thị trấn Mộc Châu", "Thị trấn Nông trường Mộc Châu", "Xã Chiềng Sơn", "Xã Tân Hợp",
        "Xã Qui Hướng", "Xã Tân Lập", "Xã Nà Mường", "Xã Tà Lại", "Xã Chiềng Hắc",
        "Xã Hua Păng", "Xã Chiềng Khừa", "Xã Mường Sang", "Xã Đông Sang", "Xã Phiêng Luông",
        "Xã Lóng Sập",
    ], 4, 2, ["Phường Mộc Châu", "Phường Mộc Sơn", "Phường Vân Sơn", "Phường Thảo Nguyên"]),
    ("H08", "Huyện Yên Châu", [
        "Thị trấn Yên Châu", "Xã Chiềng Đông", "Xã Sập Vạt", "Xã Chiềng Sàng", "Xã Chiềng Pằn",
        "Xã Viêng Lán", "Xã Chiềng Hặc", "Xã Mường Lựm", "Xã Chiềng On", "Xã Yên Sơn",
        "Xã Chiềng Khoi", "Xã Tú Nang", "Xã Lóng Phiêng", "Xã Phiêng Khoài", "Xã Chiềng Tương",
    ], 0, 6, []),
    ("H09", "Huyện Mai Sơn", [
        "Thị trấn Hát Lót", "Xã Chiềng Sung", "Xã Mường Bằng", "Xã Chiềng Chăn",
        "Xã Mường Chanh", "Xã Chiềng Ban", "Xã Chiềng Mung", "Xã Mường Bon", "Xã Chiềng Chung",
        "Xã Chiềng Mai", "Xã Hát Lót", "Xã Nà Pó", "Xã Cò Nòi", "Xã Chiềng Nơi",
        "Xã Phiêng Cằm", "Xã Chiềng Dong", "Xã Chiềng Kheo", "Xã Chiềng Ve", "Xã Chiềng Lương",
        "Xã Phiêng Pằn", "Xã Nà Ớt", "Xã Tà Hộc",
    ], 0, 8, []),
    ("H10", "Huyện Sông Mã", [
        "Thị trấn Sông Mã", "Xã Bó Sinh", "Xã Pú Pẩu", "Xã Chiềng Phung", "Xã Chiềng En",
        "Xã Mường Lầm", "Xã Nậm Ty", "Xã Đứa Mòn", "Xã Yên Hưng", "Xã Chiềng Sơ",
        "Xã Nà Nghịu", "Xã Nậm Mằn", "Xã Chiềng Khoong", "Xã Chiềng Cang", "Xã Huổi Một",
        "Xã Mường Sai", "Xã Mường Cai", "Xã Mường Hung", "Xã Chiềng Khương",
    ], 0, 7, []),
    ("H11", "Huyện Sốp Cộp", [
        "Xã Sốp Cộp", "Xã Dồm Cang", "Xã Nậm Lạnh", "Xã Mường Lèo", "Xã Mường Và",
        "Xã Mường Lạn", "Xã Púng Bánh", "Xã Sam Kha",
    ], 0, 3, []),
    ("H12", "Huyện Vân Hồ", [
        "Xã Vân Hồ", "Xã Chiềng Khoa", "Xã Mường Men", "Xã Mường Tè", "Xã Quang Minh",
        "Xã Liên Hòa", "Xã Lóng Luông", "Xã Chiềng Yên", "Xã Xuân Nha", "Xã Tân Xuân",
        "Xã Song Khủa", "Xã Tô Múa", "Xã Suối Bàng", "Xã Chiềng Xuân",
    ], 0, 5, []),
]

VALID_FROM_OLD = "2020-01-01"  # synthetic start date of every unit existing before 2025
VALID_TO_OLD = "2025-06-30"  # last day of districts and old communes
VALID_FROM_NEW = "2025-07-01"  # two-level local government
VALID_TO_MERGED_DEPT = "2025-02-28"  # S21, S22 merged on 1 March 2025
FIRST_2024_CODE = 3646
FIRST_2025_CODE = 14001
CODE_STEP = 3  # GSO-style commune codes advance in steps of 3


def base_name(name: str) -> str:
    for prefix in ("Thị trấn ", "Phường ", "Xã ", "Thành phố ", "Huyện "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


@dataclass
class Unit:
    unit_id: str
    unit_name: str
    level: str
    group: str
    valid_from: str
    valid_to: str = ""
    quality: float = 0.0
    population: int = 0  # communes only
    district: str = ""  # 2024 communes: district id; 2025 communes: former district id
    predecessors: list[str] = field(default_factory=list)

    @property
    def is_ward(self) -> bool:
        return self.unit_name.startswith("Phường ")


@dataclass
class Year:
    year: int
    units: list[Unit]

    def by_id(self) -> dict[str, Unit]:
        return {u.unit_id: u for u in self.units}


def partition_sizes(rng: np.random.Generator, n: int, k: int) -> list[int]:
    """Split n old communes into k new ones, 1-5 each, mostly 2-4."""
    sizes = np.full(k, 2 if n >= 2 * k else 1, dtype=int)
    for _ in range(n - int(sizes.sum())):
        cand = np.flatnonzero(sizes < 4)
        if cand.size == 0:
            cand = np.flatnonzero(sizes < 5)
        sizes[rng.choice(cand)] += 1
    return [int(s) for s in sizes]


def add_edge_cases(sizes: list[int]) -> None:
    """Leave one commune unmerged and merge five into one (in place, same total)."""
    single = sizes.index(min(sizes))
    big = max((i for i in range(len(sizes)) if i != single), key=lambda i: sizes[i])
    sizes[single] -= 1
    sizes[big] += 1
    while sizes[big] < 5:
        donor = max((i for i in range(len(sizes)) if i not in (single, big)),
                    key=lambda i: sizes[i])
        sizes[donor] -= 1
        sizes[big] += 1


def build_units() -> tuple[Year, Year, list[tuple[str, str, int]]]:
    """Registry of both years, and the commune part of the crosswalk."""
    rng = rng_for("units")

    # ---- 2024 ---------------------------------------------------------
    depts24 = [
        Unit(i, nfc(n), "department", "Sở" if n.startswith("Sở ") else "Cơ quan khác",
             VALID_FROM_OLD, quality=float(rng.normal()))
        for i, n in DEPARTMENTS
    ]
    depts24 += [
        Unit(i, nfc(n), "department", "Sở", VALID_FROM_OLD, VALID_TO_MERGED_DEPT,
             quality=float(rng.normal()))
        for i, n, _ in MERGED_DEPARTMENTS
    ]

    districts24: list[Unit] = []
    communes24: list[Unit] = []
    code = FIRST_2024_CODE
    for did, dname, cnames, *_ in DISTRICTS:
        dq = float(rng.normal())
        group = "Thành phố" if dname.startswith("Thành phố") else "Huyện"
        districts24.append(Unit(did, nfc(dname), "district", group, VALID_FROM_OLD,
                                VALID_TO_OLD, quality=dq))
        for cname in cnames:
            urban = not cname.startswith("Xã ")
            if urban:
                pop = int(rng.integers(9000, 30001))
            else:
                pop = int(np.clip(round(np.exp(rng.normal(np.log(6500), 0.5))), 2000, 30000))
            communes24.append(Unit(
                f"{code:05d}", nfc(cname), "commune", nfc(dname), VALID_FROM_OLD, VALID_TO_OLD,
                quality=float(0.6 * dq + 0.8 * rng.normal()), population=pop, district=did,
            ))
            code += CODE_STEP
    assert len(depts24) == 22 and len(districts24) == 12 and len(communes24) == 200

    # ---- 2025 communes: merge within each former district -----------------
    by_district: dict[str, list[Unit]] = {}
    for c in communes24:
        by_district.setdefault(c.district, []).append(c)
    plans: list[tuple[str, list[Unit], list[int], int, list[str]]] = []
    for did, _dname, _c, n_wards, n_xa, ward_names in DISTRICTS:
        old = by_district[did]
        urban = [c for c in old if not c.unit_name.startswith("Xã ")]
        rural = [c for c in old if c.unit_name.startswith("Xã ")]
        rural = [rural[i] for i in rng.permutation(len(rural))]
        sizes = partition_sizes(rng, len(old), n_wards + n_xa)
        plans.append((did, urban + rural, sizes, n_wards, ward_names))
    # make sure the edge cases exist: one commune left alone, one merger of five
    add_edge_cases(next(p[2] for p in plans if p[0] == "H06"))

    communes25: list[Unit] = []
    crosswalk: list[tuple[str, str, int]] = []
    used_names: set[str] = set()
    code = FIRST_2025_CODE
    for did, old, sizes, n_wards, ward_names in plans:
        dname = next(d[1] for d in DISTRICTS if d[0] == did)
        start = 0
        for j, size in enumerate(sizes):
            preds = old[start:start + size]
            start += size
            if j < n_wards:
                name, group = ward_names[j], "Phường"
            else:
                group = "Xã"
                has_town = any(p.unit_name.startswith("Thị trấn") for p in preds)
                candidates = (
                    [f"Xã {base_name(dname)}"] if has_town else []
                ) + [f"Xã {base_name(p.unit_name)}"
                     for p in sorted(preds, key=lambda p: (-p.population, p.unit_id))]
                name = next(c for c in candidates if c not in used_names)
            used_names.add(name)
            pops = np.array([p.population for p in preds], dtype=float)
            qs = np.array([p.quality for p in preds])
            q = float(np.average(qs, weights=pops) + rng.normal(0, 0.5))
            uid = f"{code:05d}"
            code += CODE_STEP
            communes25.append(Unit(
                uid, nfc(name), "commune", group, VALID_FROM_NEW, quality=q,
                population=int(pops.sum()), district=did,
                predecessors=[p.unit_id for p in preds],
            ))
            crosswalk += [(p.unit_id, uid, p.population) for p in preds]
        assert start == len(old)
    assert len(communes25) == 75
    assert sum(c.group == "Phường" for c in communes25) == 8

    # 2025 departments: quality set later (needs 2024 processing volumes)
    depts25 = [Unit(u.unit_id, u.unit_name, u.level, u.group, u.valid_from)
               for u in depts24 if u.unit_id not in {m[0] for m in MERGED_DEPARTMENTS}]
    y24 = Year(2024, depts24 + districts24 + communes24)
    y25 = Year(2025, depts25 + communes25)
    return y24, y25, crosswalk


def registry_frame(y: Year) -> pd.DataFrame:
    return pd.DataFrame(
        [(u.unit_id, u.unit_name, u.level, u.group, u.valid_from, u.valid_to) for u in y.units],
        columns=["unit_id", "unit_name", "level", "group", "valid_from", "valid_to"],
    )


# --------------------------------------------------------------------------
# Surveys
# --------------------------------------------------------------------------

CITIZEN_ITEMS = [f"q{i:02d}" for i in range(1, 12)]
# item difficulty: feedback handling (q09-q10) is the weakest area, as in SIPAS
CITIZEN_OFFSETS = np.array([0.15, 0.05, -0.10, -0.05, 0.20, 0.25, 0.10, 0.05, -0.45, -0.40, 0.0])
# "don't know": rare except for feedback handling (few respondents ever complained)
CITIZEN_DK = np.array([0.01, 0.01, 0.015, 0.015, 0.01, 0.01, 0.015, 0.015, 0.10, 0.10, 0.01])
BUSINESS_ITEMS = [f"b{i:02d}" for i in range(1, 9)]
BUSINESS_OFFSETS = np.array([0.05, -0.25, -0.15, 0.0, 0.10, -0.30, -0.20, 0.0])
BUSINESS_DK = np.array([0.02, 0.02, 0.06, 0.03, 0.04, 0.07, 0.08, 0.01])
BLANK_RATE = 0.02
CUTS = np.array([-2.3, -1.6, -0.75, 0.55])  # latent -> Likert 1..5

# post-stratification cells: sex x age (citizens), firm size (businesses)
CITIZEN_CELLS_POP = np.array([0.17, 0.17, 0.14, 0.17, 0.18, 0.17])
CITIZEN_CELLS_SAMPLE = np.array([0.12, 0.22, 0.16, 0.12, 0.24, 0.14])
FIRM_SIZES = ["siêu nhỏ", "nhỏ", "vừa", "lớn"]
FIRM_POP = np.array([0.68, 0.23, 0.06, 0.03])
FIRM_SAMPLE = np.array([0.52, 0.31, 0.11, 0.06])


def likert(rng: np.random.Generator, quality: float, n: int, offsets: np.ndarray,
           dk: np.ndarray, base: float) -> np.ndarray:
    """n x items answers: 1..5, 9 = don't know, -1 = blank."""
    k = len(offsets)
    unit_shift = base + 0.55 * quality
    person = rng.normal(0, 0.55, (n, 1))
    latent = unit_shift + person + offsets[None, :] + rng.normal(0, 0.8, (n, k))
    ans = 1 + (latent[:, :, None] > CUTS[None, None, :]).sum(axis=2)
    u = rng.random((n, k))
    ans[u < dk[None, :]] = 9
    ans[(u >= dk[None, :]) & (u < dk[None, :] + BLANK_RATE)] = -1
    return ans


def poststrat_weights(rng: np.random.Generator, n: int, pop: np.ndarray,
                      sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell of each respondent and a post-stratification weight (mean 1, 0.3..3)."""
    probs = rng.dirichlet(sample * 40)
    cells = rng.choice(len(pop), size=n, p=probs)
    counts = np.bincount(cells, minlength=len(pop))
    present = counts > 0
    target = np.where(present, pop, 0.0)
    target = target / target.sum()
    w = target[cells] / (counts[cells] / n)
    for _ in range(5):  # trim and renormalise
        w = np.clip(w / w.mean(), 0.3, 3.0)
    w = np.clip(np.round(w, 4), 0.3, 3.0)
    return cells, w


def answers_frame(ids: list[str], unit_ids: list[str], weights: list[np.ndarray],
                  answers: list[np.ndarray], items: list[str],
                  extra: dict[str, list[str]] | None = None) -> pd.DataFrame:
    df = pd.DataFrame({"respondent_id": ids, "unit_id": unit_ids})
    for k, v in (extra or {}).items():
        df[k] = v
    df["weight"] = [f"{x:.4f}" for x in np.concatenate(weights)]
    a = np.concatenate(answers, axis=0)
    for j, item in enumerate(items):
        col = a[:, j].astype("int64")
        df[item] = pd.arrays.IntegerArray(np.where(col < 0, 0, col), col < 0)
    return df


def survey_citizens(y: Year, tiny_unit: str | None) -> pd.DataFrame:
    rng = rng_for("citizens", y.year)
    ids: list[str] = []
    unit_ids: list[str] = []
    weights: list[np.ndarray] = []
    answers: list[np.ndarray] = []
    for u in y.units:
        if y.year == 2025 and u.unit_id == NO_CITIZENS_2025:
            continue
        if u.unit_id == tiny_unit:
            n = 12
        elif u.level == "department":
            n = int(rng.integers(80, 251))
        elif u.level == "district":
            n = int(rng.integers(150, 301))
        elif y.year == 2025:
            n = int(rng.integers(150, 451))
        else:
            n = int(rng.integers(60, 201))
        _, w = poststrat_weights(rng, n, CITIZEN_CELLS_POP, CITIZEN_CELLS_SAMPLE)
        q = domain_quality(rng, u.quality)
        a = likert(rng, q, n, CITIZEN_OFFSETS, CITIZEN_DK, base=0.55)
        start = len(ids) + 1
        ids += [f"{y.year}-{i:06d}" for i in range(start, start + n)]
        unit_ids += [u.unit_id] * n
        weights.append(w)
        answers.append(a)
    return answers_frame(ids, unit_ids, weights, answers, CITIZEN_ITEMS)


def survey_businesses(y: Year) -> pd.DataFrame:
    rng = rng_for("businesses", y.year)
    ids: list[str] = []
    unit_ids: list[str] = []
    sizes: list[str] = []
    weights: list[np.ndarray] = []
    answers: list[np.ndarray] = []
    for u in y.units:
        if u.unit_id == NO_CITIZENS_2025:
            n = int(rng.integers(100, 121))
        elif u.level == "department":
            n = int(rng.integers(40, 121))
        else:
            n = int(rng.integers(15, 61))
        cells, w = poststrat_weights(rng, n, FIRM_POP, FIRM_SAMPLE)
        q = domain_quality(rng, u.quality)
        a = likert(rng, q, n, BUSINESS_OFFSETS, BUSINESS_DK, base=0.35)
        start = len(ids) + 1
        ids += [f"{y.year}-DN{i:05d}" for i in range(start, start + n)]
        unit_ids += [u.unit_id] * n
        sizes += [FIRM_SIZES[c] for c in cells]
        weights.append(w)
        answers.append(a)
    return answers_frame(ids, unit_ids, weights, answers, BUSINESS_ITEMS,
                         extra={"firm_size": sizes})


# --------------------------------------------------------------------------
# Processing of administrative files (one row per unit x month)
# --------------------------------------------------------------------------

SEASON = np.array([0.85, 0.70, 1.0, 1.0, 1.05, 1.0, 0.95, 1.05, 1.0, 1.05, 1.10, 1.20])
VOLUME = {"department": (200, 3000), "district": (300, 2000), "commune": (20, 400)}
LEVEL_ONLINE = {"department": 0.6, "district": 0.1, "commune": -0.5}
PROCESSING_COLUMNS = ["unit_id", "month", "received", "carried_over", "processed", "early",
                      "on_time", "late", "pending", "online", "fee_files", "paid_online",
                      "digitised"]


def processing(y: Year) -> pd.DataFrame:
    rng = rng_for("processing", y.year)
    trend = 0.6 if y.year == 2025 else 0.0  # digital transformation keeps improving
    rows: list[list[object]] = []
    for u in y.units:
        lo, hi = VOLUME[u.level]
        if u.level == "department":
            base = np.exp(rng.uniform(np.log(280), np.log(2300)))
        elif u.level == "district":
            base = np.exp(rng.uniform(np.log(380), np.log(1600)))
        elif y.year == 2024:
            base = u.population / 70
        else:  # merged communes also took over most district-level procedures
            base = 40 + u.population / 130
        months = range(7, 13) if (y.year == 2025 and u.level == "commune") else range(1, 13)
        q = domain_quality(rng, u.quality)
        fee_share = rng.uniform(0.25, 0.6)
        pending_prev: int | None = None
        for m in months:
            received = int(np.clip(rng.poisson(base * SEASON[m - 1]), lo, hi))
            carried = (int(rng.integers(0, max(2, round(0.06 * received)) + 1))
                       if pending_prev is None else pending_prev)
            available = received + carried
            p_pending = float(np.clip(0.07 - 0.025 * q + rng.normal(0, 0.015), 0.005, 0.2))
            pending = int(rng.binomial(available, p_pending))
            processed = available - pending
            p_none = rng.uniform(0.005, 0.04)  # withdrawn / returned / not classified
            p_ontime = 0.85 + 0.15 * sigmoid(1.6 + 1.3 * q + rng.normal(0, 0.35))
            p_early = sigmoid(-0.6 + 0.6 * q + rng.normal(0, 0.2))
            probs = np.array([p_ontime * p_early, p_ontime * (1 - p_early), 1 - p_ontime])
            probs = np.append(probs * (1 - p_none), p_none)
            early, on_time, late, _ = (int(x) for x in rng.multinomial(processed, probs))
            p_online = 0.2 + 0.7 * sigmoid(LEVEL_ONLINE[u.level] + trend + 0.9 * q
                                           + rng.normal(0, 0.15))
            online = int(rng.binomial(received, p_online))
            fee_files = int(rng.binomial(received, fee_share))
            p_pay = 0.05 + 0.9 * sigmoid(-0.4 + trend + 0.9 * q + rng.normal(0, 0.15))
            paid_online = int(rng.binomial(fee_files, p_pay))
            p_dig = 0.3 + 0.7 * sigmoid(0.4 + trend + 0.9 * q + rng.normal(0, 0.15))
            digitised = int(rng.binomial(processed, p_dig))
            rows.append([u.unit_id, m, received, carried, processed, early, on_time, late,
                         pending, online, fee_files, paid_online, digitised])
            pending_prev = pending
    return pd.DataFrame(rows, columns=PROCESSING_COLUMNS)


# --------------------------------------------------------------------------
# Decision-766 counters (one row per unit x month, same rows as processing)
# --------------------------------------------------------------------------

SERVICE_766_COLUMNS = [
    "unit_id", "month",
    # copies of processing.csv for the same unit and month (the 766 export repeats them)
    "files_received", "files_processed", "files_late",
    # files (hồ sơ)
    "files_synced", "files_e_result", "files_reused", "files_population_data",
    "files_complained",
    # procedures (thủ tục hành chính); stock counts as at the end of the month
    "procedures_total", "procedures_full_online", "procedures_complete",
    # procedures whose announcement / public posting fell due in the month
    "procedures_to_announce", "procedures_announced_on_time",
    "procedures_to_publish", "procedures_published_on_time",
    # petitions (phản ánh, kiến nghị) whose handling deadline fell in the month
    "petitions", "petitions_on_time", "petitions_late", "petitions_unsatisfied",
]
# (low, high) of the number of procedures a unit handles
PROCEDURES = {"department": (40, 180), "district": (150, 260), "commune": (90, 140)}
# civil-status and residence procedures make communes the heaviest users of population data
LEVEL_POPULATION = {"department": -0.6, "district": 0.0, "commune": 0.5}


def service_766(y: Year, proc: pd.DataFrame) -> pd.DataFrame:
    """Counters for the Decision-766 indicators that processing.csv lacks.

    Reads ``proc`` (this year's processing table) but draws only from its own random
    stream, so adding this file leaves every other file byte-identical.
    """
    rng = rng_for("service766", y.year)
    trend = 0.5 if y.year == 2025 else 0.0
    by_unit = {uid: g for uid, g in proc.groupby("unit_id", sort=False)}
    rows: list[list[object]] = []
    for u in y.units:
        months = by_unit[u.unit_id]
        q = domain_quality(rng, u.quality)
        lo, hi = PROCEDURES[u.level]
        total = int(rng.integers(lo, hi + 1))
        full_share = float(0.25 + 0.6 * sigmoid(-0.3 + trend + 0.9 * q + rng.normal(0, 0.3)))
        growth = float(rng.uniform(0.0, 0.01))
        p_incomplete = float(np.clip(0.03 * np.exp(-0.8 * q), 0.002, 0.15))
        announces = u.level == "department"  # only departments propose announcement decisions
        for _, r in months.iterrows():
            m = int(r["month"])
            received, processed, late = int(r["received"]), int(r["processed"]), int(r["late"])
            p_sync = 0.75 + 0.25 * sigmoid(1.5 + trend + q + rng.normal(0, 0.3))
            synced = int(rng.binomial(received, p_sync))
            p_eres = 0.2 + 0.75 * sigmoid(-0.2 + trend + 0.9 * q + rng.normal(0, 0.2))
            e_result = int(rng.binomial(processed, p_eres))
            p_reuse = 0.05 + 0.7 * sigmoid(-0.8 + trend + 0.9 * q + rng.normal(0, 0.2))
            reused = int(rng.binomial(received, p_reuse))
            p_pop = 0.1 + 0.8 * sigmoid(LEVEL_POPULATION[u.level] + trend + 0.8 * q
                                        + rng.normal(0, 0.2))
            population = int(rng.binomial(received, p_pop))
            p_compl = float(np.clip(0.03 * np.exp(-0.6 * q) + rng.normal(0, 0.005), 0.001, 0.2))
            complained = int(rng.binomial(processed - late, p_compl))
            share = min(1.0, full_share + growth * (m - 1))
            full_online = int(np.floor(total * share))
            complete = total - int(rng.binomial(total, p_incomplete))
            p_on_time_pub = 0.7 + 0.3 * sigmoid(1.2 + q + rng.normal(0, 0.3))
            if announces:
                to_announce: int | None = int(rng.poisson(1.2))
                announced = int(rng.binomial(to_announce, p_on_time_pub))
            else:
                to_announce = announced = None
            to_publish = int(rng.poisson(2.5 if announces else 1.5))
            published = int(rng.binomial(to_publish, p_on_time_pub))
            lam = received / (400 if u.level == "department" else 150)
            petitions = int(rng.poisson(lam))
            p_pet = 0.6 + 0.4 * sigmoid(1.0 + 1.2 * q + rng.normal(0, 0.3))
            pet_on_time = int(rng.binomial(petitions, p_pet))
            p_unsat = 0.05 + 0.25 * sigmoid(-1.0 - q + rng.normal(0, 0.3))
            unsatisfied = int(rng.binomial(pet_on_time, p_unsat))
            rows.append([
                u.unit_id, m, received, processed, late,
                synced, e_result, reused, population, complained,
                total, full_online, complete,
                to_announce, announced, to_publish, published,
                petitions, pet_on_time, petitions - pet_on_time, unsatisfied,
            ])
    df = pd.DataFrame(rows, columns=SERVICE_766_COLUMNS)
    for c in ("procedures_to_announce", "procedures_announced_on_time"):
        df[c] = df[c].astype("Int64")  # empty (not applicable) for districts and communes
    return df


# --------------------------------------------------------------------------
# Appraisal workbook
# --------------------------------------------------------------------------

POINT_ITEMS = [  # (column, maximum)
    ("ke_hoach", 2.0), ("kiem_tra", 3.0), ("van_ban", 4.0), ("kiem_tra_van_ban", 4.0),
    ("sap_xep", 4.0), ("bien_che", 4.0), ("vi_tri_viec_lam", 4.0),
]
APPRAISAL_COLUMNS = [
    "unit_id", "unit_name",
    "ke_hoach_self", "ke_hoach", "ty_le_hoan_thanh_ke_hoach", "bao_cao_dung_han",
    "kiem_tra_self", "kiem_tra", "van_ban_self", "van_ban",
    "kiem_tra_van_ban_self", "kiem_tra_van_ban", "sap_xep_self", "sap_xep",
    "bien_che_self", "bien_che", "vi_tri_viec_lam_self", "vi_tri_viec_lam",
    "so_vi_pham", "ty_le_giai_ngan", "tu_chu", "ung_dung_so", "an_toan_thong_tin",
    "do_thi_thong_minh",
]


def quarter(x: float) -> float:
    return round(x * 4) / 4


def appraisal_rows(y: Year) -> list[dict[str, object]]:
    rng = rng_for("appraisal", y.year)
    trend = 0.4 if y.year == 2025 else 0.0
    rows: list[dict[str, object]] = []
    for u in y.units:
        q = domain_quality(rng, u.quality)
        r: dict[str, object] = {"unit_id": u.unit_id, "unit_name": u.unit_name}
        for col, mx in POINT_ITEMS:
            if col == "sap_xep" and u.level != "department":
                r[f"{col}_self"] = None
                r[col] = None
                continue
            self_pts = min(mx, quarter(mx * sigmoid(2.4 + 0.8 * q + rng.normal(0, 0.7))))
            if self_pts < mx and rng.random() < 0.07:
                appraised = self_pts + 0.25  # appraisal council found extra evidence
            else:
                cut = rng.poisson(0.45 * np.exp(-0.6 * q) * mx / 4)
                appraised = max(0.0, self_pts - 0.25 * cut)
            r[f"{col}_self"] = float(self_pts)
            r[col] = float(appraised)
        completion = 95 + 7 * q + rng.normal(0, 6)
        if rng.random() < 0.06:  # a plan that went badly off track
            completion -= rng.uniform(10, 35)
        r["ty_le_hoan_thanh_ke_hoach"] = float(round(np.clip(completion, 55, 100), 1))
        r["bao_cao_dung_han"] = "Có" if rng.random() < sigmoid(2.6 + q) else "Không"
        r["so_vi_pham"] = int(min(3, rng.poisson(0.25 * np.exp(-0.7 * q))))
        r["ty_le_giai_ngan"] = float(
            round(np.clip(0.83 + 0.07 * q + rng.normal(0, 0.08), 0.40, 1.00), 3))
        r["tu_chu"] = "Có" if rng.random() < sigmoid(1.6 + 0.6 * q) else "Không"
        r["ung_dung_so"] = int(rng.binomial(6, sigmoid(0.2 + trend + 0.7 * q)))
        r["an_toan_thong_tin"] = "Có" if rng.random() < sigmoid(1.8 + 0.8 * q) else "Không"
        r["do_thi_thong_minh"] = (
            ("Có" if rng.random() < sigmoid(-0.2 + trend + q) else "Không")
            if u.is_ward else None)
        rows.append(r)
    return rows


CREATED = datetime(2025, 12, 31)  # the workbooks' "created" property (fixed: reproducible)


def appraisal_workbook(path: Path, year: int, data: str,
                       author: str) -> tuple[xlsxwriter.Workbook, Worksheet]:
    """An appraisal workbook up to its data rows: properties, the sheet ``Thẩm định`` with its
    title on row 1 and header on row 3, column widths and frozen panes.

    The caller writes the units from row 4 (index 3) and closes the workbook.  Shared with
    benchmarks/national.py, which writes the same layout for the national-scale case.
    """
    wb = xlsxwriter.Workbook(str(path), {
        "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
    })
    wb.set_properties({
        "title": f"Thẩm định Chỉ số CCHC năm {year} ({data})",
        "author": author,
        "created": CREATED,
    })
    ws = wb.add_worksheet("Thẩm định")
    title = wb.add_format({"bold": True, "font_size": 13, "align": "center"})
    header = wb.add_format({"bold": True, "text_wrap": True, "valign": "vcenter",
                            "align": "center", "border": 1, "bg_color": "#DDEBF7"})
    ncol = len(APPRAISAL_COLUMNS)
    ws.merge_range(0, 0, 0, ncol - 1,
                   f"BẢNG TỔNG HỢP ĐIỂM TỰ ĐÁNH GIÁ VÀ THẨM ĐỊNH CHỈ SỐ CCHC NĂM {year}",
                   title)
    ws.set_row(2, 45)
    for j, col in enumerate(APPRAISAL_COLUMNS):
        ws.write_string(2, j, col, header)
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 40)
    ws.set_column(2, ncol - 1, 13)
    ws.freeze_panes(3, 2)
    return wb, ws


def write_appraisal(y: Year, path: Path) -> None:
    rows = appraisal_rows(y)
    wb, ws = appraisal_workbook(path, y.year, "dữ liệu tổng hợp giả lập",
                                "par-index sample generator")
    fmt = {
        "points": wb.add_format({"num_format": "0.00"}),
        "pct": wb.add_format({"num_format": "0.0"}),
        "share": wb.add_format({"num_format": "0.000"}),
        "int": wb.add_format({"num_format": "0"}),
    }
    for i, r in enumerate(rows, start=3):
        for j, col in enumerate(APPRAISAL_COLUMNS):
            v = r[col]
            if v is None:
                continue
            if isinstance(v, str):
                ws.write_string(i, j, v)
            elif col == "ty_le_hoan_thanh_ke_hoach":
                ws.write_number(i, j, v, fmt["pct"])
            elif col == "ty_le_giai_ngan":
                ws.write_number(i, j, v, fmt["share"])
            elif isinstance(v, int):
                ws.write_number(i, j, v, fmt["int"])
            else:
                ws.write_number(i, j, v, fmt["points"])
    wb.close()


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def to_csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", na_rep="")


def generate(out: Path) -> list[Path]:
    y24, y25, cw_communes = build_units()

    proc24 = processing(y24)
    processed24 = proc24.groupby("unit_id")["processed"].sum()

    # 2025 departments: quality follows the 2024 one (merged departments pool
    # their predecessors' quality, weighted by 2024 workload)
    rng = rng_for("departments-2025")
    q24 = y24.by_id()
    merged_into = {m[2]: m[0] for m in MERGED_DEPARTMENTS}
    for u in y25.units:
        if u.level != "department":
            continue
        preds = [u.unit_id] + ([merged_into[u.unit_id]] if u.unit_id in merged_into else [])
        w = np.array([processed24[p] for p in preds], dtype=float)
        u.predecessors = preds
        u.quality = float(np.average([q24[p].quality for p in preds], weights=w)
                          + rng.normal(0, 0.5))

    crosswalk = list(cw_communes)
    crosswalk += [(m[0], m[2], int(processed24[m[0]])) for m in MERGED_DEPARTMENTS]
    # every department row is weighted by its 2024 workload, so a merged department's
    # previous score is the workload-weighted mean of itself and the one merged into it
    crosswalk += [(u.unit_id, u.unit_id, int(processed24[u.unit_id]))
                  for u in y25.units if u.level == "department"]
    cw = pd.DataFrame(crosswalk, columns=["previous_unit_id", "current_unit_id", "weight"])
    cw = cw.sort_values(["current_unit_id", "previous_unit_id"], kind="stable")

    xa25 = [u.unit_id for u in y25.units if u.level == "commune" and u.group == "Xã"]
    tiny = xa25[int(rng_for("tiny").integers(len(xa25)))]

    written: list[Path] = []
    for y, proc, tiny_unit in ((y24, proc24, None), (y25, processing(y25), tiny)):
        d = out / str(y.year)
        d.mkdir(parents=True, exist_ok=True)
        files = {
            "registry.csv": registry_frame(y),
            "survey_citizens.csv": survey_citizens(y, tiny_unit),
            "survey_businesses.csv": survey_businesses(y),
            "processing.csv": proc,
            "service_766.csv": service_766(y, proc),
        }
        for name, df in files.items():
            to_csv(df, d / name)
            written.append(d / name)
        write_appraisal(y, d / "appraisal.xlsx")
        written.append(d / "appraisal.xlsx")
    to_csv(cw, out / "crosswalk-2024-2025.csv")
    written.append(out / "crosswalk-2024-2025.csv")
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE,
                    help="output directory (default: next to this script)")
    args = ap.parse_args()
    for p in generate(args.out):
        print(f"{p.stat().st_size:>10,d}  {p}")


if __name__ == "__main__":
    main()
