#!/usr/bin/env python3
"""Time the annual report (``par_index.annual_report.render_report``) and measure what it writes: on
the sample province (2025 against 2024 through the crosswalk, weak indicators, rank intervals)
and on the national-scale case (benchmarks/national.py: 3,341 units; weak indicators and rank
intervals, no previous year).

    python benchmarks/bench_report.py                # generate the national case if needed
    python benchmarks/bench_report.py --skip-national

The scoring, comparison, weak indicators and uncertainty (1,000 draws) are computed before the
timed stages; each stage is the rendering alone (context, charts, workbook, HTML). Besides wall
and CPU time and peak memory, it records the size of ``index.html`` and of the workbook, and
how much of the HTML is SVG. Results go to stdout and to benchmarks/output/bench_report.json.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
import national

import par_index
from par_index.annual_report import render_report


def sizes(paths: dict[str, Path]) -> dict[str, Any]:
    html = paths["html"].read_text(encoding="utf-8")
    svg = sum(len(m.encode()) for m in re.findall(r"<svg.*?</svg>", html, re.S))
    return {
        "html_mib": round(paths["html"].stat().st_size / common.MiB, 2),
        "html_svg_share": round(svg / max(len(html.encode()), 1), 3),
        "xlsx_mib": round(paths["xlsx"].stat().st_size / common.MiB, 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", type=Path, default=national.DEFAULT_OUT)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--skip-national", action="store_true")
    common.stage_arguments(ap, "bench_report")
    args = ap.parse_args(argv)

    start = common.begin("report")
    rows: list[dict[str, Any]] = []
    checks: dict[str, Any] = {}
    out = common.OUTPUT / "report"

    print("scoring, comparing and drawing the uncertainty (not timed)", flush=True)
    r25 = par_index.score(common.CRITERIA, par_index.sample_inputs(2025))
    r24 = par_index.score(
        par_index.bundled_path("criteria/par-2024.yaml"), par_index.sample_inputs(2024)
    )
    walk = par_index.bundled_path("samples/crosswalk-2024-2025.csv")
    cases = [
        (
            "samples",
            r25,
            {
                "comparison": par_index.compare(r25, r24, walk),
                "weak": par_index.low_ranking(r25, previous=r24, crosswalk=walk),
                "uncertainty": par_index.uncertainty(
                    r25.spec, par_index.sample_inputs(2025), draws=args.draws
                ),
            },
        )
    ]
    if not args.skip_national:
        paths = common.national_case(args.case)
        sources = {
            "registry": paths["registry"],
            "processing": paths["processing"],
            "appraisal": paths["appraisal"],
            "survey": paths["survey_csv"],
        }
        data = par_index.read_inputs(par_index.load_spec(common.CRITERIA), sources)
        big = par_index.score(common.CRITERIA, data)
        cases.append(
            (
                "national",
                big,
                {
                    "weak": par_index.low_ranking(big),
                    "uncertainty": par_index.uncertainty(big.spec, data, draws=args.draws),
                },
            )
        )
    print()
    for name, results, parts in cases:
        folder = out / name
        shutil.rmtree(folder, ignore_errors=True)
        run = partial(render_report, results, folder, **parts)
        units = len(results.ranking)
        written = common.stage(rows, f"{name}: render ({units} units)", run, args.repeat, args.slow)
        checks[name] = {"units": units, **sizes(written)}
    return common.finish(args.json, start, rows, checks, draws=args.draws)


if __name__ == "__main__":
    sys.exit(main())
