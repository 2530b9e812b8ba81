"""UI strings of the report, one small dict per language, and number formatting.

Criterion, tier and index names come from the criteria file (``name`` in Vietnamese, ``name_en``
in English, falling back to ``name``); unit names are used as given.
"""

from __future__ import annotations

import math
from typing import Any

LANGUAGES = ("vi", "en")

LEVELS: dict[str, dict[str, str]] = {
    "vi": {
        "department": "Sở, ban, ngành",
        "district": "Huyện, thị xã, thành phố",
        "commune": "Xã, phường",
        "province": "Tỉnh, thành phố",
    },
    "en": {
        "department": "Departments",
        "district": "Districts",
        "commune": "Communes and wards",
        "province": "Provinces",
    },
}

STRINGS: dict[str, dict[str, str]] = {
    "vi": {
        "report": "Báo cáo kết quả xếp hạng",
        "contents": "Nội dung",
        "summary": "Tổng quan",
        "ranking": "Bảng xếp hạng",
        "areas": "Kết quả theo lĩnh vực",
        "profiles": "Hồ sơ từng đơn vị",
        "method": "Phương pháp",
        "run": "Thông tin lần tính",
        "level": "Cấp",
        "units": "Số đơn vị",
        "unit": "Đơn vị",
        "unit_id": "Mã",
        "group": "Nhóm",
        "rank": "Hạng",
        "rank_in_group": "Hạng trong nhóm",
        "total": "Tổng điểm",
        "score": "Điểm",
        "maximum": "Tối đa",
        "share": "Tỷ lệ đạt",
        "tier": "Xếp loại",
        "rank_change": "Thay đổi hạng",
        "score_change": "Thay đổi điểm",
        "previous_score": "Điểm {year}",
        "previous_rank": "Hạng {year}",
        "previous": "Năm trước",
        "mean": "Bình quân",  # not "Trung bình", which is also a tier name
        "median": "Trung vị",
        "best": "Cao nhất",
        "worst": "Thấp nhất",
        "spread": "Độ lệch chuẩn",
        "level_mean": "Bình quân cấp",
        "level_best": "Cao nhất của cấp",
        "tier_counts": "Số đơn vị theo xếp loại",
        "distribution": "Phân bố tổng điểm",
        "top_units": "Dẫn đầu",
        "bottom_units": "Cuối bảng",
        "movers": "Thay đổi lớn nhất so với năm {year}",
        "rose": "Tăng hạng nhiều nhất",
        "fell": "Giảm hạng nhiều nhất",
        "units_rose": "Tăng điểm",
        "units_fell": "Giảm điểm",
        "mean_change": "Thay đổi điểm bình quân",
        "ranking_chart": "Tổng điểm các đơn vị",
        "rank_change_chart": "Thay đổi thứ hạng so với năm {year}",
        "area_chart": "Điểm trung bình và độ phân tán theo lĩnh vực (% điểm tối đa)",
        "area_table": "Lĩnh vực",
        "losses": "Chỉ tiêu mất nhiều điểm nhất của cấp",
        "points_lost_total": "Tổng điểm bị mất",
        "points_lost_mean": "Mất bình quân",
        "full_marks": "Đạt điểm tối đa",
        "profile_of": "Hồ sơ",
        "out_of": "trên",
        "rank_of": "Hạng {rank}/{n}",
        "area_profile": "Điểm theo lĩnh vực so với cấp (% điểm tối đa)",
        "this_unit": "Đơn vị",
        "above_mean": "Bằng/trên bình quân cấp",
        "below_mean": "Dưới bình quân cấp",
        "weak": "Chỉ tiêu yếu (điểm có thể cải thiện)",
        "weak_none": "Không có chỉ tiêu nào nằm trong nhóm thấp nhất của cấp.",
        "weak_missing": "Chưa tính chỉ tiêu yếu (không có bảng chỉ tiêu yếu).",
        "weak_note": "Chỉ tiêu thuộc {cut} thấp nhất của cấp; xếp theo số điểm còn thiếu.",
        "indicator": "Chỉ tiêu",
        "area": "Lĩnh vực",
        "lost_vs_max": "Còn thiếu so với tối đa",
        "lost_vs_best": "Kém đơn vị tốt nhất",
        "at_stake": "Điểm có thể cải thiện",
        "tied": "bằng {n} đơn vị khác",
        "more_weak": "… và {n} chỉ tiêu yếu khác (xem sổ tính Excel)",
        "strong": "Chỉ tiêu mạnh",
        "drivers": "Chỉ tiêu tác động nhiều nhất đến thay đổi điểm",
        "change": "Thay đổi",
        "new_unit": "mới",
        "merged_from": "Hợp nhất từ: {ids}",
        "formerly": "Năm trước: {name} (mã {id})",
        "not_comparable": "không so sánh trực tiếp được",
        "comparable_note": (
            "Một số tiêu chí thay đổi cách tính giữa hai năm ({nodes}); thay đổi điểm tổng vì "
            "vậy không hoàn toàn so sánh được. Trên các tiêu chí giữ nguyên cách tính, tỷ lệ đạt "
            "bình quân thay đổi:"
        ),
        "crosswalk_note": (
            "Đơn vị được sắp xếp lại được so sánh với bình quân gia quyền của các đơn vị cũ "
            "(theo bảng chuyển đổi); hạng năm trước là hạng của các điểm đó trên danh sách "
            "đơn vị năm nay."
        ),
        "one_year_units": "Đơn vị chỉ có ở một năm",
        "present_in_previous": "chỉ có năm {year}",
        "present_in_current": "chỉ có năm {year}",
        "criteria_tree": "Cây tiêu chí",
        "id": "Mã",
        "name": "Tên",
        "weight": "Trọng số",
        "measure": "Số liệu",
        "rule": "Cách chấm điểm",
        "official_text": "Văn bản quy định",
        "applies_to": "Áp dụng",
        "aggregation": "Cách tổng hợp",
        "legal_basis": "Căn cứ",
        "tiers": "Xếp loại",
        "missing_policy": "Xử lý thiếu số liệu",
        "ranking_rule": "Cách xếp hạng",
        "ranking_rule_text": (
            "Xếp hạng cạnh tranh (1, 2, 2, 4) trong từng cấp, đơn vị điểm cao hơn đứng trước"
        ),
        "ranking_round": "; xếp trên điểm làm tròn {n} chữ số thập phân",
        "sort_hint": "Bấm vào tiêu đề cột để sắp xếp.",
        "computed": "Tính ngày",
        "version": "Phiên bản",
        "criteria_digest": "Mã kiểm tra bộ tiêu chí",
        "key": "Mục",
        "value": "Giá trị",
        "back_to_top": "Về đầu trang",
        "no_tier": "Chưa xếp loại",
        "sheet_ranking": "Xếp hạng",
        "sheet_changes": "Thay đổi",
        "sheet_weak": "Chỉ tiêu yếu",
        "sheet_method": "Phương pháp",
        "sheet_run": "Nhật ký tính",
        "sheet_notes": "Ghi chú",
        "derived_from": "Hình thành từ",
        "status": "Tình trạng",
        "comparable_share_change": "Thay đổi tỷ lệ đạt trên tiêu chí so sánh được",
        "main_drivers": "Nguyên nhân chính",
        "units_in_level": "Số đơn vị của cấp",
        "fell_flag": "Giảm so với năm trước",
        "yes": "Có",
        "no": "Không",
        "score_of_max": "{score} / {max}",
        "pp": "điểm %",
        "printed_from": "In từ báo cáo HTML",
        "page": "Trang",
        "not_applicable": "không áp dụng",
        "generated_by": "Lập bằng par-index {version}",
        "all_units": "Tất cả {n} đơn vị",
        "top_movers": "{n} đơn vị thay đổi nhiều nhất mỗi chiều",
        "rank_interval": "Khoảng hạng 90\u00a0%",
        "rank_interval_from": "Khoảng hạng 90\u00a0% — từ",
        "rank_interval_to": "Khoảng hạng 90\u00a0% — đến",
        "rank_median": "Hạng trung vị",
        "interval_short": "khoảng 90\u00a0%",
        "n_units": "{n} đơn vị",
        "by_group": "Theo nhóm",
        "move_within": "Đổi hạng trong khoảng 90\u00a0%",
        "move_within_title": (
            "Hạng năm trước nằm trong khoảng hạng 90\u00a0% năm nay: thay đổi này chưa chắc là "
            "thay đổi thực"
        ),
        "moves_summary": (
            "{within}/{moved} đơn vị đổi hạng có hạng năm trước nằm trong khoảng 90\u00a0% năm "
            "nay (in mờ)."
        ),
        "group_interval_from": "Hạng trong nhóm, khoảng 90\u00a0% — từ",
        "group_interval_to": "Hạng trong nhóm, khoảng 90\u00a0% — đến",
        "score_interval_from": "Khoảng điểm 90\u00a0% — từ",
        "score_interval_to": "Khoảng điểm 90\u00a0% — đến",
        "p_top_k": "Xác suất vào top {k}",
        "p_tier": "Xác suất xếp loại {tier}",
        "flag": "Cảnh báo mẫu khảo sát",
        "flag_title": "Kết quả khảo sát có độ chính xác thấp",
        "flag_small_n": "ít phiếu (n = {n})",
        "flag_wide_margin": "sai số ±{m}",
        "interval_chart": "Khoảng hạng 90\u00a0% qua {draws} lần tính lại",
        "interval_legend_bar": "hạng ở 90\u00a0% số lần tính lại (phân vị 5–95)",
        "interval_legend_dot": "hạng công bố",
        "interval_legend_flag": "có cảnh báo mẫu khảo sát",
        "interval_axis": "Hạng",
        "interval_axis_relative": "Số hạng so với hạng công bố (▲ tốt hơn)",
        "interval_summary": (
            "Qua {draws} lần tính lại, khoảng hạng 90\u00a0% của đơn vị trung vị rộng {median} "
            "hạng (rộng nhất {max}); {exact} đơn vị giữ nguyên hạng; {flagged} đơn vị có "
            "cảnh báo mẫu khảo sát."
        ),
        "uncertainty": "Độ tin cậy của thứ hạng",
        "unc_draws": "Số lần tính lại",
        "unc_seed": "Hạt giống ngẫu nhiên",
        "unc_sources": "Nguồn biến động",
        "unc_source_survey": (
            "phiếu khảo sát của mỗi đơn vị được lấy mẫu lại có hoàn lại (bootstrap, giữ trọng số)"
        ),
        "unc_source_weight": "trọng số của «{node}» nhân với hệ số trong khoảng {low}–{high}",
        "unc_source_alternative": "«{node}»: phương pháp thay thế ({what})",
        "unc_source_none": "không có (mọi lần tính đều như nhau)",
        "unc_thresholds": "Ngưỡng cảnh báo",
        "unc_min_n": "dưới {n} phiếu hợp lệ",
        "unc_max_margin": "sai số biên 95\u00a0% lớn hơn {m}",
        "unc_note": (
            "Khoảng hạng 90\u00a0% đi từ phân vị thứ 5 đến phân vị thứ 95 của hạng qua {draws} "
            "lần tính lại toàn bộ chỉ số. Hai đơn vị có khoảng hạng chồng lên nhau chưa chắc "
            "khác nhau thực sự."
        ),
        "sensitivity": "Thứ hạng phụ thuộc nhiều nhất vào",
        "sensitivity_note": "Hạng thay đổi bao nhiêu khi bỏ một tiêu chí (trọng số bằng 0).",
        "mean_shift": "Thay đổi hạng bình quân",
        "max_shift": "Thay đổi hạng lớn nhất",
        "share_moved": "Tỷ lệ đơn vị đổi hạng",
        "sheet_uncertainty": "Độ tin cậy hạng",
        "sheet_sensitivity": "Độ nhạy",
    },
    "en": {
        "report": "Ranking report",
        "contents": "Contents",
        "summary": "Summary",
        "ranking": "Ranking",
        "areas": "Results by area",
        "profiles": "Unit profiles",
        "method": "Method",
        "run": "Run record",
        "level": "Level",
        "units": "Units",
        "unit": "Unit",
        "unit_id": "Code",
        "group": "Group",
        "rank": "Rank",
        "rank_in_group": "Rank in group",
        "total": "Total",
        "score": "Score",
        "maximum": "Maximum",
        "share": "Share of maximum",
        "tier": "Tier",
        "rank_change": "Rank change",
        "score_change": "Score change",
        "previous_score": "Score {year}",
        "previous_rank": "Rank {year}",
        "previous": "Previous year",
        "mean": "Mean",
        "median": "Median",
        "best": "Best",
        "worst": "Worst",
        "spread": "Standard deviation",
        "level_mean": "Level mean",
        "level_best": "Level best",
        "tier_counts": "Units per tier",
        "distribution": "Distribution of totals",
        "top_units": "Top",
        "bottom_units": "Bottom",
        "movers": "Biggest moves since {year}",
        "rose": "Rose most",
        "fell": "Fell most",
        "units_rose": "Score rose",
        "units_fell": "Score fell",
        "mean_change": "Change of the mean",
        "ranking_chart": "Totals of all units",
        "rank_change_chart": "Rank change since {year}",
        "area_chart": "Mean and spread per area (% of maximum)",
        "area_table": "Areas",
        "losses": "Indicators where the level loses most points",
        "points_lost_total": "Points lost in total",
        "points_lost_mean": "Mean points lost",
        "full_marks": "At full marks",
        "profile_of": "Profile",
        "out_of": "of",
        "rank_of": "Rank {rank} of {n}",
        "area_profile": "Areas against the level (% of maximum)",
        "this_unit": "Unit",
        "above_mean": "At or above level mean",
        "below_mean": "Below level mean",
        "weak": "Weak indicators (points at stake)",
        "weak_none": "No indicator falls in the level's bottom places.",
        "weak_missing": "Weak indicators were not computed (no weak table given).",
        "weak_note": "Indicators in the level's bottom {cut}; ordered by points short of maximum.",
        "indicator": "Indicator",
        "area": "Area",
        "lost_vs_max": "Short of maximum",
        "lost_vs_best": "Behind the best unit",
        "at_stake": "Points at stake",
        "tied": "tied with {n} more",
        "more_weak": "… and {n} more weak indicators (see the workbook)",
        "strong": "Strongest indicators",
        "drivers": "Indicators that moved the total most",
        "change": "Change",
        "new_unit": "new",
        "merged_from": "Merged from: {ids}",
        "formerly": "Previously: {name} (code {id})",
        "not_comparable": "not directly comparable",
        "comparable_note": (
            "Some criteria changed definition between the years ({nodes}), so the change of the "
            "total is not fully comparable. On the criteria defined the same way, the mean share "
            "of maximum changed by:"
        ),
        "crosswalk_note": (
            "Reorganised units are compared with the weighted mean of their predecessors "
            "(through the crosswalk); the previous rank is the rank of those scores on this "
            "year's list of units."
        ),
        "one_year_units": "Units present in one year only",
        "present_in_previous": "only in {year}",
        "present_in_current": "only in {year}",
        "criteria_tree": "Criteria",
        "id": "Id",
        "name": "Name",
        "weight": "Weight",
        "measure": "Data",
        "rule": "Scoring rule",
        "official_text": "Official text",
        "applies_to": "Applies to",
        "aggregation": "Aggregation",
        "legal_basis": "Legal basis",
        "tiers": "Tiers",
        "missing_policy": "Missing data",
        "ranking_rule": "Ranking",
        "ranking_rule_text": "Competition ranking (1, 2, 2, 4) within each level, best first",
        "ranking_round": "; ranked on the score rounded to {n} decimals",
        "sort_hint": "Click a column header to sort.",
        "computed": "Computed",
        "version": "Version",
        "criteria_digest": "Criteria digest",
        "key": "Key",
        "value": "Value",
        "back_to_top": "Back to top",
        "no_tier": "No tier",
        "sheet_ranking": "Ranking",
        "sheet_changes": "Changes",
        "sheet_weak": "Weak indicators",
        "sheet_method": "Method",
        "sheet_run": "Run record",
        "sheet_notes": "Notes",
        "derived_from": "Formed from",
        "status": "Status",
        "comparable_share_change": "Change of share on comparable criteria",
        "main_drivers": "Main drivers",
        "units_in_level": "Units in level",
        "fell_flag": "Fell since last year",
        "yes": "Yes",
        "no": "No",
        "score_of_max": "{score} / {max}",
        "pp": "pp",
        "printed_from": "Printed from the HTML report",
        "page": "Page",
        "not_applicable": "not applicable",
        "generated_by": "Made with par-index {version}",
        "all_units": "All {n} units",
        "top_movers": "The {n} largest moves each way",
        "rank_interval": "Rank interval (90%)",
        "rank_interval_from": "Rank interval 90% — from",
        "rank_interval_to": "Rank interval 90% — to",
        "rank_median": "Median rank",
        "interval_short": "90% interval",
        "n_units": "{n} units",
        "by_group": "By group",
        "move_within": "Move within 90% interval",
        "move_within_title": (
            "Last year's rank lies within this year's 90% rank interval: the move may not be a "
            "real one"
        ),
        "moves_summary": (
            "Rank changes within this year's 90% interval (shown faded): {within} of {moved}."
        ),
        "group_interval_from": "Rank in group, 90% interval — from",
        "group_interval_to": "Rank in group, 90% interval — to",
        "score_interval_from": "Score interval 90% — from",
        "score_interval_to": "Score interval 90% — to",
        "p_top_k": "Chance of top {k}",
        "p_tier": "Chance of tier {tier}",
        "flag": "Survey sample warning",
        "flag_title": "Survey result of low precision",
        "flag_small_n": "few respondents (n = {n})",
        "flag_wide_margin": "margin ±{m}",
        "interval_chart": "Rank intervals (90%) over {draws} replications",
        "interval_legend_bar": "ranks in 90% of replications (5th–95th percentile)",
        "interval_legend_dot": "published rank",
        "interval_legend_flag": "survey sample warning",
        "interval_axis": "Rank",
        "interval_axis_relative": "Places from the published rank (▲ better)",
        "interval_summary": (
            "Over {draws} replications: the median unit's 90% rank interval is {median} places "
            "wide (the widest {max}); units keeping their rank in every draw: {exact}; with a "
            "survey sample warning: {flagged}."
        ),
        "uncertainty": "How sure each rank is",
        "unc_draws": "Replications",
        "unc_seed": "Random seed",
        "unc_sources": "Sources of variation",
        "unc_source_survey": (
            "each unit's survey respondents resampled with replacement (bootstrap, weights kept)"
        ),
        "unc_source_weight": "weight of “{node}” scaled by a factor in {low}–{high}",
        "unc_source_alternative": "“{node}”: alternative method ({what})",
        "unc_source_none": "none (every replication is the same)",
        "unc_thresholds": "Warning thresholds",
        "unc_min_n": "fewer than {n} valid answers",
        "unc_max_margin": "95% margin of error above {m}",
        "unc_note": (
            "The 90% rank interval runs from the 5th to the 95th percentile of a unit's rank "
            "over {draws} replications of the whole index. Units whose intervals overlap may "
            "not truly differ."
        ),
        "sensitivity": "What the ranking hangs on",
        "sensitivity_note": "How far ranks move when one node is left out (weight zero).",
        "mean_shift": "Mean rank shift",
        "max_shift": "Largest rank shift",
        "share_moved": "Units moved",
        "sheet_uncertainty": "Rank uncertainty",
        "sheet_sensitivity": "Sensitivity",
    },
}

