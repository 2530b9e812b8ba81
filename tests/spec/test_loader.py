"""Reading a criteria file: the file is untrusted (YAML safety, size, depth, encoding), syntax
errors are located, duplicate keys are reported, and the bundled criteria files load."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from par_index.cli import app
from par_index.errors import SpecError
from par_index.spec import dump_spec, json_schema, load_spec, loader, spec_from_data, validate_spec

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "criteria").glob("*.yaml"))

VALID = """\
id: t
name: Test index
inputs:
  tab: {kind: table, unit_column: unit}
criteria:
  - {id: a, name: A, max: 5, measure: {kind: column, table: tab, column: c}}
"""

# the pure-Python safe loader as well as the libyaml one (when PyYAML was built with it)
LOADERS = sorted({loader._Loader, yaml.SafeLoader}, key=lambda c: c.__name__)


@pytest.fixture(params=LOADERS, ids=lambda c: c.__name__)
def yaml_loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> type:
    monkeypatch.setattr(loader, "_Loader", request.param)
    return request.param  # type: ignore[no-any-return]


def write(tmp_path: Path, text: str, name: str = "criteria.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert validate_spec(path), "validate_spec must report what load_spec refuses"
    return info.value


def test_the_valid_example_loads(tmp_path: Path, yaml_loader: type) -> None:
    spec = load_spec(write(tmp_path, VALID))
    assert spec.id == "t" and [n.id for n in spec.criteria] == ["a"]
    assert validate_spec(write(tmp_path, VALID)) == []


# --------------------------------------------------------------------------------------------
# YAML safety
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("template", [
    "!!python/object/apply:os.system ['touch {sentinel}']\n",
    "id: !!python/object/apply:os.system ['touch {sentinel}']\nname: x\n",
    VALID.replace("name: A,", "name: !!python/object/apply:os.system ['touch {sentinel}'],"),
    "!!python/object/apply:subprocess.check_call [['touch', '{sentinel}']]\n",
    "id: !!python/object/new:subprocess.Popen [['touch', '{sentinel}']]\n",
    "x: !!python/name:os.system\n",
])
def test_python_tags_are_refused_and_nothing_runs(tmp_path: Path, yaml_loader: type,
                                                  template: str) -> None:
    sentinel = tmp_path / "executed"
    error = refused(write(tmp_path, template.replace("{sentinel}", str(sentinel))))
    assert not sentinel.exists(), "a YAML tag executed code"
    assert [i.code for i in error.issues] == ["yaml_tag"]
    assert "python/" in error.issues[0].message


def test_an_unknown_tag_is_located(tmp_path: Path) -> None:
    """A tag the safe loader refuses (here an ``!include`` some YAML tools know) is reported
    with the line it is on, like a syntax error."""
    error = refused(write(tmp_path, VALID.replace("name: Test index", "name: !include n.yaml")))
    (issue,) = error.issues
    assert issue.code == "yaml_tag"
    assert "!include" in issue.message
    assert re.search(r"\bline 2\b", issue.location), issue.location


def _laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("where", ["alone", "in_a_criteria_file"])
def test_billion_laughs_is_refused_quickly(tmp_path: Path, yaml_loader: type,
                                           where: str) -> None:
    text = _laughs() if where == "alone" else VALID + _laughs()
    path = write(tmp_path, text)
    started = time.perf_counter()
    error = refused(path)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"took {elapsed:.1f}s"  # generous guard; about 0.3 s in practice
    assert [i.code for i in error.issues] == ["too_large"]
    assert "aliases" in error.issues[0].message


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    text = """\
id: t
name: Test index
inputs:
  tab: &t {kind: table, unit_column: unit}
  other: *t
units: {table: tab}
criteria:
  - {id: a, name: A, max: 5, measure: &m {kind: column, table: tab, column: c}}
  - {id: b, name: B, max: 5, measure: *m}
