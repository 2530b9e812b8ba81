"""Progress of long work: what the library reports, and the command line's status line."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

import par_index as pi
from par_index import progress
from par_index.api import score_files
from par_index.cli import _progress


def test_a_scoring_run_reports_its_stages_and_how_far_the_draws_are(tmp_path: Path) -> None:
    seen: list[tuple[str, float | None]] = []
    with progress.listening(lambda what, fraction: seen.append((what, fraction))):
        score_files(
            pi.bundled_path("criteria/par-2025.yaml"),
            named=pi.sample_inputs(2025),
            out=tmp_path / "r.xlsx",
            draws=2500,  # several chunks of draws
        )
    stages = [what for what, fraction in seen if fraction is None]
    assert stages[:4] == [
        "reading registry (registry.csv)",
        "reading survey (survey_citizens.csv)",
        "reading processing (processing.csv)",
        "reading appraisal (appraisal.xlsx)",
    ]
    assert stages[4:] == [
        "scoring",
        "leaving out each node in turn (sensitivity)",
        "writing r.xlsx",
    ]
    fractions = [f for what, f in seen if what == "drawing 2500 replications"]
    assert len(fractions) >= 2 and fractions == sorted(fractions)
    assert fractions[0] >= 0.0 and fractions[-1] < 1.0
    # the stages come in the order the work is done
    order = [what for what, _ in seen]
    assert order.index("scoring") < order.index("drawing 2500 replications")


def test_nothing_listens_outside_the_block_and_blocks_nest() -> None:
    outer: list[str] = []
    inner: list[str] = []
    progress.stage("nobody hears this")
    with progress.listening(lambda what, _: outer.append(what)):
        progress.stage("a")
        with progress.listening(lambda what, _: inner.append(what)):
            progress.stage("b")
        progress.advance("c", 1, 2)
        progress.advance("empty loop", 0, 0)  # no total: nothing to say
    progress.stage("nobody hears this either")
    assert outer == ["a", "c"] and inner == ["b"]


def test_the_status_line_only_on_a_terminal() -> None:
    with _progress(Console(file=io.StringIO(), force_terminal=False)):
        assert progress._listener.get() is None  # a pipe or a log: quiet
    with _progress(Console(file=io.StringIO(), force_terminal=True)):
        assert progress._listener.get() is not None
        progress.advance("drawing", 1, 4)  # updates the status line without error
    assert progress._listener.get() is None
