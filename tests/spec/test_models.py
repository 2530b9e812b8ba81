"""The criteria language: every measure, rule, aggregation and missing policy loads from YAML,
and every structural check refuses a bad file with the right issue code, location and message.

Each example is a whole criteria file written to disk and read with ``load_spec``, so locations
carry real line numbers. ``HEADER`` is 7 lines long: the first criterion is on line 8.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from par_index.errors import Issue, SpecError
from par_index.spec import IndexSpec, load_spec, validate_spec
from par_index.spec.measures import (
    AppraisalMeasure,
    ColumnMeasure,
    RatioMeasure,
    SurveyMeasure,
    YesNoMeasure,
)
from par_index.spec.rules import (
    BandsRule,
    CountRule,
    DeductionRule,
    IdentityRule,
    LinearRule,
    MinMaxRule,
    RelativeToBestRule,
    TargetRule,
    YesNoRule,
)

HEADER = """\
id: t
name: Test index
inputs:
  tab: {kind: table, unit_column: unit}
  srv: {kind: survey, unit_column: unit, scale: {min: 1, max: 5}}
units: {table: tab}
criteria:
"""
FIRST = 8  # line of the first criterion
COL = "{kind: column, table: tab, column: c}"


def leaf(node_id: str = "a", *, max: str = "5", measure: str = COL, rule: str | None = None,
         extra: str = "") -> str:
    """One flow-style leaf on one line, as an item of ``criteria``."""
    text = f"  - {{id: {node_id}, name: Leaf {node_id}, max: {max}, measure: {measure}"
    if rule is not None:
        text += f", rule: {rule}"
    if extra:
        text += f", {extra}"
    return text + "}\n"


def write(tmp_path: Path, criteria: str, *, after: str = "", header: str = HEADER) -> Path:
    path = tmp_path / "criteria.yaml"
    path.write_text(header + criteria + after, encoding="utf-8")
    return path


def load(tmp_path: Path, criteria: str, **kwargs: str) -> IndexSpec:
    return load_spec(write(tmp_path, criteria, **kwargs))


def problems(tmp_path: Path, criteria: str, **kwargs: str) -> list[Issue]:
    path = write(tmp_path, criteria, **kwargs)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    issues = list(info.value.issues)
    assert issues, f"SpecError without issues: {info.value}"
    # validate_spec reports the same problems without raising
    assert validate_spec(path) == issues
    return issues


def only_problem(tmp_path: Path, criteria: str, **kwargs: str) -> Issue:
    issues = problems(tmp_path, criteria, **kwargs)
    assert len(issues) == 1, "\n".join(map(str, issues))
    return issues[0]


# --------------------------------------------------------------------------------------------
# Minimal valid files: every measure kind, rule kind, aggregation and missing policy
# --------------------------------------------------------------------------------------------

MEASURES = {
    "column": ("{kind: column, table: tab, column: c}", ColumnMeasure,
               {"table": "tab", "column": "c", "reduce": "one"}),
    "column_reduce": ("{kind: column, table: tab, column: c, reduce: mean}", ColumnMeasure,
                      {"reduce": "mean"}),
    "ratio": ("{kind: ratio, table: tab, numerator: [early, on_time], denominator: [done]}",
              RatioMeasure, {"numerator": ["early", "on_time"], "denominator": ["done"],
                             "when_zero": "missing", "bounded": True, "percent": False}),
    "ratio_options": ("{kind: ratio, table: tab, numerator: [n], denominator: [d], "
                      "when_zero: full, bounded: false, percent: true}", RatioMeasure,
                      {"when_zero": "full", "bounded": False, "percent": True}),
    "survey": ("{kind: survey, table: srv, questions: [q1, q2], threshold: 4}", SurveyMeasure,
               {"questions": ["q1", "q2"], "statistic": "share_at_least", "threshold": 4.0}),
    "survey_mean": ("{kind: survey, table: srv, questions: [q1], statistic: mean}",
                    SurveyMeasure, {"statistic": "mean", "threshold": None}),
    "survey_at_most": ("{kind: survey, table: srv, questions: [q1], statistic: share_at_most, "
                       "threshold: 2}", SurveyMeasure, {"statistic": "share_at_most"}),
    "appraisal": ("{kind: appraisal, table: tab, appraised: p, self_assessed: p_self}",
                  AppraisalMeasure, {"appraised": "p", "self_assessed": "p_self"}),
    "appraisal_no_self": ("{kind: appraisal, table: tab, appraised: p}", AppraisalMeasure,
                          {"self_assessed": None}),
    "yes_no": ("{kind: yes_no, table: tab, column: done}", YesNoMeasure, {"column": "done"}),
    "yes_no_words": ("{kind: yes_no, table: tab, column: done, yes_words: [ok], "
                     "no_words: [ko]}", YesNoMeasure,
                     {"yes_words": ["ok"], "no_words": ["ko"]}),
}


@pytest.mark.parametrize("name", MEASURES)
def test_every_measure_kind_loads(tmp_path: Path, name: str) -> None:
    text, cls, fields = MEASURES[name]
    spec = load(tmp_path, leaf(measure=text))
    (node,) = spec.criteria
    assert isinstance(node.measure, cls)
    for key, value in fields.items():
        assert getattr(node.measure, key) == value, key
    assert node.is_leaf
    # no rule: scored as entered; a yes/no answer scores yes → max, no → 0
    default = YesNoRule if cls is YesNoMeasure else IdentityRule
    assert type(node.effective_rule) is default


RULES = {
    "identity": ("{kind: identity}", IdentityRule, {"range": None}),
    "identity_range": ("{kind: identity, range: [0, 5]}", IdentityRule, {"range": [0.0, 5.0]}),
    "linear": ("{kind: linear, worst: 0.8, best: 1.0}", LinearRule,
               {"worst": 0.8, "best": 1.0, "log": False}),
    "linear_lower_is_better_log": ("{kind: linear, worst: 100, best: 1, log: true}", LinearRule,
                                   {"worst": 100.0, "best": 1.0, "log": True}),
    "bands": ("{kind: bands, bands: [{at_least: 100, points: 5}, {above: 80, points: 3}, "
              "{at_least: 80, points: 2}], otherwise: 1}", BandsRule, {"otherwise": 1.0}),
    "bands_lower_is_better": ("{kind: bands, bands: [{at_most: 0.01, points: 4}, "
                              "{below: 0.03, points: 2}]}", BandsRule, {"otherwise": 0.0}),
    "minmax": ("{kind: minmax}", MinMaxRule,
               {"direction": "higher_is_better", "across": "level", "range": None}),
    "minmax_options": ("{kind: minmax, direction: lower_is_better, range: [1, 5], "
                       "bounds: [0, 200], across: all}", MinMaxRule,
                       {"range": [1.0, 5.0], "bounds": [0.0, 200.0], "across": "all"}),
    "relative_to_best": ("{kind: relative_to_best, direction: lower_is_better, across: all}",
                         RelativeToBestRule, {"direction": "lower_is_better", "across": "all"}),
    "target": ("{kind: target, target: 0.5}", TargetRule, {"target": 0.5, "otherwise": 0.0}),
    "target_proportional": ("{kind: target, target: 0.5, otherwise: proportional}", TargetRule,
                            {"otherwise": "proportional"}),
    "target_points": ("{kind: target, target: 2, direction: lower_is_better, otherwise: 1.5}",
                      TargetRule, {"otherwise": 1.5, "direction": "lower_is_better"}),
    "count": ("{kind: count, per_item: 0.5, cap: 4}", CountRule, {"per_item": 0.5, "cap": 4.0}),
    "deduction": ("{kind: deduction, per_item: 1, start: 4, floor: 1}", DeductionRule,
                  {"per_item": 1.0, "start": 4.0, "floor": 1.0}),
    "deduction_defaults": ("{kind: deduction, per_item: 0.25}", DeductionRule,
                           {"start": None, "floor": 0.0}),
    "yes_no": ("{kind: yes_no}", YesNoRule, {"yes_points": None, "no_points": 0.0}),
    "yes_no_points": ("{kind: yes_no, yes_points: 4, no_points: 1}", YesNoRule,
                      {"yes_points": 4.0, "no_points": 1.0}),
}


@pytest.mark.parametrize("name", RULES)
def test_every_rule_kind_loads(tmp_path: Path, name: str) -> None:
    text, cls, fields = RULES[name]
    spec = load(tmp_path, leaf(rule=text))
    (node,) = spec.criteria
    assert isinstance(node.rule, cls)
    assert node.effective_rule is node.rule
    for key, value in fields.items():
        assert getattr(node.rule, key) == value, key


def test_yes_no_keys_are_plain_yaml_keys(tmp_path: Path) -> None:
    """The yes/no keys avoid the YAML 1.1 trap (a bare ``yes:`` key is the boolean True)."""
    spec = load(tmp_path, leaf(measure="{kind: yes_no, table: tab, column: c, "
                                       "yes_words: [ok], no_words: [ko]}",
                               rule="{kind: yes_no, yes_points: 4, no_points: 1}"))
    (node,) = spec.criteria
    assert isinstance(node.rule, YesNoRule)
    assert (node.rule.yes_points, node.rule.no_points) == (4.0, 1.0)
    assert isinstance(node.measure, YesNoMeasure)
    assert (node.measure.yes_words, node.measure.no_words) == (["ok"], ["ko"])


def test_a_bare_yes_key_is_refused_where_it_was_written(tmp_path: Path) -> None:
    issues = problems(tmp_path, leaf(rule="{kind: yes_no, yes: 4}"))
    assert [i.location for i in issues] == [f"criteria[0].rule (line {FIRST})"]
    assert "True" in issues[0].message


def test_yes_points_below_no_points(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(rule="{kind: yes_no, yes_points: 1, no_points: 2}"))
    assert issue.location == f"criteria[0].rule (line {FIRST})"
    assert "yes_points must not be below no_points" in issue.message


def _group(aggregation: str | None, *, max: str | None, weights: bool) -> str:
    lines = ["  - id: g", "    name: Group"]
    if aggregation is not None:
        lines.append(f"    aggregation: {aggregation}")
    if max is not None:
        lines.append(f"    max: {max}")
    lines.append("    children:")
    for node_id, top, weight in (("a", 5, 2), ("b", 3, 1)):
        extra = f", weight: {weight}" if weights else ""
        lines.append(f"      - {{id: {node_id}, name: {node_id}, max: {top}{extra}, "
                     f"measure: {COL}}}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("aggregation", "max", "weights", "expected_max"),
    [
        (None, None, False, 8.0),  # default: sum, maximum = sum of the children's
        ("sum", "8", False, 8.0),
        ("weighted_mean", "10", True, 10.0),
        ("weighted_mean", "10", False, 10.0),  # weights default to 1
        ("geometric_mean", "100", True, 100.0),
        ("share_of_max", "100", False, 100.0),
    ],
)
def test_every_aggregation_loads_on_a_node(tmp_path: Path, aggregation: str | None,
                                           max: str | None, weights: bool,
                                           expected_max: float) -> None:
    spec = load(tmp_path, _group(aggregation, max=max, weights=weights))
    (group,) = spec.criteria
    assert group.effective_aggregation == (aggregation or "sum")
    assert group.declared_max() == expected_max
    assert group.children is not None and [c.id for c in group.children] == ["a", "b"]
    assert [c.weight for c in group.children] == ([2.0, 1.0] if weights else [None, None])


def test_geometric_mean_node_takes_a_zero_floor(tmp_path: Path) -> None:
    text = _group("geometric_mean", max="10", weights=False).replace(
        "    max: 10\n", "    max: 10\n    zero_floor: 0.01\n")
    (group,) = load(tmp_path, text).criteria
    assert group.zero_floor == 0.01


@pytest.mark.parametrize("aggregation", ["sum", "weighted_mean", "geometric_mean",
                                         "share_of_max"])
def test_every_aggregation_loads_at_the_top(tmp_path: Path, aggregation: str) -> None:
    top = "" if aggregation == "sum" else "max: 100\n"
    weight = "weight: 2" if aggregation in ("weighted_mean", "geometric_mean") else ""
    header = HEADER.replace("criteria:\n", f"aggregation: {aggregation}\n{top}criteria:\n")
    spec = load(tmp_path, leaf("a", extra=weight) + leaf("b", max="3"), header=header)
    assert spec.aggregation == aggregation
    assert spec.as_root().declared_max() == (8.0 if aggregation == "sum" else 100.0)


POLICIES = ["error", "zero", "reweight", "impute_level_mean", "impute_group_mean"]


@pytest.mark.parametrize("policy", POLICIES)
def test_every_missing_policy_loads(tmp_path: Path, policy: str) -> None:
    header = HEADER.replace("criteria:\n", f"missing: {policy}\ncriteria:\n")
    spec = load(tmp_path, leaf("a", extra=f"missing: {policy}") + leaf("b"), header=header)
    assert spec.missing == policy
    assert [n.missing for n in spec.criteria] == [policy, None]


def test_missing_policy_defaults_to_error(tmp_path: Path) -> None:
    spec = load(tmp_path, leaf())
    assert spec.missing == "error"
    assert spec.criteria[0].missing is None


def test_unknown_missing_policy_is_refused(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(extra="missing: skip"))
    assert issue.code == "literal_error"
    assert issue.location == f"criteria[0].missing (line {FIRST})"
    assert "'skip'" in issue.message and "reweight" in issue.message


def test_applies_to_and_tiers_load(tmp_path: Path) -> None:
    header = HEADER.replace("criteria:\n", "levels: [department, commune]\ncriteria:\n")
    after = ("tiers:\n  - {name: Good, at_least: 90}\n  - {name: Fair, above: 80}\n"
             "  - {name: Average, at_least: 80}\n  - {name: Weak}\n")
    spec = load(tmp_path, leaf(extra="applies_to: {levels: [department], except_units: [u1]}"),
                after=after, header=header)
    applies = spec.criteria[0].applies_to
    assert applies is not None and applies.levels == ["department"]
    assert applies.except_units == ["u1"]
    assert spec.tiers is not None
    assert [(t.name, t.at_least, t.above) for t in spec.tiers] == [
        ("Good", 90.0, None), ("Fair", None, 80.0), ("Average", 80.0, None), ("Weak", None, None)]


def test_a_loaded_spec_is_frozen(tmp_path: Path) -> None:
    spec = load(tmp_path, leaf())
    with pytest.raises(ValueError, match="frozen"):
        spec.criteria[0].max = 7  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Structural checks: one bad file each
# --------------------------------------------------------------------------------------------


def test_unknown_key_on_a_node(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(extra="colour: red"))
    assert issue.code == "extra_forbidden"
    assert issue.location == f"criteria[0].colour (line {FIRST})"
    assert "not a known key" in issue.message


def test_unknown_key_at_the_top_level(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(), after="aggregaton: sum\n")
    assert issue.code == "extra_forbidden"
    assert issue.location == f"aggregaton (line {FIRST + 1})"


def test_unknown_key_in_a_rule(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(rule="{kind: linear, worst: 0, best: 1, bset: 2}"))
    assert issue.code == "extra_forbidden"
    assert issue.location == f"criteria[0].rule.bset (line {FIRST})"


def test_unknown_key_in_a_band(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(rule="{kind: bands, bands: [{at_least: 1, points: 2, "
                                             "pts: 3}]}"))
    assert issue.code == "extra_forbidden"
    assert issue.location == f"criteria[0].rule.bands[0].pts (line {FIRST})"


def test_unknown_key_in_a_ratio_measure(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(measure="{kind: ratio, table: tab, numerator: [n], "
                                                "denominator: [d], when_zer: full}"))
    assert issue.code == "extra_forbidden"
    assert issue.location == f"criteria[0].measure.when_zer (line {FIRST})"


def test_unknown_key_in_a_column_measure_is_located_on_that_key(tmp_path: Path) -> None:
    """The measure kind ``column`` is also a key of the column measure: the location must
    still name the unknown key, not the ``column`` key."""
    issue = only_problem(tmp_path, leaf(measure="{kind: column, table: tab, column: c, "
                                                "colum: d}"))
    assert issue.code == "extra_forbidden"
    assert issue.location == f"criteria[0].measure.colum (line {FIRST})"


def test_wrong_value_in_a_target_rule_is_located_on_that_key(tmp_path: Path) -> None:
    """The rule kind ``target`` is also a key of the target rule (same trap as ``column``)."""
    issue = only_problem(tmp_path, leaf(rule="{kind: target, target: 1, direction: up}"))
    assert issue.code == "literal_error"
    assert issue.location == f"criteria[0].rule.direction (line {FIRST})"


def test_unknown_measure_kind(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(measure="{kind: colum, table: tab, column: c}"))
    assert issue.code == "union_tag_invalid"
    assert issue.location == f"criteria[0].measure (line {FIRST})"
    assert "'colum'" in issue.message and "'column'" in issue.message


def test_unknown_rule_kind(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(rule="{kind: band}"))
    assert issue.code == "union_tag_invalid"
    assert issue.location == f"criteria[0].rule (line {FIRST})"
    assert "'bands'" in issue.message


def test_missing_required_key(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(rule="{kind: linear, worst: 0}"))
    assert issue.code == "missing"
    assert issue.location == f"criteria[0].rule.best (line {FIRST})"
    assert issue.message == "is required."


@pytest.mark.parametrize(
    ("field", "value", "code", "shown"),
    [
        ("max", "yes", "float_type", "True"),  # YAML 1.1 boolean: not a number
        ("max", '"5"', "float_type", "'5'"),  # a string is not silently a number
        ("max", "[5]", "float_type", None),
        ("weight", "'0.5'", "float_type", "'0.5'"),
        ("name", "yes", "string_type", "True"),
        ("id", "12", "string_type", "12"),
    ],
)
def test_wrong_type_is_refused(tmp_path: Path, field: str, value: str, code: str,
                               shown: str | None) -> None:
    header = HEADER.replace("criteria:\n", "aggregation: weighted_mean\nmax: 10\ncriteria:\n")
    node = {"id": "a", "name": "A", "max": "5", "weight": "1", field: value}
    text = ("  - {" + ", ".join(f"{k}: {v}" for k, v in node.items())
            + f", measure: {COL}}}\n")
    issue = only_problem(tmp_path, text, header=header)
    assert issue.code == code
    assert issue.location == f"criteria[0].{field} (line {FIRST + 2})"
    if shown is not None:
        assert f"Got {shown} instead" in issue.message


def test_year_as_a_string_is_refused(tmp_path: Path) -> None:
    header = HEADER.replace("name: Test index\n", "name: Test index\nyear: '2025'\n")
    issue = only_problem(tmp_path, leaf(), header=header)
    assert issue.code == "int_type"
    assert issue.location == "year (line 3)"


@pytest.mark.parametrize(("field", "value"), [("max", "0"), ("max", "-1"), ("weight", "-2"),
                                              ("weight", "0")])
def test_non_positive_max_or_weight_is_refused(tmp_path: Path, field: str, value: str) -> None:
    header = HEADER.replace("criteria:\n", "aggregation: weighted_mean\nmax: 10\ncriteria:\n")
    extra = f"weight: {value}" if field == "weight" else ""
    issue = only_problem(tmp_path, leaf(max=value if field == "max" else "5", extra=extra),
                         header=header)
    assert issue.code == "greater_than"
    assert issue.location == f"criteria[0].{field} (line {FIRST + 2})"
    assert "greater than 0" in issue.message


@pytest.mark.parametrize(("where", "text"), [
    ("max", "max: .inf"),
    ("max", "max: .nan"),
    ("rule.best", "rule: {kind: linear, worst: 0, best: .inf}"),
    ("rule.worst", "rule: {kind: linear, worst: .nan, best: 1}"),
    ("rule.target", "rule: {kind: target, target: .nan}"),
])
def test_infinite_or_nan_numbers_are_refused(tmp_path: Path, where: str, text: str) -> None:
    """``.inf``/``.nan`` are YAML floats, but no maximum, goalpost or target can be one."""
    top = "" if where == "max" else "max: 5, "
    body = f"  - {{id: a, name: A, {top}measure: {COL}, {text}}}\n"
    issues = problems(tmp_path, body)
    assert any(i.location.startswith(f"criteria[0].{where}") for i in issues), issues


def test_duplicate_node_id(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf("a") + leaf("b") + leaf("a"))
    assert issue.code == "duplicate_id"
    assert issue.location == f"criteria[2].id (line {FIRST + 2})"
    assert "'a'" in issue.message and "criteria[0].id" in issue.message


def test_duplicate_id_across_levels_and_with_the_index(tmp_path: Path) -> None:
    text = ("  - id: g\n    name: G\n    children:\n"
            f"      - {{id: t, name: T, max: 1, measure: {COL}}}\n"
            f"      - {{id: g, name: G, max: 1, measure: {COL}}}\n")
    issues = problems(tmp_path, text)
    assert {(i.code, i.location) for i in issues} == {
        ("duplicate_id", f"criteria[0].children[0].id (line {FIRST + 3})"),
        ("duplicate_id", f"criteria[0].children[1].id (line {FIRST + 4})"),
    }
    by_location = {i.location.split(" ")[0]: i.message for i in issues}
    assert "already used at id" in by_location["criteria[0].children[0].id"]
    assert "already used at criteria[0].id" in by_location["criteria[0].children[1].id"]


def test_invalid_node_id(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf("'a b'"))
    assert issue.code == "string_pattern_mismatch"
    assert issue.location == f"criteria[0].id (line {FIRST})"
    assert "'a b'" in issue.message


def test_unknown_table_in_a_measure(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(measure="{kind: column, table: tabs, column: c}"))
    assert issue.code == "unknown_table"
    assert issue.location == f"criteria[0].measure.table (line {FIRST})"
    assert "'tabs'" in issue.message and "['srv', 'tab']" in issue.message
    assert issue.hint == "Did you mean 'tab'?"


def test_unknown_units_table(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(), header=HEADER.replace("{table: tab}", "{table: tbl}"))
    assert issue.code == "unknown_table"
    assert issue.location == "units.table (line 6)"
    assert "'tbl'" in issue.message


def test_units_table_required_with_several_inputs(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(), header=HEADER.replace("units: {table: tab}\n", ""))
    assert issue.code == "units_table_required"
    assert issue.location == "units.table"


def test_survey_measure_on_a_table_input(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(measure="{kind: survey, table: tab, questions: [q1], "
                                                "statistic: mean}"))
    assert issue.code == "not_a_survey"
    assert issue.location == f"criteria[0].measure.table (line {FIRST})"
    assert "'tab'" in issue.message and "'table'" in issue.message


@pytest.mark.parametrize(("measure", "message"), [
    ("{kind: survey, table: srv, questions: [q1]}", "needs a threshold"),
    ("{kind: survey, table: srv, questions: [q1], statistic: mean, threshold: 4}",
     "no meaning for statistic 'mean'"),
    ("{kind: survey, table: srv, questions: []}", "at least 1 item"),
])
def test_survey_measure_checks(tmp_path: Path, measure: str, message: str) -> None:
    issue = only_problem(tmp_path, leaf(measure=measure))
    assert issue.location.startswith("criteria[0].measure")
    assert f"(line {FIRST})" in issue.location
    assert message in issue.message


def test_sum_node_max_must_equal_the_sum_of_its_children(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, _group(None, max="9", weights=False))
    assert issue.code == "value_error"
    assert issue.location == f"criteria[0] (line {FIRST})"
    assert "sum of the children's maxima (8)" in issue.message
    assert "Got 9 instead" in issue.message


def test_nested_sum_maxima_are_added_up(tmp_path: Path) -> None:
    text = ("  - id: g\n    name: G\n    max: 10\n    children:\n"
            "      - id: h\n        name: H\n        children:\n"
            f"          - {{id: a, name: A, max: 5, measure: {COL}}}\n"
            f"          - {{id: b, name: B, max: 4, measure: {COL}}}\n"
            f"      - {{id: c, name: C, max: 2, measure: {COL}}}\n")
    issue = only_problem(tmp_path, text)
    assert issue.location == f"criteria[0] (line {FIRST})"
    assert "(11)" in issue.message and "Got 10" in issue.message
    spec = load(tmp_path, text.replace("max: 10", "max: 11"))
    assert spec.criteria[0].declared_max() == 11.0


def test_weights_under_a_sum_node(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, _group("sum", max=None, weights=True))
    assert issue.code == "value_error"
    assert issue.location == f"criteria[0] (line {FIRST})"
    assert "weight has no effect under aggregation 'sum'" in issue.message
    assert "['a', 'b']" in issue.message


@pytest.mark.parametrize("aggregation", ["weighted_mean", "geometric_mean", "share_of_max"])
def test_a_mean_node_needs_a_max(tmp_path: Path, aggregation: str) -> None:
    issue = only_problem(tmp_path, _group(aggregation, max=None, weights=False))
    assert issue.location == f"criteria[0] (line {FIRST})"
    assert f"aggregation '{aggregation}' needs a max" in issue.message


def test_zero_floor_only_on_geometric_mean(tmp_path: Path) -> None:
    text = _group("weighted_mean", max="10", weights=False).replace(
        "    max: 10\n", "    max: 10\n    zero_floor: 0.01\n")
    issue = only_problem(tmp_path, text)
    assert issue.location == f"criteria[0] (line {FIRST})"
    assert "zero_floor applies to geometric_mean only" in issue.message


# The index itself is the root node of the tree: the same checks apply to it.


def test_top_level_sum_max_must_equal_the_sum_of_the_areas(tmp_path: Path) -> None:
    header = HEADER.replace("criteria:\n", "max: 100\ncriteria:\n")
    issue = only_problem(tmp_path, leaf("a") + leaf("b", max="3"), header=header)
    assert issue.location == "(top level)"
    assert "sum of the children's maxima (8)" in issue.message and "Got 100" in issue.message


@pytest.mark.parametrize("aggregation", ["sum", "share_of_max"])
def test_top_level_weights_without_effect(tmp_path: Path, aggregation: str) -> None:
    header = HEADER.replace("criteria:\n", f"aggregation: {aggregation}\nmax: 8\ncriteria:\n")
    issue = only_problem(tmp_path, leaf("a", extra="weight: 2") + leaf("b", max="3"),
                         header=header)
    assert issue.location == "(top level)"
    assert f"weight has no effect under aggregation '{aggregation}'" in issue.message


def test_weights_under_a_share_of_max_node(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, _group("share_of_max", max="10", weights=True))
    assert issue.location == f"criteria[0] (line {FIRST})"
    assert "weight has no effect under aggregation 'share_of_max'" in issue.message


@pytest.mark.parametrize("aggregation", ["weighted_mean", "geometric_mean", "share_of_max"])
def test_top_level_mean_needs_a_max(tmp_path: Path, aggregation: str) -> None:
    header = HEADER.replace("criteria:\n", f"aggregation: {aggregation}\ncriteria:\n")
    issue = only_problem(tmp_path, leaf("a") + leaf("b"), header=header)
    assert issue.location == "(top level)"
    assert f"aggregation '{aggregation}' needs a max" in issue.message


def test_top_level_zero_floor_only_on_geometric_mean(tmp_path: Path) -> None:
    header = HEADER.replace("criteria:\n", "zero_floor: 0.1\ncriteria:\n")
    issue = only_problem(tmp_path, leaf(), header=header)
    assert issue.location == "(top level)"
    assert "zero_floor applies to geometric_mean only" in issue.message


def test_zero_floor_on_a_leaf(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(extra="zero_floor: 0.1"))
    assert issue.location == f"criteria[0] (line {FIRST})"
    assert "zero_floor belongs on a geometric_mean node" in issue.message


def test_a_top_level_id_may_not_be_a_ranking_column(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf("score"))
    assert issue.code == "reserved_id"
    assert issue.location == f"criteria[0].id (line {FIRST})"
    assert "'score'" in issue.message
    # deeper down the same id is fine: it is not a column of the ranking table
    load(tmp_path, "  - id: g\n    name: G\n    children:\n" + "  " + leaf("score"))


def test_dont_know_codes_on_the_answer_scale(tmp_path: Path) -> None:
    header = HEADER.replace("{min: 1, max: 5}}", "{min: 1, max: 5}, dont_know: [3, 9]}")
    issue = only_problem(tmp_path, leaf(), header=header)
    assert issue.location == "inputs.srv (line 5)"
    assert "dont_know codes must lie outside the answer scale" in issue.message
    assert "[3]" in issue.message


def test_survey_threshold_off_the_answer_scale(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(measure="{kind: survey, table: srv, questions: [q1], "
                                                "threshold: 7}"))
    assert issue.code == "threshold_off_scale"
    assert issue.location == f"criteria[0].measure.threshold (line {FIRST})"


def test_missing_when_reads_a_known_table(tmp_path: Path) -> None:
    spec = load(tmp_path, leaf(extra="missing_when: {table: tab, column: coast, values: [0]}"))
    assert spec.criteria[0].missing_when is not None
    issue = only_problem(tmp_path, leaf(extra="missing_when: {table: tbl, column: x, "
                                              "values: [0]}"))
    assert issue.code == "unknown_table"
    assert issue.location == f"criteria[0].missing_when.table (line {FIRST})"


def test_leaf_without_measure(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, "  - {id: a, name: A, max: 5}\n")
    assert issue.code == "value_error"
    assert issue.location == f"criteria[0] (line {FIRST})"
    assert "a leaf (no children) needs a measure" in issue.message


def test_leaf_without_max(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, f"  - {{id: a, name: A, measure: {COL}}}\n")
    assert issue.location == f"criteria[0] (line {FIRST})"
    assert "a leaf needs a max" in issue.message


def test_leaf_with_an_aggregation(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(extra="aggregation: sum"))
    assert "aggregation belongs on a node with children" in issue.message


@pytest.mark.parametrize("extra", [f"measure: {COL}", "rule: {kind: identity}"])
def test_inner_node_with_a_measure_or_rule(tmp_path: Path, extra: str) -> None:
    text = ("  - id: g\n    name: G\n" f"    {extra}\n" "    children:\n"
            f"      - {{id: a, name: A, max: 5, measure: {COL}}}\n")
    issue = only_problem(tmp_path, text)
    assert issue.code == "value_error"
    assert issue.location == f"criteria[0] (line {FIRST})"
    assert "a node with children takes no measure or rule" in issue.message


def test_inner_node_with_no_children(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, "  - {id: g, name: G, children: []}\n")
    assert issue.code == "too_short"
    assert issue.location == f"criteria[0].children (line {FIRST})"


def test_appraisal_takes_no_scoring_rule(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(measure="{kind: appraisal, table: tab, appraised: p}",
                                        rule="{kind: linear, worst: 0, best: 5}"))
    assert issue.location == f"criteria[0] (line {FIRST})"
    assert "appraisal points are scored as entered" in issue.message


BANDS_HEADER = "    rule:\n      kind: bands\n      bands:\n"


def _bands_leaf(*bands: str, max: int = 3, otherwise: str | None = None) -> str:
    text = (f"  - id: a\n    name: A\n    max: {max}\n    measure: {COL}\n" + BANDS_HEADER
            + "".join(f"        - {b}\n" for b in bands))
    if otherwise is not None:
        text += f"      otherwise: {otherwise}\n"
    return text


def _bands_line(issue: Issue) -> int:
    match = re.search(r"\(line (\d+)\)$", issue.location)
    assert match, issue.location
    return int(match.group(1))


def test_bands_out_of_order(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, _bands_leaf("{at_least: 70, points: 1}",
                                               "{at_least: 80, points: 2}"))
    assert issue.code == "value_error"
    assert issue.location.startswith("criteria[0].rule.bands (line ")
    # the `bands:` key is on line FIRST + 6, its first item on FIRST + 7
    assert _bands_line(issue) in (FIRST + 6, FIRST + 7)
    assert "ordered from the best band down (decreasing thresholds)" in issue.message
    assert "Got 70.0 then 80.0 at positions 0 and 1" in issue.message


def test_lower_is_better_bands_out_of_order(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, _bands_leaf("{at_most: 3, points: 2}",
                                               "{at_most: 1, points: 1}"))
    assert issue.location.startswith("criteria[0].rule.bands (line ")
    assert "(increasing thresholds)" in issue.message


def test_bands_facing_both_ways(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, _bands_leaf("{at_least: 3, points: 2}",
                                               "{at_most: 1, points: 1}"))
    assert issue.location.startswith("criteria[0].rule.bands (line ")
    assert "use one direction" in issue.message


def test_band_with_two_edges(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, _bands_leaf("{at_least: 3, above: 2, points: 2}"))
    assert issue.location == f"criteria[0].rule.bands[0] (line {FIRST + 7})"
    assert "exactly one of at_least, above, at_most, below" in issue.message


def test_band_points_increasing_down_the_list(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, _bands_leaf("{at_least: 80, points: 1}",
                                               "{at_least: 70, points: 2}"))
    assert issue.code == "value_error"
    assert issue.location.startswith("criteria[0].rule.bands (line ")
    assert "band points must not increase down the list" in issue.message
    assert "Got 1.0 then 2.0" in issue.message


def test_otherwise_above_the_last_band(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, _bands_leaf("{at_least: 80, points: 1}", otherwise="2"))
    assert "band points must not increase down the list" in issue.message


def test_band_points_above_max(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, _bands_leaf("{at_least: 80, points: 5}",
                                               "{at_least: 70, points: 2}", max=3))
    assert issue.code == "value_error"
    assert issue.location.startswith("criteria[0]")
    assert f"(line {FIRST})" in issue.location
    assert "bands[0].points 5.0 exceeds max 3.0" in issue.message


def test_otherwise_above_max(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(max="1", rule="{kind: bands, bands: [{at_least: 1, "
                                                      "points: 4}], otherwise: 4}"))
    assert "bands[0].points 4.0 exceeds max 1.0" in issue.message
    assert "otherwise 4.0 exceeds max 1.0" in issue.message


@pytest.mark.parametrize(("rule", "message"), [
    ("{kind: count, per_item: 1, cap: 6}", "cap 6.0 exceeds max 5.0"),
    ("{kind: deduction, per_item: 1, start: 6}", "deduction needs floor <= start <= max 5.0"),
    ("{kind: deduction, per_item: 1, start: 2, floor: 3}", "deduction needs floor <= start"),
    ("{kind: target, target: 1, otherwise: 6}", "otherwise 6.0 exceeds max 5.0"),
    ("{kind: yes_no, yes_points: 6}", "6.0 exceed max 5.0"),
    ("{kind: identity, range: [0, 6]}", "must lie within [0, max 5.0]"),
    ("{kind: minmax, range: [-1, 5]}", "must lie within [0, max 5.0]"),
])
def test_rule_points_above_the_leaf_max(tmp_path: Path, rule: str, message: str) -> None:
    issue = only_problem(tmp_path, leaf(rule=rule))
    assert issue.location == f"criteria[0] (line {FIRST})"
    assert message in issue.message


def test_linear_goalposts_equal(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(rule="{kind: linear, worst: 0.5, best: 0.5}"))
    assert issue.code == "value_error"
    assert issue.location == f"criteria[0].rule (line {FIRST})"
    assert issue.message == "goalposts worst and best must differ. Got 0.5 for both."


def test_linear_log_needs_positive_goalposts(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(rule="{kind: linear, worst: 0, best: 10, log: true}"))
    assert issue.location == f"criteria[0].rule (line {FIRST})"
    assert "log: true needs positive goalposts" in issue.message


@pytest.mark.parametrize(("pair", "message"), [
    ("range: [4, 1]", "range must be [low, high] with low < high. Got [4.0, 1.0]"),
    ("range: [2, 2]", "range must be [low, high] with low < high"),
    ("bounds: [10, 0]", "bounds must be [min, max] with min < max. Got [10.0, 0.0]"),
])
def test_minmax_range_or_bounds_inverted(tmp_path: Path, pair: str, message: str) -> None:
    issue = only_problem(tmp_path, leaf(rule=f"{{kind: minmax, {pair}}}"))
    assert issue.code == "value_error"
    assert issue.location == f"criteria[0].rule (line {FIRST})"
    assert message in issue.message


def test_minmax_range_not_a_pair(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(rule="{kind: minmax, range: [0, 1, 2]}"))
    assert issue.code == "too_long"
    assert issue.location == f"criteria[0].rule.range (line {FIRST})"


TIERS = "tiers:\n"


def test_tiers_out_of_order(tmp_path: Path) -> None:
    after = TIERS + "  - {name: A, at_least: 80}\n  - {name: B, at_least: 90}\n  - {name: C}\n"
    issue = only_problem(tmp_path, leaf(), after=after)
    assert issue.code == "tier_order"
    assert issue.location == f"tiers[1] (line {FIRST + 3})"
    assert "decreasing thresholds" in issue.message
    assert "Got 80.0 at tiers[0] then 90.0" in issue.message


def test_equal_tier_edges(tmp_path: Path) -> None:
    after = TIERS + "  - {name: A, at_least: 80}\n  - {name: B, at_least: 80}\n"
    issue = only_problem(tmp_path, leaf(), after=after)
    assert issue.code == "tier_order"
    assert issue.location == f"tiers[1] (line {FIRST + 3})"


def test_tier_without_edge_not_last(tmp_path: Path) -> None:
    after = TIERS + "  - {name: A, at_least: 80}\n  - {name: B}\n  - {name: C, at_least: 50}\n"
    issue = only_problem(tmp_path, leaf(), after=after)
    assert issue.code == "tier_order"
    assert issue.location == f"tiers[1] (line {FIRST + 3})"
    assert "only the last tier may have no at_least/above" in issue.message


def test_tier_with_both_edges(tmp_path: Path) -> None:
    after = TIERS + "  - {name: A, at_least: 80, above: 70}\n  - {name: B}\n"
    issue = only_problem(tmp_path, leaf(), after=after)
    assert issue.code == "tier_edges"
    assert issue.location == f"tiers[0] (line {FIRST + 2})"


def test_duplicate_tier_names(tmp_path: Path) -> None:
    after = TIERS + "  - {name: A, at_least: 80}\n  - {name: A}\n"
    issue = only_problem(tmp_path, leaf(), after=after)
    assert issue.code == "duplicate_tier"
    assert issue.location == f"tiers (line {FIRST + 2})"


def test_tier_edge_given_as_text(tmp_path: Path) -> None:
    after = TIERS + "  - {name: A, at_least: '80'}\n  - {name: B}\n"
    issue = only_problem(tmp_path, leaf(), after=after)
    assert issue.code == "float_type"
    assert issue.location == f"tiers[0].at_least (line {FIRST + 2})"


def test_level_in_applies_to_not_in_levels(tmp_path: Path) -> None:
    header = HEADER.replace("criteria:\n", "levels: [department, commune]\ncriteria:\n")
    issue = only_problem(tmp_path, leaf(extra="applies_to: {levels: [departments]}"),
                         header=header)
    assert issue.code == "unknown_level"
    assert issue.location == f"criteria[0].applies_to.levels (line {FIRST + 1})"
    assert "['department', 'commune']" in issue.message and "'departments'" in issue.message
    assert issue.hint == "Did you mean 'department'?"


def test_unknown_key_in_applies_to(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(extra="applies_to: {level: [x]}"))
    assert issue.code == "extra_forbidden"
    assert issue.location == f"criteria[0].applies_to.level (line {FIRST})"


def test_level_and_level_column_conflict(tmp_path: Path) -> None:
    header = HEADER.replace("{table: tab}", "{table: tab, level: x, level_column: lvl}")
    issue = only_problem(tmp_path, leaf(), header=header)
    assert issue.code == "conflict"
    assert issue.location == "units (line 6)"


def test_survey_scale_inverted(tmp_path: Path) -> None:
    header = HEADER.replace("{min: 1, max: 5}", "{min: 5, max: 1}")
    issue = only_problem(tmp_path, leaf(), header=header)
    assert issue.location == "inputs.srv.scale (line 5)"
    assert "scale min must be below max" in issue.message


def test_unknown_input_kind(tmp_path: Path) -> None:
    header = HEADER.replace("{kind: table, unit_column: unit}", "{kind: sheet, unit_column: unit}")
    issue = only_problem(tmp_path, leaf(), header=header)
    assert issue.code == "union_tag_invalid"
    assert issue.location == "inputs.tab (line 4)"


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, "", header="- a\n- b\n")
    assert issue.code == "not_a_mapping"
    assert issue.location == "(top level)"


def test_missing_top_level_keys(tmp_path: Path) -> None:
    issues = problems(tmp_path, "", header="name: Only a name\n")
    assert {(i.code, i.location) for i in issues} == {
        ("missing", "id"), ("missing", "inputs"), ("missing", "criteria")}


# --------------------------------------------------------------------------------------------
# Every problem at once
# --------------------------------------------------------------------------------------------

MANY = """\
id: t
name: Test index
year: '2025'
levels: [department, commune]
inputs:
  tab: {kind: table, unit_column: unit}