"""
    spec = load_spec(write(tmp_path, text))
    assert spec.inputs["tab"] == spec.inputs["other"]
    assert spec.criteria[0].measure == spec.criteria[1].measure


@pytest.mark.parametrize("shape", ["flow_sequence", "flow_mapping", "block_mapping"])
def test_nesting_1000_levels_deep_is_refused(tmp_path: Path, yaml_loader: type,
                                             shape: str) -> None:
    depth = 1000
    if shape == "flow_sequence":
        text = "id: " + "[" * depth + "]" * depth + "\n"
    elif shape == "flow_mapping":
        text = "id: " + "{a: " * depth + "1" + "}" * depth + "\n"
    else:
        text = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v\n"
    started = time.perf_counter()
    error = refused(write(tmp_path, text))
    assert time.perf_counter() - started < 10
    assert error.issues
    assert error.issues[0].code in {"too_deep", "too_large", "yaml_syntax"}


def test_nesting_beyond_the_cap_is_refused(tmp_path: Path, yaml_loader: type) -> None:
    depth = loader.MAX_DEPTH + 10
    error = refused(write(tmp_path, "id: " + "[" * depth + "]" * depth + "\n"))
    assert [i.code for i in error.issues] == ["too_large"]
    assert f"nested more than {loader.MAX_DEPTH} levels" in error.issues[0].message


def test_a_deep_but_reasonable_tree_loads(tmp_path: Path) -> None:
    """Ten levels of criteria stay well inside the depth cap."""
    depth = 10
    leaf = "{id: n10, name: N, max: 5, measure: {kind: column, table: tab, column: c}}"
    node = leaf
    for level in range(depth - 1, 0, -1):
        node = f"{{id: n{level}, name: N, children: [{node}]}}"
    text = VALID.split("criteria:\n")[0] + f"criteria:\n  - {node}\n"
    spec = load_spec(write(tmp_path, text))
    assert max(d for _, d, _ in spec.iter_nodes()) == depth


# --------------------------------------------------------------------------------------------
# Duplicate keys, encoding, size, syntax
# --------------------------------------------------------------------------------------------


def test_duplicate_key_in_a_node(tmp_path: Path, yaml_loader: type) -> None:
    text = VALID.replace("name: A,", "name: A, name: B,")
    error = refused(write(tmp_path, text))
    assert [(i.code, i.location) for i in error.issues] == [("duplicate_key", "criteria[0].name")]
    assert "'name'" in error.issues[0].message and "line 6" in error.issues[0].message


def test_duplicate_top_level_key(tmp_path: Path) -> None:
    error = refused(write(tmp_path, VALID + "id: u\n"))
    assert [(i.code, i.location) for i in error.issues] == [("duplicate_key", "id")]
    assert "line 7" in error.issues[0].message


def test_duplicate_key_with_the_same_value_is_still_reported(tmp_path: Path) -> None:
    error = refused(write(tmp_path, VALID.replace("max: 5,", "max: 5, max: 5,")))
    assert [i.code for i in error.issues] == ["duplicate_key"]


def test_duplicate_key_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    text = VALID.replace("table: tab,", "table: tab, table: tabs,")
    error = refused(write(tmp_path, text))
    codes = {(i.code, i.location.split(" ")[0]) for i in error.issues}
    assert ("duplicate_key", "criteria[0].measure.table") in codes
    assert ("unknown_table", "criteria[0].measure.table") in codes


def test_a_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(VALID.replace("Test index", "Indice d'activité").encode("latin-1"))
    error = refused(path)
    assert "UTF-8" in str(error)
    issues = validate_spec(path)
    assert len(issues) == 1 and "UTF-8" in issues[0].message


def test_a_utf8_file_with_bom_loads(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.replace("Test index", "Chỉ số").encode("utf-8"))
    assert load_spec(path).name == "Chỉ số"


def test_a_file_larger_than_the_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:  # sparse: the size is what counts, nothing is read
        file.write(VALID.encode())
        file.truncate(loader.MAX_FILE_BYTES + 1)
    started = time.perf_counter()
    error = refused(path)
    assert time.perf_counter() - started < 10
    assert "larger than" in str(error) and str(loader.MAX_FILE_BYTES) in str(error)


def test_a_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    error = refused(tmp_path / "absent.yaml")
    assert "cannot read" in str(error)


@pytest.mark.parametrize(("text", "line"), [
    (VALID.replace("column: c}}", "column: c}"), 7),  # unclosed flow mapping
    ("id: t\nname: [x\n", 3),
    ("id: t\n\tname: x\n", 2),  # a tab in the indentation
    ("id: t\nname: x\n  bad: indentation\n", 3),
])
def test_invalid_yaml_syntax_is_located(tmp_path: Path, yaml_loader: type, text: str,
                                        line: int) -> None:
    error = refused(write(tmp_path, text))
    assert "not valid YAML" in error.summary
    (issue,) = error.issues
    assert issue.code == "yaml_syntax"
    match = re.fullmatch(r"line (\d+), column (\d+)", issue.location)
    assert match, issue.location
    assert int(match.group(1)) == line
    assert issue.message


@pytest.mark.parametrize("text", ["", "# only a comment\n", "just a string\n", "- a\n- b\n"])
def test_a_file_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    error = refused(write(tmp_path, text))
    assert [i.code for i in error.issues] == ["not_a_mapping"]


def test_spec_from_data_refuses_non_mappings() -> None:
    with pytest.raises(SpecError) as info:
        spec_from_data(["not", "a", "mapping"])
    assert info.value.issues[0].code == "not_a_mapping"
    assert "list" in info.value.issues[0].message


def test_spec_from_data_matches_load_spec(tmp_path: Path) -> None:
    assert spec_from_data(yaml.safe_load(VALID)) == load_spec(write(tmp_path, VALID))


# --------------------------------------------------------------------------------------------
# Bundled criteria files and the JSON Schema
# --------------------------------------------------------------------------------------------


def test_the_bundled_criteria_files_are_found() -> None:
    names = {p.name for p in BUNDLED}
    assert {"par-2025.yaml", "pci-2016.yaml"} <= names


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_bundled_criteria_file_loads(path: Path, tmp_path: Path) -> None:
    spec = load_spec(path)
    assert validate_spec(path) == []
    assert spec.id == path.stem
    assert spec.leaves()
    # and survives a round trip through dump_spec
    again = tmp_path / path.name
    dump_spec(spec, again)
    assert load_spec(again) == spec


def test_schema_command_prints_the_json_schema() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    assert {"criteria", "inputs", "id", "name"} <= set(schema["properties"])
    assert {"criteria", "inputs"} <= set(schema["required"])
    assert schema == json.loads(json_schema())


def test_schema_from_the_installed_command() -> None:
    result = subprocess.run([sys.executable, "-m", "par_index", "schema"], capture_output=True,
                            text=True, encoding="utf-8", timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert {"criteria", "inputs"} <= set(schema["properties"])


def test_schema_forbids_unknown_keys() -> None:
    schema = json.loads(json_schema())
    assert schema.get("additionalProperties") is False
    node = schema["$defs"]["Node"]
    assert node.get("additionalProperties") is False
    assert {"measure", "rule", "children", "max", "weight"} <= set(node["properties"])


def _section_yaml(heading: str) -> list[dict[str, Any]]:
    """The YAML examples of one section of docs/criteria.md, as data."""
    text = (ROOT / "docs" / "criteria.md").read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    end = text.find("\n#", start + len(heading) + 2)
    return [yaml.safe_load(block) for block in
            re.findall(r"```yaml\n(.*?)```", text[start:end], flags=re.DOTALL)]


def test_the_ratio_examples_of_the_reference_are_valid_criteria() -> None:
    examples = _section_yaml("### `ratio`")
    assert len(examples) == 2
    tables = {"registry": {"kind": "table", "unit_column": "ma_don_vi"},
              "processing": {"kind": "table", "unit_column": "ma_don_vi"}}
    for example in examples:  # a fragment: the index around it is filled in
        data = {"id": "vi_du", "name": "Ví dụ", "inputs": tables,
                "units": {"table": "registry"}, **example}
        spec = spec_from_data(data)
        assert spec.criteria and all(c.measure is not None for c in spec.criteria)
    per_capita = spec_from_data({"id": "vi_du", "name": "Ví dụ", **examples[1]})
    measure = per_capita.criteria[0].measure
    assert measure is not None and measure.model_dump(exclude_defaults=True) == {
        "kind": "ratio", "table": "processing", "numerator": ["online"],
        "denominator": ["dan_so"], "denominator_table": "registry", "per": 1000.0}
    # and it survives a round trip through dump_spec
    text = dump_spec(per_capita)
    assert "denominator_table: registry" in text and "per: 1000" in text
    assert spec_from_data(yaml.safe_load(text)) == per_capita


def test_the_schema_describes_the_ratio_keys() -> None:
    ratio = json.loads(json_schema())["$defs"]["RatioMeasure"]["properties"]
    assert {"denominator_table", "per", "percent", "bounded", "when_zero"} <= set(ratio)
    assert ratio["per"]["anyOf"][0] == {"exclusiveMinimum": 0, "type": "number"}
    assert "per: 1000" in ratio["per"]["description"]
    assert "denominator columns" in ratio["denominator_table"]["description"]
