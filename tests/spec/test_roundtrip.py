"""Property tests: random valid criteria files survive ``dump_spec`` → ``load_spec`` unchanged, and
one invalid mutation of a valid file is always refused with the expected issue code.

The strategy builds plain data (what a YAML file holds), then validates it with
``spec_from_data``: a generated file that is refused means the strategy or the validator is wrong,
and the failure shows the issues.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from par_index.errors import SpecError
from par_index.spec import IndexSpec, dump_spec, load_spec, spec_from_data
from par_index.spec.checks import RESERVED_IDS

AGGREGATIONS = ["sum", "weighted_mean", "geometric_mean", "share_of_max"]
POLICIES = ["error", "zero", "reweight", "impute_level_mean", "impute_group_mean"]
DIRECTIONS = ["higher_is_better", "lower_is_better"]

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,11}", fullmatch=True)
# U+0085 (NEL) is left out here: PyYAML's emitter folds it (see test_a_next_line_character_...)
characters = st.characters(codec="utf-8", exclude_characters="\x85")
texts = st.text(characters, min_size=1, max_size=16)
columns = st.text(characters, max_size=12)
column_lists = st.lists(columns, min_size=1, max_size=3)
finite = st.floats(allow_nan=False, allow_infinity=False)
halves = st.integers(min_value=1, max_value=40).map(lambda k: k / 2)  # 0.5 … 20, exact sums


def _maybe(draw: st.DrawFn, data: dict[str, Any], key: str, strategy: st.SearchStrategy[Any]
           ) -> None:
    """Set ``key`` to a drawn value, or leave it out (so defaults are exercised too)."""
    if draw(st.booleans()):
        data[key] = draw(strategy)


def _grid_pair(draw: st.DrawFn, top: float) -> list[float]:
    """[low, high] with 0 <= low < high <= top, on a grid of quarters."""
    steps = int(top * 4)
    low, high = sorted(draw(st.lists(st.integers(0, steps), min_size=2, max_size=2,
                                     unique=True)))
    return [low / 4, high / 4]


def _points(draw: st.DrawFn, top: float) -> float:
    return draw(st.integers(0, int(top * 4))) / 4


@st.composite
def inputs_strategy(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(ids, min_size=1, max_size=3, unique=True))
    inputs: dict[str, Any] = {}
    survey_count = draw(st.integers(0, len(names) - 1))  # at least one table input
    for i, name in enumerate(names):
        entry: dict[str, Any] = {"unit_column": draw(columns)}
        if i < len(names) - survey_count:
            entry = {"kind": "table", **entry}
        else:
            low = draw(st.integers(-5, 5))
            high = low + draw(st.integers(1, 10))
            entry = {"kind": "survey", **entry, "scale": {"min": low, "max": high}}
            off_scale = st.integers(-99, 99).filter(lambda c, lo=low, hi=high: not lo <= c <= hi)
            _maybe(draw, entry, "dont_know", st.lists(off_scale, max_size=3))
            _maybe(draw, entry, "weight_column", columns)
            _maybe(draw, entry, "respondent_column", columns)
        _maybe(draw, entry, "sheet", texts)
        _maybe(draw, entry, "header_row", st.integers(1, 50))
        _maybe(draw, entry, "decimal", st.sampled_from([".", ","]))
        _maybe(draw, entry, "encoding", st.sampled_from(["utf-8", "cp1258", "latin-1"]))
        _maybe(draw, entry, "description", texts)
        inputs[name] = entry
    return inputs


def measure_strategy(draw: st.DrawFn, inputs: dict[str, Any]) -> dict[str, Any]:
    tables = sorted(n for n, i in inputs.items() if i["kind"] == "table")
    surveys = sorted(n for n, i in inputs.items() if i["kind"] == "survey")
    kinds = ["column", "ratio", "appraisal", "yes_no"] + (["survey"] if surveys else [])
    kind = draw(st.sampled_from(kinds))
    any_table = st.sampled_from(sorted(inputs))
    if kind == "column":
        measure = {"kind": kind, "table": draw(any_table), "column": draw(columns)}
        _maybe(draw, measure, "reduce", st.sampled_from(["one", "sum", "mean"]))
    elif kind == "ratio":
        measure = {"kind": kind, "table": draw(any_table), "numerator": draw(column_lists),
                   "denominator": draw(column_lists)}
        _maybe(draw, measure, "when_zero", st.sampled_from(["missing", "full", "zero"]))
        _maybe(draw, measure, "bounded", st.booleans())
        _maybe(draw, measure, "percent", st.booleans())
    elif kind == "survey":
        statistic = draw(st.sampled_from(["mean", "share_at_least", "share_at_most"]))
        table = draw(st.sampled_from(surveys))
        measure = {"kind": kind, "table": table, "questions": draw(column_lists),
                   "statistic": statistic}
        if statistic != "mean":  # a threshold on the answer scale
            scale = inputs[table]["scale"]
            measure["threshold"] = draw(st.floats(scale["min"], scale["max"]))
    elif kind == "appraisal":
        measure = {"kind": kind, "table": draw(st.sampled_from(tables)),
                   "appraised": draw(columns)}
        _maybe(draw, measure, "self_assessed", columns)
    else:
        measure = {"kind": kind, "table": draw(any_table), "column": draw(columns)}
        _maybe(draw, measure, "yes_words", st.lists(texts, max_size=3))
        _maybe(draw, measure, "no_words", st.lists(texts, max_size=3))
    return measure


def bands_strategy(draw: st.DrawFn, top: float) -> dict[str, Any]:
    count = draw(st.integers(1, 4))
    edges = sorted(draw(st.lists(finite, min_size=count, max_size=count, unique=True)))
    higher = draw(st.booleans())
    if higher:
        edges.reverse()  # best band first: decreasing thresholds
    keys = ("at_least", "above") if higher else ("at_most", "below")
    points = sorted((_points(draw, top) for _ in range(count + 1)), reverse=True)
    bands = [{draw(st.sampled_from(keys)): edge, "points": p}
             for edge, p in zip(edges, points, strict=False)]
    rule: dict[str, Any] = {"kind": "bands", "bands": bands}
    if points[-1] or draw(st.booleans()):
        rule["otherwise"] = points[-1]
    return rule


def rule_strategy(draw: st.DrawFn, top: float, appraisal: bool) -> dict[str, Any] | None:
    kinds = ["none", "identity"]
    if not appraisal:
        kinds += ["linear", "bands", "minmax", "relative_to_best", "target", "count",
                  "deduction", "yes_no"]
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    rule: dict[str, Any] = {"kind": kind}
    if kind in ("identity", "minmax") and draw(st.booleans()):
        rule["range"] = _grid_pair(draw, top)
    if kind in ("minmax", "relative_to_best", "target"):
        _maybe(draw, rule, "direction", st.sampled_from(DIRECTIONS))
    if kind in ("minmax", "relative_to_best"):
        _maybe(draw, rule, "across", st.sampled_from(["level", "all"]))
    if kind == "linear":
        worst, best = draw(st.lists(finite, min_size=2, max_size=2, unique=True))
        rule.update(worst=worst, best=best)
        if min(worst, best) > 0:
            _maybe(draw, rule, "log", st.booleans())
    elif kind == "bands":
        rule = bands_strategy(draw, top)
    elif kind == "minmax" and draw(st.booleans()):
        low, high = sorted(draw(st.lists(finite, min_size=2, max_size=2, unique=True)))
        rule["bounds"] = [low, high]
    elif kind == "target":
        rule["target"] = draw(finite)
        _maybe(draw, rule, "otherwise",
               st.one_of(st.just("proportional"), st.integers(0, int(top * 4)).map(
                   lambda k: k / 4)))
    elif kind == "count":
        rule["per_item"] = draw(halves)
        _maybe(draw, rule, "cap", st.integers(1, int(top * 4)).map(lambda k: k / 4))
    elif kind == "deduction":
        rule["per_item"] = draw(halves)
        start = _points(draw, top)
        if draw(st.booleans()):
            rule["start"] = start
        _maybe(draw, rule, "floor", st.integers(0, int(start * 4)).map(lambda k: k / 4))
    elif kind == "yes_no":
        no, yes = sorted([_points(draw, top), _points(draw, top)])
        if draw(st.booleans()):
            rule["yes_points"] = yes
        if draw(st.booleans()):
            rule["no_points"] = no if "yes_points" in rule else 0
    return rule


class _Tree:
    """Shared state of one generated file: its inputs, levels and the ids already used."""

    def __init__(self, inputs: dict[str, Any], levels: list[str] | None, used: set[str]) -> None:
        self.inputs = inputs
        self.levels = levels
        self.used = used

    def new_id(self, draw: st.DrawFn, top_level: bool) -> str:
        node_id = draw(ids)
        while node_id in self.used or (top_level and node_id in RESERVED_IDS):
            node_id += "x"
        self.used.add(node_id)
        return node_id


def declared_max(node: dict[str, Any]) -> float | None:
    if "max" in node:
        return float(node["max"])
    if "children" in node and node.get("aggregation", "sum") == "sum":
        return math.fsum(declared_max(c) or math.nan for c in node["children"])
    return None


def node_strategy(draw: st.DrawFn, tree: _Tree, depth_left: int, weighted: bool,
                  top_level: bool = False) -> dict[str, Any]:
    node: dict[str, Any] = {"id": tree.new_id(draw, top_level), "name": draw(texts)}
    _maybe(draw, node, "name_en", texts)
    _maybe(draw, node, "official_text", texts)
    if weighted:
        _maybe(draw, node, "weight", halves)
    _maybe(draw, node, "missing", st.sampled_from(POLICIES))
    if draw(st.booleans()):
        applies: dict[str, Any] = {}
        if tree.levels:
            _maybe(draw, applies, "levels", st.lists(st.sampled_from(tree.levels), min_size=1,
                                                     max_size=2))
        _maybe(draw, applies, "groups", st.lists(texts, max_size=2))
        _maybe(draw, applies, "units", st.lists(texts, max_size=2))
        _maybe(draw, applies, "except_units", st.lists(texts, max_size=2))
        node["applies_to"] = applies
    if draw(st.booleans()):
        node["missing_when"] = {"table": draw(st.sampled_from(sorted(tree.inputs))),
                                "column": draw(columns),
                                "values": draw(st.lists(finite, min_size=1, max_size=3))}

    if depth_left <= 1 or draw(st.integers(0, 2)) == 0:  # a leaf (a third of the time)
        top = draw(halves)
        node["max"] = top
        node["measure"] = measure_strategy(draw, tree.inputs)
        rule = rule_strategy(draw, top, node["measure"]["kind"] == "appraisal")
        if rule is not None:
            node["rule"] = rule
        return node

    aggregation = draw(st.sampled_from([None, *AGGREGATIONS]))
    mean = aggregation in ("weighted_mean", "geometric_mean")
    children = [node_strategy(draw, tree, depth_left - 1, mean)
                for _ in range(draw(st.integers(1, 4)))]
    if aggregation is not None:
        node["aggregation"] = aggregation
    if aggregation in (None, "sum"):
        if draw(st.booleans()):
            node["max"] = declared_max({"children": children})
    else:
        node["max"] = draw(halves)
    if aggregation == "geometric_mean":
        _maybe(draw, node, "zero_floor", st.floats(min_value=1e-6, max_value=1))
    node["children"] = children
    return node


def tiers_strategy(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 4))
    names = draw(st.lists(texts, min_size=count, max_size=count, unique=True))
    edges = sorted(draw(st.lists(finite, min_size=count, max_size=count, unique=True)),
                   reverse=True)
    tiers = []
    for name, edge in zip(names, edges, strict=True):
        tier: dict[str, Any] = {"name": name, draw(st.sampled_from(["at_least", "above"])): edge}
        _maybe(draw, tier, "name_en", texts)
        tiers.append(tier)
    if draw(st.booleans()):
        del tiers[-1][next(k for k in ("at_least", "above") if k in tiers[-1])]
    return tiers


@st.composite
def spec_data(draw: st.DrawFn) -> dict[str, Any]:
    """Plain data of a random valid criteria file."""
    inputs = draw(inputs_strategy())
    levels = draw(st.none() | st.lists(texts, min_size=1, max_size=3, unique=True))
    data: dict[str, Any] = {"id": draw(ids), "name": draw(texts)}
    tree = _Tree(inputs, levels, {data["id"]})
    _maybe(draw, data, "name_en", texts)
    _maybe(draw, data, "year", st.integers(1990, 2100))
    _maybe(draw, data, "legal_basis", texts)
    _maybe(draw, data, "description", texts)
    if levels is not None:
        data["levels"] = levels
    aggregation = draw(st.sampled_from(AGGREGATIONS))
    if aggregation != "sum" or draw(st.booleans()):
        data["aggregation"] = aggregation
    _maybe(draw, data, "missing", st.sampled_from(POLICIES))
    data["inputs"] = inputs

    units: dict[str, Any] = {}
    if len(inputs) > 1 or draw(st.booleans()):
        units["table"] = draw(st.sampled_from(sorted(inputs)))
    _maybe(draw, units, "name_column", columns)
    if draw(st.booleans()):
        units["level_column"] = draw(columns)
    else:
        _maybe(draw, units, "level", texts)
    _maybe(draw, units, "group_column", columns)
    _maybe(draw, units, "unknown_units", st.sampled_from(["error", "exclude"]))
    if units or draw(st.booleans()):
        data["units"] = units
    ranking: dict[str, Any] = {}
    _maybe(draw, ranking, "round_to", st.integers(0, 12))
    _maybe(draw, ranking, "within_group", st.booleans())
    if ranking:
        data["ranking"] = ranking
    if draw(st.booleans()):
        data["tiers"] = tiers_strategy(draw)

    depth = draw(st.integers(1, 3))
    mean = aggregation in ("weighted_mean", "geometric_mean")
    criteria = [node_strategy(draw, tree, depth, mean, top_level=True)
                for _ in range(draw(st.integers(1, 4)))]
    data["criteria"] = criteria
    if aggregation == "sum":
        if draw(st.booleans()):
            data["max"] = declared_max({"children": criteria})
    else:
        data["max"] = draw(halves)
        if aggregation == "geometric_mean":
            _maybe(draw, data, "zero_floor", st.floats(min_value=1e-6, max_value=1))
    return data


def _valid(data: dict[str, Any]) -> IndexSpec:
    try:
        return spec_from_data(data)
    except SpecError as error:  # the strategy only builds valid files
        raise AssertionError(f"a valid generated file was refused:\n{error}\n{data}") from None


specs = spec_data().map(_valid)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roundtrip") / "criteria.yaml"


@settings(max_examples=50, deadline=None)
@given(spec=specs)
def test_load_of_dump_is_the_same_spec(scratch: Path, spec: IndexSpec) -> None:
    text = dump_spec(spec, scratch)
    assert scratch.read_text(encoding="utf-8") == text
    assert load_spec(scratch) == spec
    assert spec_from_data(yaml.safe_load(text)) == spec
    # dumping again gives the same text: the dump is canonical
    assert dump_spec(load_spec(scratch)) == text


@settings(max_examples=50, deadline=None)
@given(data=spec_data())
def test_the_generated_data_itself_loads_from_yaml(scratch: Path, data: dict[str, Any]) -> None:
    scratch.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_spec(scratch) == _valid(data)


# --------------------------------------------------------------------------------------------
# One invalid mutation of a valid file is refused
# --------------------------------------------------------------------------------------------


def _nodes(data: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            found.append(item)
            walk(item.get("children") or [])

    walk(data["criteria"])
    return found


def _negative_weight(draw: st.DrawFn, data: dict[str, Any]) -> None:
    node = draw(st.sampled_from(_nodes(data)))
    node["weight"] = -draw(halves)


def _duplicate_id(draw: st.DrawFn, data: dict[str, Any]) -> None:
    nodes = _nodes(data)
    node = draw(st.sampled_from(nodes))
    others = [data["id"]] + [n["id"] for n in nodes if n is not node]
    node["id"] = draw(st.sampled_from(others))


def _unknown_table(draw: st.DrawFn, data: dict[str, Any]) -> None:
    holders = [n["measure"] for n in _nodes(data) if "measure" in n]
    holders += [n["missing_when"] for n in _nodes(data) if "missing_when" in n]
    if "table" in data.get("units", {}):
        holders.append(data["units"])
    holder = draw(st.sampled_from(holders))
    table = draw(ids)
    while table in data["inputs"]:
        table += "x"
    holder["table"] = table


def _zero_max(draw: st.DrawFn, data: dict[str, Any]) -> None:
    target = draw(st.sampled_from([data, *_nodes(data)]))
    target["max"] = 0


MUTATIONS = {
    "negative_weight": (_negative_weight, "greater_than"),
    "duplicate_id": (_duplicate_id, "duplicate_id"),
    "unknown_table": (_unknown_table, "unknown_table"),
    "zero_max": (_zero_max, "greater_than"),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
@settings(max_examples=50, deadline=None)
@given(original=spec_data(), draw=st.data())
def test_one_invalid_mutation_is_refused(scratch: Path, mutation: str,
                                         original: dict[str, Any], draw: st.DataObject) -> None:
    mutate, code = MUTATIONS[mutation]
    _valid(original)
    data = copy.deepcopy(original)
    mutate(draw.draw, data)
    with pytest.raises(SpecError) as info:
        spec_from_data(data)
    assert code in {i.code for i in info.value.issues}, str(info.value)
    # the same through a file, where every issue gets a location
    scratch.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SpecError) as from_file:
        load_spec(scratch)
    assert code in {i.code for i in from_file.value.issues}
    assert all(i.location for i in from_file.value.issues)


def test_a_next_line_character_survives_the_round_trip(scratch: Path) -> None:
    """U+0085 (NEL) is a line break to YAML: a name holding one must still come back intact."""
    spec = spec_from_data({
        "id": "t", "name": "Chỉ số\x85 2025",
        "inputs": {"tab": {"kind": "table", "unit_column": "unit\x85id"}},
        "criteria": [{"id": "a", "name": "a\x85", "max": 5,
                      "measure": {"kind": "column", "table": "tab", "column": "c"}}],
    })
    dump_spec(spec, scratch)
    again = load_spec(scratch)
    assert (again.name, again.inputs["tab"].unit_column, again.criteria[0].name) == (
        "Chỉ số\x85 2025", "unit\x85id", "a\x85")
    assert again == spec