criteria:
  - id: g
    name: G
    children:
      - {id: a, name: A, max: 5, measure: {kind: column, table: tabb, column: c}}
      - {id: a, name: B, max: 3, measure: &m {kind: column, table: tab, column: c}, colour: red}
      - {id: d, name: D, max: 2, measure: *m, applies_to: {levels: [dept]}}
  - id: h
    name: H
    max: 2
    measure: {kind: column, table: tab, column: c}
    rule: {kind: linear, worst: 1, best: 1}
  - {id: k, name: K, max: "4", measure: {kind: yes_no, table: tab, column: c}}
tiers:
  - {name: X, at_least: 1}
  - {name: Y, at_least: 2}
"""


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(MANY, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    found = sorted((i.code, i.location) for i in info.value.issues)
    assert found == sorted([
        ("int_type", "year (line 3)"),
        ("unknown_table", "criteria[0].children[0].measure.table (line 11)"),
        ("duplicate_id", "criteria[0].children[1].id (line 12)"),
        ("extra_forbidden", "criteria[0].children[1].colour (line 12)"),
        ("unknown_level", "criteria[0].children[2].applies_to.levels (line 13)"),
        ("value_error", "criteria[1].rule (line 18)"),
        ("float_type", "criteria[2].max (line 19)"),
        ("tier_order", "tiers[1] (line 22)"),
    ])
    assert len(info.value.issues) == 8
    assert "8 problem(s)" in info.value.summary
    # the rendered error names every location, one per line
    text = str(info.value)
    for _, location in found:
        assert location in text
    assert validate_spec(path) == list(info.value.issues)


# --------------------------------------------------------------------------------------------
# ratio: a denominator in another table, and "per N"
# --------------------------------------------------------------------------------------------

REG_HEADER = HEADER.replace("  srv:", "  reg: {kind: table, unit_column: unit}\n  srv:")
REG_FIRST = FIRST + 1  # the extra input line moves the first criterion down


def ratio(extra: str) -> str:
    return "{kind: ratio, table: tab, numerator: [online], denominator: [pop], " + extra + "}"


def test_ratio_with_a_denominator_table_and_per_loads(tmp_path: Path) -> None:
    spec = load(tmp_path, leaf(measure=ratio("denominator_table: reg, per: 1000")),
                header=REG_HEADER)
    measure = spec.criteria[0].measure
    assert isinstance(measure, RatioMeasure)
    assert measure.denominator_table == "reg" and measure.per == 1000.0
    assert measure.percent is False and measure.bounded is True
    # without them: the same table, no factor (what every existing file means)
    plain = load(tmp_path, leaf(measure=ratio("when_zero: full"))).criteria[0].measure
    assert isinstance(plain, RatioMeasure)
    assert plain.denominator_table is None and plain.per is None


def test_ratio_percent_and_per_together_are_refused(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(measure=ratio("percent: true, per: 100")))
    assert issue.location == f"criteria[0].measure (line {FIRST})"
    assert "declare percent: true or per: 100, not both" in issue.message


@pytest.mark.parametrize("value", ["0", "-1000", "-0.5"])
def test_ratio_per_must_be_positive(tmp_path: Path, value: str) -> None:
    issue = only_problem(tmp_path, leaf(measure=ratio(f"per: {value}")))
    assert issue.code == "greater_than"
    assert issue.location == f"criteria[0].measure.per (line {FIRST})"
    assert "greater than 0" in issue.message


def test_ratio_unknown_denominator_table(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(measure=ratio("denominator_table: regs")),
                         header=REG_HEADER)
    assert issue.code == "unknown_table"
    assert issue.location == f"criteria[0].measure.denominator_table (line {REG_FIRST})"
    assert issue.message == (
        "denominator_table must be one of the inputs ['reg', 'srv', 'tab']. Got 'regs' instead."
    )
    assert issue.hint == "Did you mean 'reg'?"


def test_ratio_survey_input_as_denominator_table(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(measure=ratio("denominator_table: srv")))
    assert issue.code == "not_a_table"
    assert issue.location == f"criteria[0].measure.denominator_table (line {FIRST})"
    assert "'srv'" in issue.message and "'survey'" in issue.message


def test_ratio_denominator_table_naming_its_own_table(tmp_path: Path) -> None:
    issue = only_problem(tmp_path, leaf(measure=ratio("denominator_table: tab")))
    assert issue.location == f"criteria[0].measure (line {FIRST})"
    assert "denominator_table 'tab' is the measure's own table; remove it" in issue.message
