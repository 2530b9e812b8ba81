"""The published indices in ../shared/validation, scored through `par-index score` as a user
would, and compared with the published figures.

Used by tests/test_validation.py (assertions) and, run as a script, writes the table of
docs/validation.md:  python tests/validation_cases.py > docs/validation.md
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from par_index.cli import app

ROOT = Path(__file__).resolve().parents[1]
VALIDATION = ROOT.parent / "shared" / "validation"


@dataclass(frozen=True)
class Measured:
    """What one case measured: each row names a layer and its worst difference."""

    case: str
    rows: list[tuple[str, int, float, float, int]]
    """(layer, values compared, max |difference|, tolerance, rank mismatches or -1)."""
    tiers_mismatched: int | None = None


def score_cli(files: list[Path], criteria: str, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run `par-index score FILES -c criteria/CRITERIA -o OUT.csv`; (ranking, detail)."""
    args = ["score", *map(str, files), "--criteria", str(ROOT / "criteria" / criteria),
            "--out", str(out)]
    result = CliRunner().invoke(app, args)
    if result.exit_code != 0:
        raise AssertionError(f"par-index {' '.join(args)} failed:\n{result.output}")
    read = {"dtype": {"unit_id": str, "group": str}, "encoding": "utf-8-sig"}
    return (pd.read_csv(out, **read),  # type: ignore[call-overload]
            pd.read_csv(out.with_name(f"{out.stem}.detail.csv"), **read))  # type: ignore[call-overload]


def _node(detail: pd.DataFrame, node_id: str) -> pd.DataFrame:
    return detail[detail["node_id"] == node_id].set_index("unit_id")


def pci(work: Path) -> Measured:
    source = VALIDATION / "vcci_pci_2016" / "pci_2016.csv"
    ranking, _ = score_cli([source], "pci-2016.yaml", work / "pci.csv")
    pub = pd.read_csv(source, dtype={"pci_id": str}).set_index("pci_id")
    got = ranking.set_index("unit_id").loc[pub.index]
    return Measured("vcci_pci_2016", [
        ("PCI total", len(pub), float((got["score"] - pub["pci_published"]).abs().max()), 1e-4,
         int((got["rank"] != pub["rank_published"]).sum())),
    ], tiers_mismatched=int((got["tier"] != pub["tier_published"]).sum()))


def papi(work: Path) -> Measured:
    source = VALIDATION / "undp_papi_2016" / "papi_2016.csv"
    ranking, _ = score_cli([source], "papi-2016.yaml", work / "papi.csv")
    pub = pd.read_csv(source, dtype={"province_id": str}).set_index("province_id")
    got = ranking.set_index("unit_id").loc[pub.index]
    published_rank = pub["papi_published"].rank(method="min", ascending=False)
    return Measured("undp_papi_2016", [
        ("PAPI total", len(pub), float((got["score"] - pub["papi_published"]).abs().max()), 1e-6,
         int((got["rank"] != published_rank).sum())),
    ])


ASEM_AGGREGATES = ["Physical", "ConEcFin", "Political", "Instit", "P2P", "Environ", "Social",
                   "SusEcFin", "Conn", "Sust"]


def asem(work: Path) -> Measured:
    folder = VALIDATION / "coinr_asem"
    ranking, detail = score_cli([folder / "asem_treated.csv"], "coinr-asem.yaml",
                                work / "asem.csv")
    pub = pd.read_csv(folder / "asem_aggregated.csv").set_index("uCode")
    normalised = pd.read_csv(folder / "asem_normalised.csv").set_index("uCode")
    leaves = [c for c in normalised.columns if c != "uName"]
    norm_diff = max(float((_node(detail, c)["score"] - normalised[c]).abs().max())
                    for c in leaves)
    diffs, ranks = [], 0
    for column in ASEM_AGGREGATES:
        node = _node(detail, column).loc[pub.index]
        diffs.append(float((node["score"] - pub[column]).abs().max()))
        ranks += int((node["rank"] != pub[f"rank_{column}"]).sum())
    total = ranking.set_index("unit_id").loc[pub.index]
    return Measured("coinr_asem", [
        ("normalised indicators", len(leaves) * len(pub), norm_diff, 1e-9, -1),
        ("pillars and sub-indices", len(ASEM_AGGREGATES) * len(pub), max(diffs), 1e-9, ranks),
        ("index", len(pub), float((total["score"] - pub["Index"]).abs().max()), 1e-9,
         int((total["rank"] != pub["rank_Index"]).sum())),
    ])


def sdg(work: Path) -> Measured:
    folder = VALIDATION / "sdsn_sdr_2023"
    ranking, detail = score_cli([folder / "sdr2023_raw.csv", folder / "sdr2023_normalised.csv"],
                                "sdg-index-2023.yaml", work / "sdg.csv")
    pub = pd.read_csv(folder / "sdr2023_normalised.csv").set_index("iso3")
    goal_diff, goals = 0.0, 0
    for g in range(1, 18):
        published = pub[f"goal{g}_published"].dropna()
        node = _node(detail, f"goal{g}").loc[published.index]
        goal_diff = max(goal_diff, float((node["score"] - published).abs().max()))
        goals += len(published)
    total = ranking.set_index("unit_id").loc[pub.index]
    return Measured("sdsn_sdr_2023", [
        ("goal scores (end to end from raw values)", goals, goal_diff, 0.051, -1),
        ("SDG Index", len(pub), float((total["score"] - pub["sdg_index_published"]).abs().max()),
         0.05 + 1e-6, int((total["rank"] != pub["sdg_rank_published"]).sum())),
    ])


CASES: dict[str, Callable[[Path], Measured]] = {
    "vcci_pci_2016": pci, "undp_papi_2016": papi, "coinr_asem": asem, "sdsn_sdr_2023": sdg,
}


def markdown(results: list[Measured]) -> str:
    lines = [
        "# Validation: published indices reproduced",
        "",
        "Each case is scored with `par-index score` on the files in `../shared/validation/` "
        "(never copied into the project) with the bundled criteria file, and compared with the "
        "published figures. Regenerate this page with "
        "`python tests/validation_cases.py > docs/validation.md`; the same comparisons are "
        "asserted by `tests/test_validation.py`.",
        "",
        "| case | criteria | layer | values | max abs. difference | tolerance | rank "
        "mismatches |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    files = {"vcci_pci_2016": "pci-2016.yaml", "undp_papi_2016": "papi-2016.yaml",
             "coinr_asem": "coinr-asem.yaml", "sdsn_sdr_2023": "sdg-index-2023.yaml"}
    for result in results:
        for layer, count, diff, tolerance, ranks in result.rows:
            shown = "–" if ranks < 0 else str(ranks)
            lines.append(f"| {result.case} | `criteria/{files[result.case]}` | {layer} | "
                         f"{count} | {diff:.3g} | {tolerance:g} | {shown} |")
    tiers = [r for r in results if r.tiers_mismatched is not None]
    lines += [""] + [f"Tiers ({r.case}): {r.tiers_mismatched} mismatches. The PCI tier cut-offs "
                     "are not published; the criteria file uses edges chosen inside the gaps "
                     "between the observed 2016 tier ranges (see its header)." for r in tiers]
    return "\n".join(lines) + "\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        results = [case(Path(work)) for case in CASES.values()]
    sys.stdout.write(markdown(results))


if __name__ == "__main__":
    main()
