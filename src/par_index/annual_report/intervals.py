"""Rank intervals in the report: the output of ``par-index uncertainty`` matched to the results
the report shows, as plain rows for the ranking table, the unit profiles, the rank-interval chart
and the method (no IO; values stay numbers, ``None`` when missing).

The report never draws anything itself: it shows an :class:`~par_index.results.Uncertainty`
computed from the same criteria and data as the results, and refuses one that is not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..compute.compare import move_within_interval
from ..errors import DataError, Issue
from ..results import Results, Uncertainty
from ..spec.uncertainty import AggregationAlternative, RuleAlternative
from . import i18n
from .context import Row, integer, node_name, plain, rule_text, text, value

SENSITIVITY_N = 8
"""Nodes shown per level in the HTML's "what the ranking hangs on" (the workbook has all)."""
SCORE_TOLERANCE = 1e-9
"""Relative: a nominal score written to .xlsx and read back differs in the 16th digit."""


def check_matches(results: Results, uncertainty: Uncertainty, where: str = "uncertainty") -> None:
    """Refuse an uncertainty output that was not computed from these results' criteria and
    data: same index, same units in the same levels, the same nominal scores and ranks.
    ``where`` names it in the error (its file, when read from one)."""
    issues: list[Issue] = []
    if uncertainty.spec.id != results.spec.id:
        issues.append(
            Issue(
                "uncertainty_mismatch",
                where,
                f"it is of the index '{uncertainty.spec.id}', the results of '{results.spec.id}'.",
            )
        )
    ranking = results.ranking.set_index(results.ranking["unit_id"].astype(str))
    units = uncertainty.units.set_index(uncertainty.units["unit_id"].astype(str))
    only_results = sorted(set(ranking.index) - set(units.index))
    only_uncertainty = sorted(set(units.index) - set(ranking.index))
    for ids, side in ((only_results, "the results"), (only_uncertainty, "the uncertainty output")):
        if ids:
            message = f"{_listed(ids)} only in {side}: {_some(ids)}."
            issues.append(Issue("uncertainty_mismatch", where, message))
    common = ranking.index.intersection(units.index)
    if len(common) and not issues:
        mine = ranking.loc[common]
        theirs = units.loc[common]
        level_differs = mine["level"].astype(str) != theirs["level"].astype(str)
        score = pd.to_numeric(mine["score"]).to_numpy(dtype="float64")
        nominal = pd.to_numeric(theirs["score_nominal"]).to_numpy(dtype="float64")
        tolerance = SCORE_TOLERANCE * np.maximum(1.0, np.abs(score))
        score_differs = ~(
            (np.isnan(score) & np.isnan(nominal)) | (np.abs(score - nominal) <= tolerance)
        )
        rank_differs = (
            mine["rank"].astype("Int64").fillna(-1).to_numpy()
            != theirs["rank_nominal"].astype("Int64").fillna(-1).to_numpy()
        )
        for mask, what in (
            (level_differs.to_numpy(), "in another level"),
            (score_differs, "with another nominal score"),
            (rank_differs, "with another nominal rank"),
        ):
            if mask.any():
                ids = list(common[mask])
                issues.append(
                    Issue(
                        "uncertainty_mismatch",
                        where,
                        f"{_listed(ids)} {what} than in the results: {_some(ids)}.",
                    )
                )
    if issues:
        raise DataError(
            "the uncertainty output was not computed from these results (run par-index "
            "uncertainty on the same criteria and inputs as par-index score)",
            issues,
        )


