"""The package writer of the consolidated workbook: members made of separately compressed segments
must be plain, valid zip members (zipfile's own CRC check passes), the same bytes every time; and
the guard's direct member reads must give what zipfile gives."""

import io
import os
import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minsheng.report import zipout
from minsheng.report.zipout import Deflater, ZipWriter, crc32_combine, segment
from minsheng.untrusted.zipparts import member


@given(st.lists(st.binary(max_size=300), max_size=6))
@settings(max_examples=200, deadline=None)
def test_combined_crc_is_the_crc_of_the_whole(parts):
    crc = 0
    for part in parts:
        crc = crc32_combine(crc, zlib.crc32(part), len(part))
    assert crc == zlib.crc32(b"".join(parts))


def test_combined_crc_over_a_province_sized_member():
    big = os.urandom(1 << 16) * 700  # 45 MB, as 指标明细 at 1,000 units
    head, tail = b"<worksheet>", b"</worksheet>"
    crc = crc32_combine(crc32_combine(zlib.crc32(head), zlib.crc32(big), len(big)), zlib.crc32(tail), len(tail))
    assert crc == zlib.crc32(head + big + tail)


def package(rows: list[bytes]) -> bytes:
    body = Deflater()
    try:
        for row in rows:
            body.write(row)
        out = io.BytesIO()
        writer = ZipWriter(out)
        writer.write("[Content_Types].xml", b"<Types/>")
        writer.write_segments("xl/worksheets/sheet1.xml",
                              [segment(b"<sheetData>"), body.finish(), segment(b"</sheetData>", final=True)])
        writer.write("empty.txt", b"")
        writer.write("说明/中文.txt", "中文".encode())
        writer.close()
        return out.getvalue()
    finally:
        body.close()


def test_a_member_of_segments_is_a_valid_zip_member_and_the_bytes_never_change(monkeypatch):
    monkeypatch.setattr(zipout, "BATCH", 1000)  # many batches through the thread
    rows = [f'<row r="{r}"><c><is><t>第{r}行 &amp; 进展</t></is></c></row>'.encode() for r in range(5000)]
    data = package(rows)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None  # every CRC agrees
        assert z.namelist() == ["[Content_Types].xml", "xl/worksheets/sheet1.xml", "empty.txt", "说明/中文.txt"]
        assert z.read("xl/worksheets/sheet1.xml") == b"<sheetData>" + b"".join(rows) + b"</sheetData>"
        assert z.read("empty.txt") == b"" and z.read("说明/中文.txt") == "中文".encode()
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert package(rows) == data  # deterministic: same content, same file


def test_a_failure_in_the_compressing_thread_is_raised_where_the_member_is_finished():
    body = Deflater()
    body._file.close()  # the disk is gone, say
    body.write(b"x" * (zipout.BATCH + 1))
    with pytest.raises(ValueError):
        body.finish()
    body.close()


def test_a_member_given_up_halfway_stops_its_thread():
    body = Deflater()
    for _ in range(20):
        body.write(b"<row/>" * 100_000)
    body.close()  # no finish: the run failed elsewhere
    assert not body._thread.is_alive()


def test_the_guard_reads_members_as_zipfile_does():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("stored.xml", b"<a>" * 1000, compress_type=zipfile.ZIP_STORED)
        z.writestr("deflated.xml", "<表>".encode() * 1000, compress_type=zipfile.ZIP_DEFLATED)
    package = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    for name in ("stored.xml", "deflated.xml"):
        assert member(package, name, 1 << 20) == package.read(name)
        assert member(package, name, 10) == package.read(name)[:10]
    with pytest.raises(KeyError):
        member(package, "missing.xml", 10)


def test_a_member_whose_local_header_is_damaged_is_refused_not_misread():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", b"<workbook/>" * 100)
    data = bytearray(out.getvalue())
    data[0:4] = b"XXXX"  # the local header's signature
    package = zipfile.ZipFile(io.BytesIO(bytes(data)))
    with pytest.raises(zipfile.BadZipFile):
        member(package, "xl/workbook.xml", 100)
