"""Parts of a zip package (a workbook) held in memory: read without zipfile's stream machinery,
and the map from a workbook's sheet names to the parts that hold them. Shared by ``guard`` (before
any reader) and ``sheetxml`` (what calamine cannot tell)."""

from __future__ import annotations

import posixpath
import re
import struct
import weakref
import zipfile
import zlib

MAX_PART_BYTES = 50 * 1024 * 1024

_SHEET = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"|'
                    rb'<(?:\w+:)?sheet\b[^>]*?\br:id="([^"]*)"[^>]*?\bname="([^"]*)"')
_RELATIONSHIP = re.compile(rb'<Relationship\b[^>]*?\bId="([^"]*)"[^>]*?\bTarget="([^"]*)"|'
                           rb'<Relationship\b[^>]*?\bTarget="([^"]*)"[^>]*?\bId="([^"]*)"')


def unescape(text: bytes) -> str:
    return (text.decode("utf-8", "replace").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))




def prefix(package: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """The first ``limit`` bytes of a member, decompressing no more than that; b"" when it cannot be read."""
    try:
        return member(package, name, limit)
    except (KeyError, zipfile.BadZipFile, zlib.error, OSError, RuntimeError, EOFError, ValueError, NotImplementedError):
        return b""  # RuntimeError: an encrypted member; the reader will say more


def member(package: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """Up to ``limit`` bytes of a member, decompressed straight from the package's bytes when they
    are in memory (as ``inspect`` leaves them): zipfile's stream machinery costs more than the
    small parts a form is made of. The reader checks the CRCs; this only looks."""
    info = package.getinfo(name)
    getvalue = getattr(package.fp, "getvalue", None)
    if getvalue is None or info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        with package.open(name) as stream:
            return stream.read(limit)
    data = getvalue()  # the very bytes ``inspect`` was given: no copy
    start = info.header_offset
    header = data[start:start + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(name)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    begin = start + 30 + name_length + extra_length
    raw = data[begin:begin + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        return raw[:limit]
    return zlib.decompressobj(-15).decompress(raw, limit)


_SHEET_PARTS: weakref.WeakKeyDictionary[zipfile.ZipFile, dict[str, str]] = weakref.WeakKeyDictionary()


def sheet_part(package: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding the sheet called ``sheet`` (the map is read once per package)."""
    parts = _SHEET_PARTS.get(package)
    if parts is None:
        parts = _SHEET_PARTS[package] = sheet_parts(package)
    return parts.get(sheet)


def sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the zip member that holds it."""
    workbook = member(package, "xl/workbook.xml", MAX_PART_BYTES)
    ids = {}
    for match in _SHEET.finditer(workbook):
        name, rid = (match.group(1), match.group(2)) if match.group(1) is not None else (match.group(4), match.group(3))
        ids[rid] = unescape(name)
    parts = {}
    rels = member(package, "xl/_rels/workbook.xml.rels", MAX_PART_BYTES)
    for match in _RELATIONSHIP.finditer(rels):
        rid, target = (match.group(1), match.group(2)) if match.group(1) is not None else (match.group(4), match.group(3))
        if rid in ids:
            target = unescape(target)
            parts[ids[rid]] = (target.lstrip("/") if target.startswith("/")
                               else posixpath.normpath(posixpath.join("xl", target)))
    return parts
