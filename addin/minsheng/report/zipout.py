"""Writing the consolidated workbook's package, its big sheets compressed while they are made (压缩).

A province's 指标明细 is ~40 MB of sheet XML. Compressing it after the rows are laid out is a second
of work with one core idle; zlib lets go of the interpreter while it works, so a ``Deflater``
compresses each batch of rows in a thread of its own as the rows arrive, and the package is then
put together from the compressed pieces.

A member is stored as one deflate stream made of segments that were compressed separately: each
segment but the last ends on a byte boundary (``Z_SYNC_FLUSH``), which makes their concatenation a
valid stream, and the member's CRC-32 is combined from the segments' CRCs.
"""

from __future__ import annotations

import queue
import shutil
import struct
import tempfile
import threading
import zlib
from typing import BinaryIO, NamedTuple

LEVEL = 1  # fastest deflate: the big sheets compress 4× faster than at 6, and still ~6:1
BATCH = 1 << 20  # bytes handed to the compressing thread at a time
_LIMIT = 0xFFFFFFFF  # plain zip (no zip64): sizes and offsets below 4 GiB; a workbook is far below
_DOS_TIME, _DOS_DATE = 0, (1 << 5) | 1  # 1980-01-01 00:00: the same bytes for the same content
_UTF8 = 1 << 11  # general purpose flag: the name is UTF-8


class Segment(NamedTuple):
    """A piece of a member, compressed: the CRC-32 and length of what it holds, the length of the
    raw deflate bytes, and those bytes (in ``data``, or in ``file`` from its current position)."""

    crc: int
    size: int
    compressed: int
    data: bytes = b""
    file: BinaryIO | None = None


def segment(data: bytes, final: bool = False) -> Segment:
    """``data`` compressed in one go (a sheet's head or tail)."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    body = compressor.compress(data) + compressor.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)
    return Segment(zlib.crc32(data), len(data), len(body), body)


class Deflater:
    """Compresses what is written to it in a thread of its own, into a temporary file.

    ``write`` only collects; full batches go to the thread through a short queue (so memory stays
    a few MB however long the member). ``finish`` returns the ``Segment``; ``close`` stops the
    thread and removes the file, whatever happened.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._batch: list[bytes] = []
        self._batched = 0
        self._crc = self._size = self._compressed = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="minsheng-deflate", daemon=True)
        self._thread.start()
        self._done = False

    def _run(self) -> None:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        crc = size = compressed = 0
        try:
            while (data := self._queue.get()) is not None:
                crc = zlib.crc32(data, crc)
                size += len(data)
                compressed += self._file.write(compressor.compress(data))
            compressed += self._file.write(compressor.flush(zlib.Z_SYNC_FLUSH))
            self._crc, self._size, self._compressed = crc, size, compressed
        except BaseException as exc:  # noqa: BLE001 - told to the writer in ``finish``
            self._error = exc
            while self._queue.get() is not None:  # let the writer go on to ``finish``
                pass

    def write(self, data: bytes) -> None:
        self._batch.append(data)
        self._batched += len(data)
        if self._batched >= BATCH:
            self._send()

    def _send(self) -> None:
        if self._batch:
            self._queue.put(b"".join(self._batch))
            self._batch, self._batched = [], 0

    def finish(self) -> Segment:
        if not self._done:
            self._send()
            self._queue.put(None)
            self._thread.join()
            self._done = True
        if self._error is not None:
            raise self._error
        self._file.seek(0)
        return Segment(self._crc, self._size, self._compressed, file=self._file)

    def close(self) -> None:
        if not self._done:
            self._batch = []
            self._queue.put(None)
            self._thread.join()
            self._done = True
        self._file.close()


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of A+B from CRC(A), CRC(B) and len(B) (zlib's crc32_combine, which Python lacks)."""
    if length2 <= 0:
        return crc1

    def times(matrix: list[int], vector: int) -> int:
        total, i = 0, 0
        while vector:
            if vector & 1:
                total ^= matrix[i]
            vector >>= 1
            i += 1
        return total

    def square(matrix: list[int]) -> list[int]:
        return [times(matrix, matrix[n]) for n in range(32)]

    operator = [0xEDB88320] + [1 << n for n in range(31)]  # appends one zero bit
    operator = square(square(operator))  # four zero bits
    while length2:  # one zero byte, then two, four…: applied for each set bit of length2
        operator = square(operator)
        if length2 & 1:
            crc1 = times(operator, crc1)
        length2 >>= 1
    return crc1 ^ crc2


class ZipWriter:
    """A zip package written member by member, each member from compressed segments."""

    def __init__(self, out: BinaryIO):
        self._out = out
        self._entries: list[tuple[bytes, int, int, int, int, int]] = []  # name, flags, crc, sizes, offset
        self._offset = 0

    def write(self, name: str, data: bytes) -> None:
        self.write_segments(name, [segment(data, final=True)])

    def write_segments(self, name: str, segments: list[Segment]) -> None:
        """A member made of ``segments`` in order; the last must have been compressed as final."""
        crc, size, compressed = 0, 0, 0
        for part in segments:
            crc = crc32_combine(crc, part.crc, part.size) if size else part.crc
            size += part.size
            compressed += part.compressed
        encoded = name.encode("utf-8")
        flags = 0 if name.isascii() else _UTF8  # as zipfile does: names are UTF-8 when they must be
        offset = self._offset
        if max(size, compressed, offset) >= _LIMIT:
            raise OverflowError("zip member too large")
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, 8, _DOS_TIME, _DOS_DATE, crc, compressed,
                             size, len(encoded), 0) + encoded
        self._out.write(header)
        for part in segments:
            if part.file is None:
                self._out.write(part.data)
            else:
                shutil.copyfileobj(part.file, self._out, BATCH)
        self._offset += len(header) + compressed
        self._entries.append((encoded, flags, crc, compressed, size, offset))

    def close(self) -> None:
        """The central directory, after the last member."""
        start = self._offset
        directory = bytearray()
        for name, flags, crc, compressed, size, offset in self._entries:
            directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, 8, _DOS_TIME, _DOS_DATE,
                                     crc, compressed, size, len(name), 0, 0, 0, 0, 0, offset) + name
        if start + len(directory) >= _LIMIT:
            raise OverflowError("zip package too large")
        self._out.write(bytes(directory))
        self._out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(self._entries), len(self._entries),
                                    len(directory), start, 0))