AGGREGATIONS = {
    "vi": {
        "sum": "cộng điểm các tiêu chí con",
        "weighted_mean": "bình quân gia quyền các tiêu chí con",
        "geometric_mean": "bình quân nhân các tiêu chí con",
        "share_of_max": "tổng điểm đạt / tổng điểm tối đa áp dụng × {max}",
    },
    "en": {
        "sum": "sum of the children's points",
        "weighted_mean": "weighted mean of the children",
        "geometric_mean": "geometric mean of the children",
        "share_of_max": "points achieved / applicable maximum × {max}",
    },
}

MISSING = {
    "vi": {
        "error": "thiếu số liệu là lỗi (không tính)",
        "zero": "thiếu số liệu được 0 điểm",
        "reweight": "bỏ tiêu chí thiếu, quy đổi theo điểm tối đa còn lại",
        "impute_level_mean": "thay bằng bình quân của cấp",
        "impute_group_mean": "thay bằng bình quân của nhóm",
    },
    "en": {
        "error": "missing data is an error",
        "zero": "missing data scores 0",
        "reweight": "dropped and the remaining maximum rescaled",
        "impute_level_mean": "replaced by the level mean",
        "impute_group_mean": "replaced by the group mean",
    },
}


def strings(lang: str) -> dict[str, str]:
    if lang not in STRINGS:
        from ..errors import ParIndexError

        raise ParIndexError(
            f"the report language must be one of {', '.join(LANGUAGES)}. Got '{lang}' instead."
        )
    return STRINGS[lang]