def unit_intervals(uncertainty: Uncertainty, lang: str) -> dict[str, Row]:
    """Per unit id: its rank interval, median rank, probability of the top k and of each tier,
    and the survey indicators that flag it (name, valid n, margin, which threshold)."""
    names = _names(uncertainty, lang)
    flags: dict[str, list[Row]] = {}
    survey = uncertainty.survey
    if len(survey) and {"flag_n", "flag_margin"} <= set(survey.columns):
        flagged = survey[survey["flag_n"].astype(bool) | survey["flag_margin"].astype(bool)]
        for rec in flagged.to_dict(orient="records"):
            node_id = str(rec["node_id"])
            flags.setdefault(str(rec["unit_id"]), []).append(
                {
                    "node_id": node_id,
                    "name": names.get(node_id, str(rec.get("node_name") or node_id)),
                    "n_valid": integer(rec.get("n_valid")),
                    "margin": value(rec.get("margin_95")),
                    "small_n": bool(rec.get("flag_n")),
                    # a margin is only shown where there is one (n = 0 has none)
                    "wide_margin": bool(rec.get("flag_margin"))
                    and value(rec.get("margin_95")) is not None,
                }
            )
    tier_columns = [c for c in uncertainty.units.columns if str(c).startswith("p_tier_")]
    out: dict[str, Row] = {}
    for rec in uncertainty.units.to_dict(orient="records"):
        unit_id = str(rec["unit_id"])
        low, high = integer(rec["rank_p05"]), integer(rec["rank_p95"])
        out[unit_id] = {
            "rank_p05": low,
            "rank_p95": high,
            "rank_median": value(rec["rank_median"]),
            "width": None if low is None or high is None else high - low,
            "group_p05": integer(rec.get("rank_in_group_p05")),
            "group_p95": integer(rec.get("rank_in_group_p95")),
            "score_p05": value(rec.get("score_p05")),
            "score_p95": value(rec.get("score_p95")),
            "p_top_k": value(rec.get("p_top_k")),
            "p_tiers": {str(c)[len("p_tier_") :]: value(rec[c]) for c in tier_columns},
            "flagged": bool(rec.get("flagged")),
            "flags": flags.get(unit_id, []),
            "flag_text": flag_text(flags.get(unit_id, []), lang),
        }
    return out


def flag_text(flags: list[Row], lang: str) -> str | None:
    """The survey indicators behind a unit's warning, as one line: name, n and margin."""
    t = i18n.strings(lang)
    parts = []
    for flag in flags:
        why = []
        if flag["small_n"]:
            why.append(t["flag_small_n"].format(n=flag["n_valid"] or 0))
        if flag["wide_margin"]:
            why.append(t["flag_wide_margin"].format(m=i18n.fmt_number(flag["margin"], lang, 3)))
        parts.append(f"{flag['name']}: {', '.join(why)}")
    return "; ".join(parts) or None


def mark_moves(rows: list[Row]) -> None:
    """Mark each rank change that lies within this year's 90 % rank interval (see
    :func:`~par_index.compute.compare.move_within_interval`)."""
    for row in rows:
        interval = row["interval"] or {}
        row["move_within_interval"] = bool(
            move_within_interval(
                row["rank_previous"],
                row["rank_change"],
                interval.get("rank_p05"),
                interval.get("rank_p95"),
            )
        )


def level_summary(rows: list[Row]) -> Row:
    """The level's intervals at a glance: how wide the median interval is, the widest, and how
    many units are flagged."""
    widths = [
        r["interval"]["width"]
        for r in rows
        if r["interval"] is not None and r["interval"]["width"] is not None
    ]
    flagged = [r for r in rows if r["interval"] and r["interval"]["flagged"]]
    moved = [r for r in rows if r.get("rank_change")]
    return {
        "median_width": float(np.median(widths)) if widths else None,
        "max_width": max(widths) if widths else None,
        "exact": sum(1 for w in widths if w == 0),
        "flagged": len(flagged),
        "moved": len(moved),
        "moved_within": sum(1 for r in moved if r.get("move_within_interval")),
    }


