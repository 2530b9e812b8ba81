"""Open the HTML report in headless Chromium as a reader would, with the network cut off.

    python tests/browser_check.py REPORT_DIR_OR_INDEX_HTML [--out DIR] [--unit ANCHOR]
                                  [--browser PATH] [--full-pdf]

Checks, printing a JSON summary and exiting 1 when any fails:

- the page ran its inline script without an exception (the script marks ``#report-status`` with
  ``data-js="ok"`` and counts ``window.onerror`` events; read back with ``--dump-dom``);
- the browser made no network request: every run goes through a dead proxy
  (``--proxy-server=127.0.0.1:9``, loopback included), so any request would fail and be logged,
  and the page itself reports ``performance.getEntriesByType("resource")`` (must be 0);
- no console error in Chromium's log (``--enable-logging=stderr --v=0``);
- screenshots of the summary and of one unit profile (opened alone with ``?focus=<anchor>``) are
  written and are not blank;
- that profile prints on one A4 page (``--print-to-pdf``); with ``--full-pdf`` the whole report
  is printed too and must have at least one page per unit profile.

The browser is the first of ``--browser``, ``$CHROMIUM``, ``chromium-headless-shell``,
``/usr/bin/chromium`` and ``chromium`` that exists (exit 2 when none does).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

CANDIDATES = (
    "chromium-headless-shell",
    "/usr/bin/chromium-headless-shell",
    "/usr/bin/chromium",
    "chromium",
    "chromium-browser",
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]
# a console message Chromium writes to its log, e.g.
# [5308:5308:1130/005052.364306:INFO:CONSOLE:16657] "Uncaught TypeError: ...", source: file:///...
# (older builds write CONSOLE(16657)).
CONSOLE = re.compile(r":(INFO|WARNING|ERROR|VERBOSE\d*):CONSOLE(?:\(\d+\)|:\d+)\]\s*(.*)")
CONSOLE_ERROR = re.compile(r"uncaught|error|exception|failed to load|net::ERR_", re.I)
NETWORK = re.compile(r"net::ERR_|ERR_PROXY_CONNECTION_FAILED|ERR_TUNNEL_CONNECTION_FAILED")


def find_browser(given: str | None = None) -> str | None:
    for candidate in [given, os.environ.get("CHROMIUM"), *CANDIDATES]:
        if not candidate:
            continue
        path = shutil.which(candidate) if not os.path.isabs(candidate) else candidate
        if path and os.path.exists(path) and os.access(path, os.X_OK):
            return path
    return None


class StatusParser(HTMLParser):
    """Finds the attributes of ``#report-status`` and counts ``article.profile`` elements."""

    def __init__(self) -> None:
        super().__init__()
        self.status: dict[str, str] | None = None
        self.profiles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if values.get("id") == "report-status":
            self.status = values
        if tag == "article" and "profile" in values.get("class", "").split():
            self.profiles.append(values.get("id", ""))


