"""Writers that frame data exactly as Spark's CompressionCodecs do, to produce test files the way Spark does.

- lz4: lz4-java's LZ4BlockOutputStream(out, blockSize) as Spark's LZ4CompressionCodec creates it: per block the
  "LZ4Block" magic, a token (method | log2(blockSize) - 10), compressed and original lengths (LE int32) and the
  XXH32 (seed 0x9747b28c) of the original bytes masked to 28 bits; RAW when compression does not pay; an empty
  block ends the stream.
- snappy: snappy-java's SnappyOutputStream(out, blockSize): the 16-byte header, then BE-length-prefixed blocks.
- zstd: standard frames (ZstdOutputStream).
"""

from __future__ import annotations

import gzip
import struct

import lz4.block
import snappy
import zstandard

_M32 = 0xFFFFFFFF
_P1, _P2, _P3, _P4, _P5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
LZ4_SEED = 0x9747B28C


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def xxh32(data: bytes, seed: int = 0) -> int:
    """XXH32, written out so the test files carry the same checksums lz4-java writes."""
    n, i = len(data), 0
    if n >= 16:
        v = [(seed + _P1 + _P2) & _M32, (seed + _P2) & _M32, seed & _M32, (seed - _P1) & _M32]
        while i <= n - 16:
            for k in range(4):
                (lane,) = struct.unpack_from("<I", data, i + 4 * k)
                v[k] = (_rotl((v[k] + lane * _P2) & _M32, 13) * _P1) & _M32
            i += 16
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M32
    else:
        h = (seed + _P5) & _M32
    h = (h + n) & _M32
    while i <= n - 4:
        (word,) = struct.unpack_from("<I", data, i)
        h = (_rotl((h + word * _P3) & _M32, 17) * _P4) & _M32
        i += 4
    while i < n:
        h = (_rotl((h + data[i] * _P5) & _M32, 11) * _P1) & _M32
        i += 1
    h ^= h >> 15
    h = (h * _P2) & _M32
    h ^= h >> 13
    h = (h * _P3) & _M32
    h ^= h >> 16
    return h


def lz4_block_stream(data: bytes, block_size: int = 32 * 1024) -> bytes:
    level = max(0, block_size.bit_length() - 1 - 10)
    out = bytearray()
    for start in range(0, len(data), block_size):
        block = data[start : start + block_size]
        check = xxh32(block, LZ4_SEED) & 0xFFFFFFF
        packed = lz4.block.compress(block, store_size=False)
        if len(packed) >= len(block):
            token, payload = 0x10 | level, block
        else:
            token, payload = 0x20 | level, packed
        out += b"LZ4Block" + struct.pack("<BiiI", token, len(payload), len(block), check) + payload
    out += b"LZ4Block" + struct.pack("<BiiI", 0x10 | level, 0, 0, 0)
    return bytes(out)


def snappy_java_stream(data: bytes, block_size: int = 32 * 1024) -> bytes:
    out = bytearray(b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1))
    for start in range(0, len(data), block_size):
        packed = snappy.compress(data[start : start + block_size])
        out += struct.pack(">i", len(packed)) + packed
    return bytes(out)


def zstd_stream(data: bytes, level: int = 1) -> bytes:
    return zstandard.ZstdCompressor(level=level).compress(data)


def gzip_stream(data: bytes) -> bytes:
    return gzip.compress(data)


ENCODERS = {
    "plain": lambda d: d,
    "gz": gzip_stream,
    "zstd": zstd_stream,
    "lz4": lz4_block_stream,
    "snappy": snappy_java_stream,
}
