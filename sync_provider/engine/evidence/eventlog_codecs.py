"""Decompression of Spark event-log files, in each codec's own framing, with a cap on the decompressed size.

Spark writes compressed event logs through its `CompressionCodec`s, not through the codecs' common file formats:
- lz4: `net.jpountz.lz4.LZ4BlockOutputStream` blocks ("LZ4Block" magic, token, LE lengths, xxhash32 checksum);
- snappy: snappy-java's `SnappyOutputStream` stream ("\\x82SNAPPY\\x00" header, BE-length-prefixed raw blocks);
  the standard snappy framing format ("sNaPpY" stream identifier) is accepted as well;
- zstd: standard zstd frames (`ZstdOutputStream`), possibly several concatenated;
- gzip: Databricks' log delivery gzips its rolled parts (".gz"), possibly as several members.

Everything is decoded incrementally as `Iterator[bytes]` chunks, so memory stays bounded whatever the file size.
The codec is chosen from the file's magic bytes (file names lie: ".inprogress", no suffix, renamed copies).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

import lz4.block
import snappy
import zstandard

CHUNK = 1 << 20

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LZ4_MAGIC = b"LZ4Block"
SNAPPY_JAVA_MAGIC = b"\x82SNAPPY\x00"
SNAPPY_FRAMED_MAGIC = b"\xff\x06\x00\x00sNaPpY"
LZF_MAGIC = b"ZV"

_LZ4_HEADER = struct.Struct("<BiiI")  # token, compressed length, original length, checksum (after the magic)
_LZ4_RAW, _LZ4_COMPRESSED = 0x10, 0x20


class EventLogError(Exception):
    """An event log that cannot be read; the message names the file and what to do."""


class TruncatedStream(Exception):
    """The compressed stream ended early (a log still being written); what came before it was delivered."""


def detect_codec(head: bytes, name: str = "") -> str:
    """Name the codec of a file from its first bytes ('plain' when it looks like JSON lines)."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(LZ4_MAGIC):
        return "lz4"
    if head.startswith(SNAPPY_JAVA_MAGIC):
        return "snappy"
    if head.startswith(SNAPPY_FRAMED_MAGIC):
        return "snappy-framed"
    if head.startswith(LZF_MAGIC) and name.endswith(".lzf"):
        return "lzf"
    return "plain"


class _Source:
    """A binary stream read in exact-size pieces (the block codecs need exact reads)."""

    def __init__(self, fh: BinaryIO, head: bytes):
        self.fh = fh
        self.buf = bytearray(head)

    def read(self, n: int) -> bytes:
        while len(self.buf) < n:
            more = self.fh.read(max(CHUNK, n - len(self.buf)))
            if not more:
                break
            self.buf += more
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_some(self) -> bytes:
        if self.buf:
            out = bytes(self.buf)
            self.buf.clear()
            return out
        return self.fh.read(CHUNK)


def _plain(src: _Source) -> Iterator[bytes]:
    while chunk := src.read_some():
        yield chunk


def _gzip(src: _Source) -> Iterator[bytes]:
    """gzip, possibly several members; output per call is bounded so a bomb cannot inflate in one step."""
    d = zlib.decompressobj(wbits=31)
    pending_member = False
    while chunk := src.read_some():
        data = chunk
        while data:
            out = d.decompress(data, CHUNK)
            pending_member = True
            if out:
                yield out
            if d.eof:  # a member ended: what follows (if anything) is the next member
                data = d.unused_data
                d = zlib.decompressobj(wbits=31)
                pending_member = False
            else:
                data = d.unconsumed_tail
    if pending_member:
        tail = d.flush()
        if tail:
            yield tail
        raise TruncatedStream("gzip stream ended before its end marker")


