"""Published indices reproduced end to end through the CLI, as a user would run them.

The data are read from ../shared/validation (never copied into the project); the tolerances are
those each case's README states. In CI a missing ../shared/validation fails the tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import par_index as pi
from par_index.cli import app
from validation_cases import CASES, ROOT  # tests/ is on sys.path (rootdir)


@pytest.mark.parametrize("case", sorted(CASES))
def test_published_index_is_reproduced(case: str, validation_dir: Path,
                                       tmp_path: Path) -> None:
    measured = CASES[case](tmp_path)
    for layer, count, difference, tolerance, rank_mismatches in measured.rows:
        assert count > 0, layer
        assert difference <= tolerance, f"{case} {layer}: {difference} > {tolerance}"
        assert rank_mismatches <= 0, f"{case} {layer}: {rank_mismatches} rank mismatches"
    if measured.tiers_mismatched is not None:
        assert measured.tiers_mismatched == 0


def test_pci_json_output_equals_library(validation_dir: Path) -> None:
    source = validation_dir / "vcci_pci_2016" / "pci_2016.csv"
    criteria = ROOT / "criteria" / "pci-2016.yaml"
    result = CliRunner().invoke(app, ["score", str(source), "-c", str(criteria), "--json"])
    assert result.exit_code == 0, result.output
    printed = pd.DataFrame(json.loads(result.stdout))
    library = pi.score(criteria, {"pci": source}).ranking
    assert list(printed["unit_id"]) == list(library["unit_id"])
    np.testing.assert_array_equal(printed["score"].to_numpy(), library["score"].to_numpy())
    assert list(printed["rank"]) == [int(r) for r in library["rank"]]


def test_criteria_import_rebuilds_the_asem_tree(validation_dir: Path, tmp_path: Path) -> None:
    folder = validation_dir / "coinr_asem"
    out = tmp_path / "asem.yaml"
    result = CliRunner().invoke(app, [
        "criteria", "import", str(folder / "asem_structure.csv"), "--out", str(out),
        "--parents", "pillar,sub_index,index", "--rule", "minmax", "--unit-column", "uCode",
        "--name-column", "uName", "--table", "asem_treated"])
    assert result.exit_code == 0, result.output
    imported = pi.load_spec(out)
    bundled = pi.load_spec(ROOT / "criteria" / "coinr-asem.yaml")

    def shape(spec: pi.IndexSpec) -> list[tuple[object, ...]]:
        return [(n.id, d, None if p == spec.id else p, n.max, n.weight, n.rule)
                for n, d, p in spec.iter_nodes()]

    assert shape(imported) == shape(bundled)
    structure = pd.read_csv(folder / "asem_structure.csv")
    lower = {n.id for n in imported.leaves() if getattr(n.rule, "direction", "") ==
             "lower_is_better"}
    assert lower == set(structure.loc[structure["direction"] == -1, "iCode"])