def run(browser: str, args: list[str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="par-index-chromium-") as profile:
        command = [browser, *FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def console_problems(stderr: str) -> list[str]:
    problems = []
    for line in stderr.splitlines():
        match = CONSOLE.search(line)
        if match and CONSOLE_ERROR.search(match.group(2)):
            problems.append(match.group(2).strip())
        elif NETWORK.search(line):
            problems.append(line.strip())
    return problems


def not_blank(png: Path) -> bool:
    """More than a handful of colours (a blank page is one or two)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return png.stat().st_size > 20_000
    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    return colours is None or len(colours) > 16


def pdf_pages(pdf: Path) -> int:
    data = pdf.read_bytes()
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


def check(
    target: Path, out: Path, browser: str, unit: str | None = None, full_pdf: bool = False
) -> dict[str, Any]:
    index = target / "index.html" if target.is_dir() else target
    url = index.resolve().as_uri()
    out.mkdir(parents=True, exist_ok=True)
    source = StatusParser()
    source.feed(index.read_text(encoding="utf-8"))
    anchor = unit or (source.profiles[0] if source.profiles else None)
    result: dict[str, Any] = {"browser": browser, "url": url, "failures": [], "seconds": {}}
    failures: list[str] = result["failures"]

    def timed(name: str, args: list[str]) -> subprocess.CompletedProcess[str]:
        start = time.perf_counter()
        done = run(browser, args)
        result["seconds"][name] = round(time.perf_counter() - start, 2)
        problems = console_problems(done.stderr)
        if problems:
            failures.append(f"{name}: console errors or network requests: {problems[:5]}")
        if done.returncode != 0:
            failures.append(
                f"{name}: the browser exited with {done.returncode}: {done.stderr.strip()[-500:]}"
            )
        return done

    # 1. the whole report: the DOM after the inline script ran, and the summary at the top.
    # Chromium does every action given (--dump-dom, --screenshot, --print-to-pdf) in one run.
    summary = out / "summary.png"
    dom = timed(
        "report",
        [
            "--window-size=1280,2200",
            "--virtual-time-budget=5000",
            f"--screenshot={summary}",
            "--dump-dom",
            url,
        ],
    )
    shots = {"summary": summary}
    parsed = StatusParser()
    parsed.feed(dom.stdout)
    status = parsed.status or {}
    result["status"] = status
    if status.get("data-js") != "ok":
        failures.append(
            f"the inline script did not finish cleanly: {status or 'no #report-status'}"
        )
    if status.get("data-errors", "0") != "0":
        failures.append(f"window.onerror fired {status.get('data-errors')} times")
    if status.get("data-resources") != "0":
        failures.append(f"the page loaded {status.get('data-resources')} external resources")
    if status.get("data-profiles") != str(len(source.profiles)):
        failures.append(
            f"{status.get('data-profiles')} profiles in the browser, {len(source.profiles)} in "
            "the file"
        )

    # 2. one unit profile opened alone (?focus=<anchor> hides everything else): a screenshot,
    # and printed it is one A4 page
    if anchor:
        focus = f"{url}?focus={anchor}"
        profile = out / "profile.png"
        one = out / "profile.pdf"
        focused = timed(
            "profile",
            [
                "--window-size=1280,1500",
                "--virtual-time-budget=5000",
                f"--screenshot={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={one}",
                "--dump-dom",
                focus,
            ],
        )
        shots["profile"] = profile
        parsed_focus = StatusParser()
        parsed_focus.feed(focused.stdout)
        if (parsed_focus.status or {}).get("data-focus") != anchor:
            failures.append(f"?focus={anchor} did not show that profile alone")
        if one.exists():
            result["profile_pdf_pages"] = pdf_pages(one)
            if result["profile_pdf_pages"] != 1:
                failures.append(
                    f"the profile of {anchor} prints on {result['profile_pdf_pages']} pages, not 1"
                )
        else:
            failures.append("printing the profile wrote no PDF")
    for name, png in shots.items():
        if not png.exists():
            failures.append(f"no {name} screenshot was written")
        elif not not_blank(png):
            failures.append(f"the {name} screenshot is blank")
    result["screenshots"] = {name: str(png) for name, png in shots.items()}

    # 3. optionally the whole report on paper
    if full_pdf:
        pdf = out / "report.pdf"
        timed("print_report", ["--no-pdf-header-footer", f"--print-to-pdf={pdf}", url])
        pages = pdf_pages(pdf) if pdf.exists() else 0
        result["report_pdf_pages"] = pages
        if pages < len(source.profiles) + 1:
            failures.append(
                f"the printed report has {pages} pages for {len(source.profiles)} unit profiles"
            )
    result["ok"] = not failures
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="the report directory or its index.html")
    parser.add_argument("--out", type=Path, default=None, help="where screenshots go")
    parser.add_argument("--unit", default=None, help="profile anchor to screenshot (u-<id>)")
    parser.add_argument("--browser", default=None, help="Chromium binary")
    parser.add_argument("--full-pdf", action="store_true", help="also print the whole report")
    args = parser.parse_args(argv)
    browser = find_browser(args.browser)
    if browser is None:
        print(json.dumps({"ok": False, "failures": ["no Chromium found"]}))
        return 2
    report = args.report
    out = args.out or (report if report.is_dir() else report.parent) / "browser-check"
    result = check(report, out, browser, args.unit, args.full_pdf)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
