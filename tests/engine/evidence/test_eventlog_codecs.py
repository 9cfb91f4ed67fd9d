"""Each codec in Spark's own framing, produced the way Spark writes it, parses to the same profile."""

from __future__ import annotations

import base64

import pytest
from eventlog_factory import Totals, generate_events, render
from spark_codecs import ENCODERS, lz4_block_stream, xxh32

from sync_provider.engine.evidence.eventlog import parse_eventlog, summarize
from sync_provider.engine.evidence.eventlog_codecs import detect_codec

# Written by lz4-java 1.8.0 `new LZ4BlockOutputStream(out)` (64 KiB blocks) for the 13 bytes (i * 7 % 13 + 'a'):
# a stream made by the real Java writer, public test data of an unrelated project, used here as ground truth.
LZ4_JAVA_RAW13 = "TFo0QmxvY2sWDQAAAA0AAAC/fyACYWhiaWNqZGtlbGZtZ0xaNEJsb2NrFgAAAAAAAAAAAAAAAA=="


def test_xxh32_known_vectors():
    assert xxh32(b"") == 0x02CC5D05
    assert xxh32(b"abc") == 0x32D153FF


def test_lz4_writer_matches_lz4_java_byte_for_byte():
    payload = bytes((i * 7 % 13) + ord("a") for i in range(13))
    assert lz4_block_stream(payload, block_size=64 * 1024) == base64.b64decode(LZ4_JAVA_RAW13)


@pytest.fixture(scope="module")
def log_bytes() -> tuple[bytes, Totals]:
    totals = Totals()
    data = render(generate_events(jobs=2, stages_per_job=2, tasks_per_stage=300, totals=totals))
    assert len(data) > 200_000  # several codec blocks
    return data, totals


@pytest.mark.parametrize("codec", ["plain", "gz", "zstd", "lz4", "snappy"])
def test_each_codec_parses_identically(tmp_path, log_bytes, codec):
    data, totals = log_bytes
    path = tmp_path / f"app-1.{codec}"
    path.write_bytes(ENCODERS[codec](data))
    summary = summarize(parse_eventlog(path))
    assert summary["num_tasks"] == totals.num_tasks
    assert summary["input_bytes"] == totals.input_bytes
    assert summary["shuffle_read_bytes"] == totals.shuffle_read
    assert summary["executor_cpu_time_s"] == round(totals.cpu_ns / 1e9, 3)
    plain = tmp_path / "plain"
    plain.write_bytes(data)
    assert parse_eventlog(path).model_dump(exclude={"warnings"}) == parse_eventlog(plain).model_dump(
        exclude={"warnings"}
    )


def test_codec_is_detected_from_content_not_name(tmp_path, log_bytes):
    data, totals = log_bytes
    path = tmp_path / "eventlog.inprogress"  # no codec suffix
    path.write_bytes(ENCODERS["lz4"](data))
    assert detect_codec(path.read_bytes()[:16]) == "lz4"
    assert parse_eventlog(path).num_tasks == totals.num_tasks


def test_snappy_framing_format_is_accepted(tmp_path, log_bytes):
    import snappy

    data, totals = log_bytes
    path = tmp_path / "app.sz"
    path.write_bytes(snappy.StreamCompressor().add_chunk(data))
    assert parse_eventlog(path).num_tasks == totals.num_tasks


def test_multi_member_gzip_and_multi_frame_zstd(tmp_path, log_bytes):
    data, totals = log_bytes
    half = data.index(b"\n", len(data) // 2) + 1
    gz = tmp_path / "eventlog-2024-01-01--00-00.gz"
    gz.write_bytes(ENCODERS["gz"](data[:half]) + ENCODERS["gz"](data[half:]))
    zs = tmp_path / "app.zstd"
    zs.write_bytes(ENCODERS["zstd"](data[:half]) + ENCODERS["zstd"](data[half:]))
    assert parse_eventlog(gz).num_tasks == totals.num_tasks
    assert parse_eventlog(zs).num_tasks == totals.num_tasks


def test_progress_reports_raw_bytes_read(tmp_path, log_bytes):
    data, _ = log_bytes
    path = tmp_path / "app.zstd"
    path.write_bytes(ENCODERS["zstd"](data))
    seen: list[tuple[int, int | None]] = []
    parse_eventlog(path, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:], strict=False))
