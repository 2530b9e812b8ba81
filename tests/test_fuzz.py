"""Fuzzing the readers and the criteria loader: random and mutated inputs.

Whatever the bytes, ``read_inputs``, ``load_spec`` and ``spec_from_data`` either succeed or
raise a :class:`ParIndexError` subclass; anything else would reach the user as a traceback.
Workbooks and Parquet files are parsed by native code (calamine, Arrow), where a bad input can
abort the whole process: those cases run in a forked child, so that an abort fails the test
with its input instead of killing the test run.

Bounded: at most 50 examples per test, no deadline; the file runs in well under a minute.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import select
import signal
import traceback
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import par_index as pi
from par_index.errors import ParIndexError
from par_index.spec import spec_from_data

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "data" / "bad"

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SPECS = {name: pi.load_spec(BAD / f"{name}.yaml") for name in ("base", "cp1258")}
CLEAN = {"registry": BAD / "registry.csv", "stats": BAD / "stats.csv",
         "survey": BAD / "survey.csv"}


def _one_table(**read_options: Any) -> pi.IndexSpec:
    """The stats measures of base.yaml on a single table (also the list of units), so that an
    example reads one file."""
    base = yaml.safe_load((BAD / "base.yaml").read_text(encoding="utf-8"))
    return spec_from_data({
        "id": "fuzz", "name": "fuzz", "missing": "zero",
        "inputs": {"stats": {"kind": "table", "unit_column": "ma", **read_options}},
        "criteria": [node for node in base["criteria"] if node["measure"]["table"] == "stats"],
    })


SPECS |= {"one": _one_table(), "one_comma": _one_table(decimal=","),
          "one_two_rows": _one_table(header_rows=2)}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


_count = [0]


def _file(work: Path, content: bytes, suffix: str) -> Path:
    _count[0] += 1
    path = work / f"case{_count[0]}{suffix}"
    path.write_bytes(content)
    return path


def _only_par_index_errors(call: Callable[[], object]) -> None:
    with contextlib.suppress(ParIndexError):
        call()


def _read(spec: str, table: str, path: Path) -> Callable[[], object]:
    names = SPECS[spec].inputs
    sources: dict[str, Any] = {**{k: v for k, v in CLEAN.items() if k in names}, table: path}
    return lambda: pi.read_inputs(SPECS[spec], sources)


# -- isolation for native parsers ----------------------------------------------------------------

CHILD_TIMEOUT = 60.0
CHILD_MEMORY = 3 << 30  # bytes of address space the worker may add to what it inherits


def _vm_size() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


class _Worker:
    """A forked copy of this process that reads files on request. An example that aborts or
    hangs it fails with its input; the next example gets a fresh worker."""

    def __init__(self) -> None:
        self.pid = 0

    def _start(self) -> None:
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into pytest
            try:
                import resource

                os.close(from_parent)
                os.close(to_parent)
                cap = _vm_size() + CHILD_MEMORY
                resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
                requests, replies = os.fdopen(to_child, "rb"), os.fdopen(from_child, "wb")
                while True:
                    try:
                        spec, table, path = pickle.load(requests)
                    except EOFError:
                        break
                    try:
                        _only_par_index_errors(_read(spec, table, Path(path)))
                        reply = "ok"
                    except BaseException:
                        reply = traceback.format_exc()[-20000:]
                    pickle.dump(reply, replies)
                    replies.flush()
            finally:
                os._exit(0)
        os.close(to_child)
        os.close(from_child)
        self.pid = pid
        self.requests = os.fdopen(from_parent, "wb")
        self.replies = os.fdopen(to_parent, "rb")

    def stop(self) -> str:
        """Close the pipes, reap the worker; how it ended."""
        if not self.pid:
            return ""
        for stream in (self.requests, self.replies):
            stream.close()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if os.WIFSIGNALED(status):
            return f"the reader was killed by signal {os.WTERMSIG(status)}"
        return f"the reader exited with status {os.WEXITSTATUS(status)}"

    def read(self, spec: str, table: str, path: Path) -> None:
        if not self.pid:
            self._start()
        pickle.dump((spec, table, str(path)), self.requests)
        self.requests.flush()
        ready, _, _ = select.select([self.replies], [], [], CHILD_TIMEOUT)
        if not ready:
            os.kill(self.pid, signal.SIGKILL)
            raise AssertionError(f"no answer within {CHILD_TIMEOUT} s: {self.stop()}")
        try:
            reply = pickle.load(self.replies)
        except EOFError:
            raise AssertionError(f"a crash: {self.stop()}") from None
        if reply != "ok":
            raise AssertionError(f"an exception other than ParIndexError escaped:\n{reply}")


@pytest.fixture(scope="module")
def isolated() -> Any:
    """``isolated(spec, table, path)``: read_inputs in the worker (or here, without fork)."""
    if not hasattr(os, "fork") or not Path("/proc/self/status").exists():
        yield lambda spec, table, path: _only_par_index_errors(_read(spec, table, path))
        return
    worker = _Worker()
    yield worker.read
    worker.stop()


# -- mutations -----------------------------------------------------------------------------------

CSV_TOKENS = [b",", b";", b"\t", b'"', b"\n", b"\r", b"\r\n", b"%", b".", b"-", b" ", b"\x00",
              b"\xff", b"\xef\xbb\xbf", "ắ".encode(), "Tổng cộng".encode(), b"1e308", b"inf",
              b"nan", b"NA", b"TRUE", b"9" * 30, b"=1+1", b",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n"]
YAML_TOKENS = [b":", b": ", b"- ", b"{", b"}", b"[", b"]", b"&a ", b"*a", b"!!", b"!!str ",
               b"!!binary ", b"!!timestamp ", b"? ", b"|", b">", b"'", b'"', b"#", b"\t",
               b"\n", b"  ", b"---\n", b"...\n", b"%YAML 1.1\n", b"<<: ", b"~", b"null",
               b"yes", b".inf", b"-.inf", b".nan", b"1e400", b"0x1F", b"2025-01-01",
               b"99999999999999999999999999", b"\xff", b"\x00", b"\\u0000"]
XML_TOKENS = [b"<", b">", b"/>", b'"', b"'", b"=", b"&", b"&amp;", b"&#0;", b"&#x10FFFF;",
              b"&lol;", b"<![CDATA[", b"]]>", b"<!--", b"-->", b'<c r="B2" t="s"><v>9</v></c>',
              b'<c r="A2" t="b"><v>1</v></c>', b'<c r="A2" t="e"><v>#DIV/0!</v></c>',
              b'<c r="C3" t="d"><v>2025-01-01</v></c>', b"<row>", b"</row>", b"1", b"9", b"Z",
              b"\x00", b"\xff", b" "]


def _mutate(data: bytes, ops: list[tuple[int, int, int]], tokens: list[bytes]) -> bytes:
    """Apply (kind, position, argument) edits: flip a byte, insert a token, delete a span,
    duplicate a span."""
    out = bytearray(data)
    for kind, position, argument in ops:
        if not out:
            out += tokens[argument % len(tokens)]
            continue
        at = position % len(out)
        if kind == 0:
            out[at] ^= 1 << (argument % 8)
        elif kind == 1:
            out[at:at] = tokens[argument % len(tokens)]
        elif kind == 2:
            del out[at : at + 1 + argument % 16]
        else:
            span = bytes(out[at : at + 1 + argument % 64])
            out[at:at] = span
    return bytes(out)


OPS = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 1 << 20), st.integers(0, 1 << 10)),
    min_size=1,
    max_size=12,
)


# -- CSV -----------------------------------------------------------------------------------------

CSV_SEEDS = [
    ("one", "stats", "stats.csv"),
    ("one", "stats", "stats_title_blank_totals.csv"),
    ("one_comma", "stats", "stats_decimal_comma.csv"),
    ("one_two_rows", "stats", "stats_two_header_rows.csv"),
    ("base", "registry", "registry_nfd.csv"),
    ("base", "survey", "survey.csv"),
    ("cp1258", "registry", "registry.csv"),
]


@FUZZ
@given(seed=st.sampled_from(CSV_SEEDS), ops=OPS, suffix=st.sampled_from([".csv", ".tsv", ".txt"]))
def test_mutated_csv(work: Path, seed: tuple[str, str, str], ops: list[Any], suffix: str) -> None:
    spec, table, name = seed
    content = _mutate((BAD / name).read_bytes(), ops, CSV_TOKENS)
    _only_par_index_errors(_read(spec, table, _file(work, content, suffix)))


CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["8,5", "10.732", "10,732", "85%", "1e400", "-0", "+-1", "1_000", "٣",
                     "½", "0x10", "nan", "-inf", "Tổng cộng", "", " ", "00123", "=A1", "True"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
)


@settings(FUZZ, max_examples=30)
@given(
    spec=st.sampled_from(["one", "one_comma"]),
    rows=st.lists(st.lists(CELL, min_size=5, max_size=7), min_size=0, max_size=8),
)
def test_generated_csv_cells(work: Path, spec: str, rows: list[list[str]]) -> None:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["ma", "gia_tri", "hoan_thanh", "dung_han", "da_xu_ly"])
    writer.writerows(rows)
    path = _file(work, buffer.getvalue().encode("utf-8", "surrogatepass"), ".csv")
    _only_par_index_errors(_read(spec, "stats", path))


@FUZZ
@given(
    content=st.binary(max_size=400),
    magic=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"ma,gia_tri\n"]),
    suffix=st.sampled_from([".csv", ".tsv"]),
    table=st.sampled_from(["registry", "stats", "survey"]),
)
def test_random_bytes_as_text(work: Path, content: bytes, magic: bytes, suffix: str,
                              table: str) -> None:
    spec = "one" if table == "stats" else "base"
    _only_par_index_errors(_read(spec, table, _file(work, magic + content, suffix)))


# -- workbooks and Parquet (native parsers: isolated) --------------------------------------------


@pytest.fixture(scope="module")
def workbooks(work: Path) -> dict[str, Path]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    make_corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_corpus)
    built = make_corpus.build(work / "corpus")
    names = ["stats_plain_raw.xlsx", "stats_numbers_as_text.xlsx", "stats_merged_header.xlsx"]
    return {name: built[name] for name in names}


@FUZZ
@given(
    content=st.binary(max_size=600),
    magic=st.sampled_from([b"PK\x03\x04", b"PAR1", b"\xd0\xcf\x11\xe0", b""]),
    suffix=st.sampled_from([".xlsx", ".parquet"]),
)
def test_random_bytes_as_workbook_or_parquet(work: Path, isolated: Any, content: bytes,
                                             magic: bytes, suffix: str) -> None:
    isolated("one", "stats", _file(work, magic + content, suffix))


def _rezip(original: bytes, part: str, edit: Callable[[bytes], bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(original))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, edit(data) if info.filename == part else data)
    return out.getvalue()


@settings(FUZZ, max_examples=40)
@given(
    book=st.sampled_from(["stats_plain_raw.xlsx", "stats_numbers_as_text.xlsx",
                          "stats_merged_header.xlsx"]),
    part=st.sampled_from(["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/sharedStrings.xml",
                          "[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"]),
    ops=OPS,
    zip_ops=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1 << 20), st.integers(0, 255)),
                     max_size=2),
)
def test_mutated_xlsx(work: Path, isolated: Any, workbooks: dict[str, Path], book: str,
                      part: str, ops: list[Any], zip_ops: list[Any]) -> None:
    """XML edits inside a valid zip (what a parser sees), then maybe a byte flip of the zip."""
    original = workbooks[book].read_bytes()
    content = _rezip(original, part, lambda xml: _mutate(xml, ops, XML_TOKENS))
    content = _mutate(content, [(0, p, a) for _, p, a in zip_ops], [b""]) if zip_ops else content
    spec = "one_two_rows" if book == "stats_merged_header.xlsx" else "one"
    isolated(spec, "stats", _file(work, content, ".xlsx"))


XLSX_VALUE = st.one_of(
    st.none(),
    st.text(max_size=10),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(10**15), 10**15),
    st.booleans(),
    st.datetimes(),
    st.sampled_from(["Tổng cộng", "00123", "85%", "10,732", "=1+1", "#N/A"]),
)


@settings(FUZZ, max_examples=30)
@given(rows=st.lists(st.lists(XLSX_VALUE, min_size=5, max_size=5), max_size=6),
       header_at=st.integers(0, 3))
def test_generated_workbook_cells(work: Path, isolated: Any, rows: list[list[Any]],
                                  header_at: int) -> None:
    import xlsxwriter

    path = work / f"book{_count[0]}.xlsx"
    _count[0] += 1
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                           "strings_to_numbers": False,
                                           "default_date_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("stats")
    sheet.write_row(header_at, 0, ["ma", "gia_tri", "hoan_thanh", "dung_han", "da_xu_ly"])
    for i, row in enumerate(rows, start=header_at + 1):
        for j, value in enumerate(row):
            if value is not None:
                sheet.write(i, j, value)
    book.close()
    isolated("one", "stats", path)


# -- the criteria file ---------------------------------------------------------------------------

YAML_SEEDS = [BAD / n for n in ("base.yaml", "single.yaml", "spec_many_mistakes.yaml",
                                "spec_cross_checks.yaml", "yaml_aliases.yaml")]
YAML_SEEDS += [ROOT / "criteria" / n for n in ("par-2025.yaml", "pci-2016.yaml",
                                               "sdg-index-2023.yaml")]
YAML_SEEDS = [p for p in YAML_SEEDS if p.exists()]


@FUZZ
@given(seed=st.sampled_from(YAML_SEEDS), ops=OPS)
def test_mutated_criteria_file(work: Path, seed: Path, ops: list[Any]) -> None:
    content = _mutate(seed.read_bytes(), ops, YAML_TOKENS)
    _only_par_index_errors(lambda: pi.load_spec(_file(work, content, ".yaml")))


@FUZZ
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(
    lambda t: t.encode("utf-8", "surrogatepass")))
def test_random_criteria_file(work: Path, content: bytes) -> None:
    _only_par_index_errors(lambda: pi.load_spec(_file(work, content, ".yaml")))


SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from(["table", "survey", "column", "ratio", "bands", "linear", "sum",
                     "weighted_mean", "share_of_max", "error", "zero", "stats", "ma", "a"]),
    st.dates(),
    st.binary(max_size=4),
)
KEY = st.one_of(
    st.sampled_from(["id", "name", "max", "kind", "inputs", "criteria", "children", "measure",
                     "rule", "table", "column", "bands", "at_least", "points", "weight",
                     "aggregation", "units", "tiers", "levels", "applies_to", "missing",
                     "unit_column", "scale", "min", "max", "questions", "threshold"]),
    st.text(max_size=6),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
)
DATA = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEY, inner, max_size=5),
    max_leaves=30,
)


@FUZZ
@given(data=DATA)
def test_random_criteria_data(data: Any) -> None:
    _only_par_index_errors(lambda: spec_from_data(data))


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*path, i))
    return found


BASE_DATA = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in YAML_SEEDS[:2]]


@FUZZ
@given(st.data())
def test_mutated_criteria_data(data: st.DataObject) -> None:
    """A valid criteria mapping with a few places replaced, removed or given an extra key."""
    import copy

    document = copy.deepcopy(data.draw(st.sampled_from(BASE_DATA)))
    for _ in range(data.draw(st.integers(1, 4))):
        paths = [p for p in _paths(document) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = data.draw(st.integers(0, 2))
        if action == 0:
            parent[path[-1]] = data.draw(DATA)
        elif action == 1:
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(KEY)] = data.draw(DATA)
        else:
            parent.insert(path[-1], data.draw(DATA))
    _only_par_index_errors(lambda: spec_from_data(document))


# ------------------------------------------------------------------- results and uncertainty


@pytest.fixture(scope="module")
def written(work: Path) -> dict[str, Path]:
    """Results (with their rank uncertainty) and a standalone uncertainty output, as .csv."""
    from dataclasses import replace

    from par_index.io.writers import write_results, write_tables
    from par_index.spec.loader import dump_spec

    spec = SPECS["base"]
    sources = {name: path for name, path in CLEAN.items() if name in spec.inputs}
    results = pi.score(spec, sources)
    spread = pi.uncertainty(spec, sources, draws=5, seed=0)
    folder = work / "written"
    folder.mkdir()
    return {
        "results": write_results(replace(results, uncertainty=spread), folder / "r.csv"),
        "uncertainty": write_tables(
            spread.tables(), folder / "u.csv", run=spread.run, criteria=dump_spec(spread.spec)
        ),
    }


@settings(FUZZ, max_examples=200)  # cheap (no native parser): more cells get hit
@given(
    which=st.sampled_from(["results", "uncertainty"]),
    part=st.sampled_from(["", "detail", "uncertainty", "survey", "removal", "run"]),
    row=st.integers(0, 40),
    column=st.integers(0, 30),
    value=st.one_of(
        st.sampled_from(["", "abc", "-1", "1e400", "nan", "True", "=1+1", "\x00", "9" * 30]),
        st.text(max_size=8),
    ),
)
def test_damaged_results_and_uncertainty_files(
    work: Path, written: dict[str, Path], which: str, part: str, row: int, column: int,
    value: str,
) -> None:
    """One cell of a written results or uncertainty output replaced by anything: reading it
    back (as compare, weak and report do) succeeds or says what is wrong."""
    from par_index.io.results_reader import read_results, read_uncertainty
    from par_index.io.writers import sidecar

    source = written[which]
    folder = work / f"damaged{_count[0]}"
    _count[0] += 1
    folder.mkdir()
    for file in source.parent.iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    target = folder / source.name
    if part == "run":
        target_part = sidecar(target, "run", ".json")
    elif part:
        target_part = sidecar(target, part)
    else:
        target_part = target
    if target_part.exists():
        lines = target_part.read_text(encoding="utf-8-sig").splitlines()
        if lines:
            index = row % len(lines)
            cells = lines[index].split(",")
            cells[column % len(cells)] = value
            lines[index] = ",".join(cells)
            target_part.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reader = read_results if which == "results" else read_uncertainty
    _only_par_index_errors(lambda: reader(target))