def level_label(level: str, lang: str) -> str:
    return LEVELS[lang].get(level, level)


def is_number(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def fmt_number(value: Any, lang: str, decimals: int = 2, sign: bool = False) -> str:
    """``84,76`` in Vietnamese (decimal comma, dot thousands), ``84.76`` in English; ``–`` for
    missing. ``sign`` adds + for positive values and uses a true minus sign."""
    if not is_number(value):
        return "–"
    number = float(value)
    if round(number, decimals) == 0:
        number = 0.0  # no "-0,00"
    text = f"{abs(number):,.{decimals}f}"
    if lang == "vi":
        text = text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    if number < 0:
        return "\u2212" + text
    if sign and number > 0:
        return "+" + text
    return text


def fmt_percent(value: Any, lang: str, decimals: int = 1, sign: bool = False) -> str:
    """A share (0–1) as a percentage: ``84,8 %`` (vi) or ``84.8%`` (en)."""
    if not is_number(value):
        return "–"
    text = fmt_number(float(value) * 100, lang, decimals, sign)
    return f"{text}\u00a0%" if lang == "vi" else f"{text}%"


def fmt_int_change(value: Any) -> str:
    """A rank change as ▲3 / ▼2 / = (missing: –)."""
    if not is_number(value):
        return "–"
    number = int(value)
    if number > 0:
        return f"▲{number}"
    if number < 0:
        return f"▼{-number}"
    return "="
