"""The report context: every unit, every number equal to the results, labels per language."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from par_index.annual_report import build_context, i18n
from par_index.annual_report import context as context_module
from par_index.spec.nodes import Node


@pytest.fixture(scope="module")
def ctx(samples: SimpleNamespace) -> dict:
    return build_context(samples.r25, samples.comparison, samples.weak, lang="vi")


@pytest.fixture(scope="module")
def ctx_en(samples: SimpleNamespace) -> dict:
    return build_context(samples.r25, samples.comparison, samples.weak, lang="en")


def test_every_unit_once_in_its_level_in_rank_order(samples, ctx):
    ranking = samples.r25.ranking
    seen = [row["unit_id"] for level in ctx["levels"] for row in level["rows"]]
    assert sorted(seen) == sorted(ranking["unit_id"])
    assert len(ctx["profiles"]) == len(ranking)
    assert [lv["id"] for lv in ctx["levels"]] == samples.r25.levels
    for level in ctx["levels"]:
        ranks = [row["rank"] for row in level["rows"]]
        assert ranks == sorted(ranks)
        assert level["n"] == int((ranking["level"] == level["id"]).sum())


def test_numbers_equal_the_results(samples, ctx):
    rows = {row["unit_id"]: row for level in ctx["levels"] for row in level["rows"]}
    areas = [node.id for node in samples.r25.spec.criteria]
    for rec in samples.r25.ranking.to_dict(orient="records"):
        row = rows[rec["unit_id"]]
        assert row["unit_name"] == rec["unit_name"]
        assert row["score"] == rec["score"]
        assert row["share"] == rec["share"]
        assert row["rank"] == rec["rank"]
        assert row["tier"] == rec["tier"]
        for area, cell in zip(areas, row["areas"], strict=True):
            expected = rec[area]
            if isinstance(expected, float) and math.isnan(expected):
                assert cell["score"] is None
            else:
                assert cell["score"] == expected


def test_changes_equal_the_comparison(samples, ctx):
    changes = samples.comparison.changes
    totals = changes[changes["node_id"] == samples.r25.spec.id].set_index("unit_id")
    for level in ctx["levels"]:
        for row in level["rows"]:
            rec = totals.loc[row["unit_id"]]
            assert row["score_change"] == pytest.approx(rec["score_change"], abs=0)
            assert row["rank_change"] == int(rec["rank_change"])
            assert row["rank_previous"] == int(rec["rank_previous"])
        rose = [r["rank_change"] for r in level["rose"]]
        fell = [r["rank_change"] for r in level["fell"]]
        assert rose == sorted(rose, reverse=True) and all(v > 0 for v in rose)
        assert fell == sorted(fell) and all(v < 0 for v in fell)
        assert rose[0] == max(r["rank_change"] for r in level["rows"])


def test_merged_units_name_their_predecessors(ctx):
    department = next(lv for lv in ctx["levels"] if lv["id"] == "department")
    s02 = next(r for r in department["rows"] if r["unit_id"] == "S02")
    assert s02["derived_from"] == "S02+S21"
    assert len(s02["derived_from_names"]) == 2
    assert s02["derived_from_names"][0] == "Sở Tài chính"


def test_tiers_count_every_unit(samples, ctx):
    for level in ctx["levels"]:
        assert sum(t["count"] for t in level["tier_counts"]) == level["n"]
        counts = samples.r25.level(level["id"])["tier"].value_counts()
        for tier in level["tier_counts"]:
            assert tier["count"] == counts.get(tier["key"], 0)


def test_profiles_carry_the_weak_indicators_in_order(samples, ctx):
    weak = samples.weak.weak
    for profile in ctx["profiles"]:
        expected = weak[weak["unit_id"] == profile["unit_id"]]
        assert [w["node_id"] for w in profile["weak"]] == list(expected["node_id"])
        assert [w["lost_vs_max"] for w in profile["weak"]] == list(expected["points_lost_vs_max"])
        assert profile["weak_lost_vs_max"] == pytest.approx(expected["points_lost_vs_max"].sum())
    # a changed definition (online payments target) is flagged as not comparable
    flagged = {w["node_id"]: w["comparable"] for p in ctx["profiles"] for w in p["weak"]}
    if "thanh_toan" in flagged:
        assert flagged["thanh_toan"] is False


def test_profile_areas_against_the_level(samples, ctx):
    detail = samples.r25.detail
    for profile in ctx["profiles"][:10]:
        for area in profile["profile_areas"]:
            level_rows = detail[
                (detail["level"] == profile["level"]) & (detail["node_id"] == area["id"])
            ]
            assert area["level_best"] == pytest.approx(level_rows["share"].max())
            assert area["level_mean"] == pytest.approx(level_rows["share"].mean())


def test_english_labels_come_from_name_en(samples, ctx, ctx_en):
    assert ctx_en["t"]["ranking"] == "Ranking"
    assert ctx_en["index"]["name"] == samples.r25.spec.name_en
    assert [a["name"] for a in ctx_en["areas"]] == [
        n.name_en or n.name for n in samples.r25.spec.criteria
    ]
    assert [t["name"] for t in ctx_en["tiers"]] == ["Good", "Fair", "Average", "Weak"]
    assert ctx["tiers"][0]["name"] == "Tốt"
    assert ctx_en["levels"][0]["label"] == "Departments"


def test_english_falls_back_to_name(samples):
    results = samples.r25
    criteria = list(results.spec.criteria)
    criteria[1] = criteria[1].model_copy(update={"name_en": None})
    spec = results.spec.model_copy(update={"criteria": criteria})
    import dataclasses

    ctx = build_context(dataclasses.replace(results, spec=spec), lang="en")
    assert ctx["areas"][1]["name"] == criteria[1].name
    assert ctx["areas"][0]["name"] == criteria[0].name_en


def test_without_comparison_or_weak(samples):
    ctx = build_context(samples.r25)
    assert ctx["previous"] is None and ctx["comparison"] is None
    assert not ctx["weak_given"]
    row = ctx["levels"][0]["rows"][0]
    assert row["rank_change"] is None and row["score_change"] is None
    assert ctx["levels"][0]["rose"] == [] and ctx["levels"][0]["change"] is None


def test_unknown_language_is_refused(samples):
    from par_index import ParIndexError

    with pytest.raises(ParIndexError, match="language"):
        build_context(samples.r25, lang="fr")


def test_both_languages_have_the_same_strings():
    assert set(i18n.STRINGS["vi"]) == set(i18n.STRINGS["en"])
    assert set(i18n.AGGREGATIONS["vi"]) == set(i18n.AGGREGATIONS["en"])


@pytest.mark.parametrize(
    ("value", "lang", "decimals", "sign", "expected"),
    [
        (84.759, "vi", 2, False, "84,76"),
        (84.759, "en", 2, False, "84.76"),
        (1234.5, "vi", 1, False, "1.234,5"),
        (1234.5, "en", 1, False, "1,234.5"),
        (-6.009, "vi", 2, True, "−6,01"),
        (3.5, "en", 2, True, "+3.50"),
        (-0.001, "vi", 2, True, "0,00"),
        (None, "vi", 2, False, "–"),
        (float("nan"), "en", 2, False, "–"),
    ],
)
def test_number_format(value, lang, decimals, sign, expected):
    assert i18n.fmt_number(value, lang, decimals, sign) == expected


def test_rank_change_and_percent_format():
    assert i18n.fmt_int_change(3) == "▲3"
    assert i18n.fmt_int_change(-2) == "▼2"
    assert i18n.fmt_int_change(0) == "="
    assert i18n.fmt_int_change(None) == "–"
    assert i18n.fmt_percent(0.8476, "vi") == "84,8\u00a0%"
    assert i18n.fmt_percent(0.8476, "en") == "84.8%"


def test_method_rows_read_as_text(samples, ctx, ctx_en):
    rows = {r["id"]: r for r in ctx["method"]["rows"]}
    assert len(rows) == sum(1 for _ in samples.r25.spec.iter_nodes())
    assert rows["muc_do_thuc_hien"]["rule"].startswith("≥ 100: 3 điểm; ≥ 80: 2 điểm")
    assert rows["muc_do_thuc_hien"]["official_text"].startswith("Hoàn thành 100%")
    assert rows["dung_han"]["rule"] == "tuyến tính: giá trị 0,8 được 0 điểm, 1 được 8 điểm"
    assert rows["tre_han"]["rule"].startswith("≤ 0,01: 4 điểm")
    assert "trừ 2 điểm" in rows["ky_luat"]["rule"]
    assert rows["sap_xep"]["applies_to"] == "cấp Sở, ban, ngành"
    assert rows["chi_dao"]["aggregation"] == "cộng điểm các tiêu chí con"
    en = {r["id"]: r for r in ctx_en["method"]["rows"]}
    assert en["dung_han"]["rule"] == "linear: a value of 0.8 scores 0, 1 scores 8"
    assert (
        en["thanh_toan"]["rule"]
        == "target ≥ 0.5 met: 4 points; otherwise proportional to the achievement"
    )
    assert ctx["method"]["tiers"][0] == "Tốt: ≥ 90"


def test_anchors_are_unique_and_safe():
    taken: set[str] = set()
    anchors = [context_module.slug(u, taken) for u in ["a b", "a-b", "a/b", "ß", "03646"]]
    assert len(set(anchors)) == len(anchors)
    assert all(a.startswith("u-") and all(c.isalnum() or c in "-_" for c in a) for a in anchors)


def _ratio_node(**measure: object) -> Node:
    return Node.model_validate({
        "id": "r", "name": "R", "max": 4,
        "measure": {"kind": "ratio", "table": "processing", "numerator": ["online"],
                    "denominator": ["population"], **measure},
    })


@pytest.mark.parametrize(("measure", "vi", "en"), [
    ({}, "tỷ lệ online / population (bảng processing)",
     "ratio online / population (table processing)"),
    ({"percent": True}, "tỷ lệ online / population (bảng processing)",
     "ratio online / population (table processing)"),
    ({"denominator_table": "registry", "per": 1000},
     "tỷ lệ online / population (bảng processing / registry) × 1.000",
     "ratio online / population (tables processing / registry) × 1,000"),
    ({"denominator_table": "registry"},
     "tỷ lệ online / population (bảng processing / registry)",
     "ratio online / population (tables processing / registry)"),
    ({"per": 100000}, "tỷ lệ online / population (bảng processing) × 100.000",
     "ratio online / population (table processing) × 100,000"),
    ({"per": 2.5}, "tỷ lệ online / population (bảng processing) × 2,5",
     "ratio online / population (table processing) × 2.5"),
])
def test_ratio_measure_text_names_the_denominator_table_and_per(
        measure: dict[str, object], vi: str, en: str) -> None:
    node = _ratio_node(**measure)
    assert context_module.measure_text(node, "vi") == vi
    assert context_module.measure_text(node, "en") == en


def test_ratio_measure_text_joins_several_columns_across_tables() -> None:
    node = _ratio_node(numerator=["a", "b"], denominator=["c", "d"], denominator_table="reg",
                       per=1000)
    assert context_module.measure_text(node, "en") == (
        "ratio (a + b) / (c + d) (tables processing / reg) × 1,000"
    )


def test_group_stats_of_each_level(samples, ctx):
    ranking = samples.r25.ranking
    for level in ctx["levels"]:
        frame = ranking[ranking["level"] == level["id"]]
        expected = frame.groupby("group")["score"]
        stats = {g["group"]: g for g in level["group_stats"]}
        assert set(stats) == set(frame["group"].dropna())
        for group, scores in expected:
            assert stats[group]["n"] == len(scores)
            assert stats[group]["mean"] == pytest.approx(scores.mean(), rel=1e-12)
            assert stats[group]["best"] == scores.max() and stats[group]["worst"] == scores.min()
            best = frame.loc[scores.idxmax(), "unit_name"]
            assert stats[group]["best_unit"] == best