def method(uncertainty: Uncertainty, levels: list[Row], lang: str) -> Row:
    """How the intervals were made (draws, seed, sources of variation, thresholds) and, per
    level, every node by how far the ranking moves when it is left out (most first)."""
    t = i18n.strings(lang)
    settings = uncertainty.spec.uncertainty
    info = uncertainty.run.get("uncertainty") or {}
    if not isinstance(info, dict):
        info = {}
    names = _names(uncertainty, lang)
    sources = []
    if info.get("survey", settings.survey):
        sources.append(t["unc_source_survey"])
    for weight in settings.weights:
        low, high = weight.range
        sources.append(
            t["unc_source_weight"].format(
                node=names.get(weight.node, weight.node),
                low=plain(low, lang),
                high=plain(high, lang),
            )
        )
    nodes = {node.id: node for node, _, _ in uncertainty.spec.iter_nodes()}
    nodes[uncertainty.spec.id] = uncertainty.spec.as_root()
    for alternative in settings.alternatives:
        node = nodes.get(alternative.node)
        what: str | None
        if isinstance(alternative, RuleAlternative):
            what = (
                rule_text(node.model_copy(update={"rule": alternative.rule}), lang)
                if node is not None
                else None
            ) or alternative.rule.kind
        elif isinstance(alternative, AggregationAlternative):
            top = node.declared_max() if node is not None else None
            what = i18n.AGGREGATIONS[lang][alternative.aggregation].format(
                max=plain(top if top is not None else 100, lang)
            )
        else:  # pragma: no cover - the union has two members
            what = str(alternative)
        sources.append(
            t["unc_source_alternative"].format(
                node=names.get(alternative.node, alternative.node), what=what
            )
        )
    thresholds = []
    if settings.min_n is not None:
        thresholds.append(t["unc_min_n"].format(n=settings.min_n))
    if settings.max_margin is not None:
        thresholds.append(t["unc_max_margin"].format(m=plain(settings.max_margin, lang)))
    sensitivity: dict[str, list[Row]] = {}
    removal = uncertainty.removal
    if len(removal):
        ordered = removal.sort_values(
            ["mean_abs_rank_shift", "max_abs_rank_shift"], ascending=False, kind="stable"
        )
        for level in levels:
            part = ordered[ordered["level"].astype(str) == level["id"]]
            sensitivity[level["id"]] = [
                {
                    "node_id": str(r["node_id"]),
                    "name": names.get(str(r["node_id"]), str(r["node_name"])),
                    "depth": integer(r["depth"]),
                    "is_leaf": bool(r["is_leaf"]),
                    "units": integer(r["applies_to_units"]),
                    "mean_shift": value(r["mean_abs_rank_shift"]),
                    "max_shift": value(r["max_abs_rank_shift"]),
                    "share_moved": value(r["share_units_moved"]),
                }
                for r in part.to_dict(orient="records")
            ]
    draws = integer(info.get("draws")) or uncertainty.draws
    return {
        "varies": varies(uncertainty),
        "draws": draws,
        "draws_text": i18n.fmt_number(draws, lang, 0),
        "seed": integer(info.get("seed")),
        "top_k": integer(info.get("top_k")) or settings.top_k,
        "sources": sources or [t["unc_source_none"]],
        "thresholds": thresholds,
        "sensitivity": sensitivity,
        "sensitivity_shown": SENSITIVITY_N,
        "note": t["unc_note"].format(draws=i18n.fmt_number(draws, lang, 0)),
        "computed": text(uncertainty.run.get("time_utc")),
    }


def varies(uncertainty: Uncertainty) -> bool:
    """Whether the draws varied anything (a survey resampled, weights, method alternatives);
    if not, every rank interval is the rank itself."""
    info = uncertainty.run.get("uncertainty") or {}
    if not isinstance(info, dict):
        info = {}
    settings = uncertainty.spec.uncertainty
    return bool(
        info.get("survey", settings.survey and len(uncertainty.survey) > 0)
        or settings.weights
        or settings.alternatives
    )


def _listed(ids: list[str]) -> str:
    """ "1 unit" / "214 units"."""
    return "1 unit" if len(ids) == 1 else f"{len(ids)} units"


def _some(ids: list[str], shown: int = 5) -> str:
    """The first few ids, and how many more."""
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


def _names(uncertainty: Uncertainty, lang: str) -> dict[str, str]:
    spec = uncertainty.spec
    names = {node.id: node_name(node, lang) for node, _, _ in spec.iter_nodes()}
    names[spec.id] = node_name(spec, lang)
    return names
