"""The HTML report opened in headless Chromium with the network cut off (tests/browser_check.py).

Skipped when no Chromium is installed — but never in CI (``CI`` set), where .ci/run installs
Debian's chromium and a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

CHECK = Path(__file__).resolve().parents[1] / "browser_check.py"
sys.path.insert(0, str(CHECK.parent))
from browser_check import find_browser  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> str:
    found = find_browser()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must provide Chromium (/usr/bin/chromium or chromium-headless-shell)")
        pytest.skip("no Chromium here (/usr/bin/chromium or chromium-headless-shell)")
    return found


def test_report_opens_offline_without_errors(
    browser: str, report: SimpleNamespace, tmp_path: Path
) -> None:
    out = tmp_path / "shots"
    done = subprocess.run(
        [sys.executable, str(CHECK), str(report.out), "--out", str(out), "--browser", browser],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] and result["failures"] == []
    assert result["status"]["data-js"] == "ok"
    assert result["status"]["data-resources"] == "0"
    assert result["status"]["data-tables"] == "2"
    assert result["profile_pdf_pages"] == 1
    for name in ("summary", "profile"):
        assert (out / f"{name}.png").stat().st_size > 20_000