def _zstd(src: _Source) -> Iterator[bytes]:
    """Standard zstd frames, fed in small pieces so that one call can never inflate past ~128 MB."""
    dctx = zstandard.ZstdDecompressor()
    dobj = dctx.decompressobj()
    in_frame = False
    pending: list[bytes] = []
    size = 0
    while chunk := src.read_some():
        for i in range(0, len(chunk), 4096):
            piece = chunk[i : i + 4096]
            while piece:
                try:
                    out = dobj.decompress(piece)
                except zstandard.ZstdError as exc:
                    raise TruncatedStream(f"zstd data is damaged ({exc})") from None
                in_frame = True
                if out:
                    pending.append(out)
                    size += len(out)
                    if size >= CHUNK:
                        yield b"".join(pending)
                        pending, size = [], 0
                if dobj.eof:
                    piece = dobj.unused_data
                    dobj = dctx.decompressobj()
                    in_frame = False
                else:
                    piece = b""
    if pending:
        yield b"".join(pending)
    if in_frame:
        raise TruncatedStream("zstd stream ended inside a frame")


def _lz4(src: _Source) -> Iterator[bytes]:
    while True:
        magic = src.read(len(LZ4_MAGIC))
        if not magic:
            return
        if magic != LZ4_MAGIC:
            raise TruncatedStream("lz4 block stream lost its framing (no 'LZ4Block' magic where a block starts)")
        header = src.read(_LZ4_HEADER.size)
        if len(header) < _LZ4_HEADER.size:
            raise TruncatedStream("lz4 block stream ended inside a block header")
        token, clen, olen, _checksum = _LZ4_HEADER.unpack(header)
        if clen < 0 or olen < 0 or olen > 64 * 2**20:
            raise TruncatedStream(f"lz4 block header is damaged (lengths {clen}, {olen})")
        if olen == 0:  # end-of-stream marker; another stream may follow (appended logs)
            continue
        data = src.read(clen)
        if len(data) < clen:
            raise TruncatedStream("lz4 block stream ended inside a block")
        method = token & 0xF0
        if method == _LZ4_RAW:
            yield data
        elif method == _LZ4_COMPRESSED:
            yield lz4.block.decompress(data, uncompressed_size=olen)
        else:
            raise TruncatedStream(f"lz4 block has an unknown compression method {method:#x}")


def _snappy_java(src: _Source) -> Iterator[bytes]:
    header = src.read(16)  # magic + version + compatible version
    if not header.startswith(SNAPPY_JAVA_MAGIC):
        raise TruncatedStream("snappy stream has no snappy-java header")
    while True:
        size = src.read(4)
        if not size:
            return
        if len(size) < 4:
            raise TruncatedStream("snappy stream ended inside a block length")
        if size == SNAPPY_JAVA_MAGIC[:4]:  # a concatenated stream starts again with its header
            rest = src.read(12)
            if not (size + rest).startswith(SNAPPY_JAVA_MAGIC):
                raise TruncatedStream("snappy stream lost its framing")
            continue
        (n,) = struct.unpack(">i", size)
        if n < 0 or n > 64 * 2**20:
            raise TruncatedStream(f"snappy block length {n} is damaged")
        data = src.read(n)
        if len(data) < n:
            raise TruncatedStream("snappy stream ended inside a block")
        yield snappy.uncompress(data)


def _snappy_framed(src: _Source) -> Iterator[bytes]:
    d = snappy.StreamDecompressor()
    while chunk := src.read_some():
        out = d.decompress(chunk)
        if out:
            yield out
    try:
        d.flush()
    except snappy.UncompressError as exc:
        raise TruncatedStream(f"snappy framed stream ended inside a frame ({exc})") from None


_DECODERS: dict[str, Callable[[_Source], Iterator[bytes]]] = {
    "plain": _plain,
    "gzip": _gzip,
    "zstd": _zstd,
    "lz4": _lz4,
    "snappy": _snappy_java,
    "snappy-framed": _snappy_framed,
}


def decompressed_chunks(
    fh: BinaryIO,
    name: str,
    *,
    max_bytes: int,
    on_truncated: Callable[[str], None],
) -> Iterator[bytes]:
    """Yield the decompressed bytes of one file; stop with EventLogError past `max_bytes` (a decompression bomb).

    A stream that ends early is reported through `on_truncated` and what was decoded is kept: a log that is
    still being written is normal, not an error.
    """
    head = fh.read(16)
    codec = detect_codec(head, name)
    if codec == "lzf":
        raise EventLogError(f"{name}: the lzf codec is not supported; set spark.eventLog.compression.codec=zstd")
    total = 0
    try:
        for chunk in _DECODERS[codec](_Source(fh, head)):
            total += len(chunk)
            if total > max_bytes:
                raise EventLogError(
                    f"{name}: decompresses to more than {max_bytes:,} bytes ({codec}); refusing a possible "
                    "decompression bomb. Raise max_decompressed_bytes if this log is genuinely that large."
                )
            yield chunk
    except TruncatedStream as exc:
        on_truncated(f"{name}: {exc}; parsed what was readable (the log may still be being written)")
    except (zlib.error, lz4.block.LZ4BlockError, snappy.UncompressError) as exc:
        on_truncated(f"{name}: {codec} data is damaged ({exc}); parsed what was readable before it")


def iter_line_blocks(
    chunks: Iterator[bytes], *, max_line: int, on_long_line: Callable[[int], None]
) -> Iterator[tuple[bytes, int, int]]:
    """Split a chunk stream into blocks of complete lines, `(buf, start, end)`: the lines are `buf[start:end]`.

    Nothing is copied in the usual case: a block is the decompressed chunk itself,
    from after the line it shares with the previous chunk to its last newline (that shared line is yielded as
    a block of its own). Lines longer than `max_line` are skipped (and reported) without being buffered whole.
    """
    pending = b""
    skipping = False
    skipped = 0
    for chunk in chunks:
        if type(chunk) is not bytes:  # blocks are kept as views: they must be immutable
            chunk = bytes(chunk)
        start = 0
        if skipping:
            nl = chunk.find(b"\n")
            if nl < 0:
                skipped += len(chunk)
                continue
            skipped += nl
            on_long_line(skipped)
            skipping, skipped, start = False, 0, nl + 1
        last_nl = chunk.rfind(b"\n")
        if last_nl < start:
            pending += chunk[start:] if start else chunk
            if len(pending) > max_line:
                skipping, skipped, pending = True, len(pending), b""
            continue
        if pending:  # the line that began in an earlier chunk
            first_nl = chunk.find(b"\n", start)
            line = pending + chunk[start:first_nl]
            pending, start = b"", first_nl + 1
            if len(line) > max_line:
                on_long_line(len(line))
            else:
                yield line, 0, len(line)
            if start > last_nl:
                pending = chunk[last_nl + 1 :]
                if len(pending) > max_line:
                    skipping, skipped, pending = True, len(pending), b""
                continue
        if last_nl - start > max_line:  # a line in here may be over-long: look at each
            lines = chunk[start:last_nl].split(b"\n")
            for line in lines:
                if len(line) > max_line:
                    on_long_line(len(line))
            kept = [line for line in lines if len(line) <= max_line]
            if kept:
                block = b"\n".join(kept)
                yield block, 0, len(block)
        else:
            yield chunk, start, last_nl
        pending = chunk[last_nl + 1 :]
        if len(pending) > max_line:
            skipping, skipped, pending = True, len(pending), b""
    if skipping:
        on_long_line(skipped)
    elif pending:
        yield pending, 0, len(pending)


def iter_lines(chunks: Iterator[bytes], *, max_line: int, on_long_line: Callable[[int], None]) -> Iterator[bytes]:
    """Split a chunk stream into lines (see iter_line_blocks)."""
    for buf, start, end in iter_line_blocks(chunks, max_line=max_line, on_long_line=on_long_line):
        yield from buf[start:end].split(b"\n")
