"""Bad input: each case is parsed with a recorded warning or refused with an error naming the file."""

from __future__ import annotations

import gzip

import orjson
import pytest
from eventlog_factory import Totals, generate_events, render
from spark_codecs import ENCODERS

from sync_provider.engine.evidence.eventlog import EventLogError, parse_eventlog


def _log(**kwargs) -> tuple[bytes, Totals]:
    totals = Totals()
    return render(generate_events(totals=totals, **kwargs)), totals


def test_truncated_gzip_is_parsed_with_a_warning(tmp_path):
    data, totals = _log(tasks_per_stage=200)
    packed = gzip.compress(data)
    path = tmp_path / "eventlog-2024-01-01--00-00.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])  # still being written
    p = parse_eventlog(path)
    assert 0 < p.num_tasks < totals.num_tasks
    assert any("gzip stream ended" in w and str(path) in w for w in p.warnings)
    assert any("no ApplicationEnd" in w for w in p.warnings)


@pytest.mark.parametrize("codec", ["zstd", "lz4", "snappy"])
def test_truncated_block_codecs_are_parsed_with_a_warning(tmp_path, codec):
    data, totals = _log(tasks_per_stage=200)
    packed = ENCODERS[codec](data)
    path = tmp_path / f"app.{codec}"
    path.write_bytes(packed[: len(packed) // 2])
    p = parse_eventlog(path)
    assert 0 < p.num_tasks < totals.num_tasks
    assert any(str(path) in w for w in p.warnings)


def test_a_log_cut_before_its_first_block_says_it_is_truncated_not_just_empty(tmp_path):
    data, _ = _log(tasks_per_stage=200)
    packed = ENCODERS["zstd"](data)
    path = tmp_path / "app.zstd"
    path.write_bytes(packed[:64])  # inside the first frame: nothing decodes yet
    with pytest.raises(EventLogError, match="empty .*zstd stream ended inside a frame"):
        parse_eventlog(path)


def test_garbage_and_overlong_lines_are_skipped_and_counted(tmp_path):
    data, totals = _log()
    lines = data.split(b"\n")
    lines.insert(5, b"this is not json at all")
    lines.insert(9, b'{"Event":"SparkListenerTaskEnd", broken')
    lines.insert(12, b'{"Event":"SparkListenerJobStart","x":"' + b"a" * 100_000 + b'"}')
    path = tmp_path / "app.log"
    path.write_bytes(b"\n".join(lines))
    p = parse_eventlog(path, max_line_bytes=50_000)
    assert p.num_tasks == totals.num_tasks
    assert any("2 line(s) were not valid JSON" in w for w in p.warnings)
    assert any("longer than 50,000 bytes" in w for w in p.warnings)


def test_overlong_line_spanning_chunks_is_never_buffered_whole(tmp_path):
    data, totals = _log()
    huge = b'{"Event":"SparkListenerEnvironmentUpdate","junk":"' + b"x" * (3 << 20) + b'"}\n'
    path = tmp_path / "app.log"
    path.write_bytes(huge + data)
    p = parse_eventlog(path, max_line_bytes=1 << 20)
    assert p.num_tasks == totals.num_tasks
    assert any("longer than" in w for w in p.warnings)


def test_unknown_event_types_are_ignored_with_a_warning(tmp_path):
    data, totals = _log()
    extra = orjson.dumps({"Event": "SparkListenerSomethingFromSpark9", "Value": 1}) + b"\n"
    path = tmp_path / "app.log"
    path.write_bytes(extra + data + extra)
    p = parse_eventlog(path)
    assert p.num_tasks == totals.num_tasks
    assert any("2 event(s) of unknown types" in w and "SparkListenerSomethingFromSpark9" in w for w in p.warnings)


def test_missing_application_end_uses_last_event(tmp_path):
    data, totals = _log(with_app_end=False)
    path = tmp_path / "app.inprogress"
    path.write_bytes(data)
    p = parse_eventlog(path)
    assert p.num_tasks == totals.num_tasks
    assert p.end_time_ms is not None and p.duration_s > 0
    assert any("no ApplicationEnd" in w for w in p.warnings)


def test_missing_first_part_is_flagged(tmp_path):
    data, totals = _log()
    lines = data.split(b"\n")
    cut = next(i for i, x in enumerate(lines) if b"SparkListenerTaskEnd" in x) + 3
    path = tmp_path / "app.log"
    path.write_bytes(b"\n".join(lines[cut:]))
    p = parse_eventlog(path)
    assert any("no ApplicationStart" in w for w in p.warnings)


def test_decompression_bomb_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(b"\n" * (50 << 20)))
    with pytest.raises(EventLogError, match=r"bomb\.gz: decompresses to more than 10,485,760 bytes"):
        parse_eventlog(path, max_decompressed_bytes=10 << 20)


def test_empty_directory_is_a_clear_error(tmp_path):
    with pytest.raises(EventLogError, match="no files found"):
        parse_eventlog(tmp_path)


def test_empty_file_and_non_eventlog_are_clear_errors(tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    with pytest.raises(EventLogError, match="empty"):
        parse_eventlog(empty)
    text = tmp_path / "notes.txt"
    text.write_bytes(b"hello\nworld\n")
    with pytest.raises(EventLogError, match="no Spark events found"):
        parse_eventlog(text)


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(EventLogError, match="no such file"):
        parse_eventlog(tmp_path / "nope")


def test_missing_first_part_still_counts_busy_time(tmp_path):
    data, totals = _log()
    lines = data.split(b"\n")
    first_task = next(i for i, x in enumerate(lines) if b"SparkListenerTaskEnd" in x)
    path = tmp_path / "app.log"
    path.write_bytes(b"\n".join(lines[first_task - 1 :]))
    p = parse_eventlog(path)
    assert 0 <= p.driver_only_s < p.duration_s / 2  # tasks ran most of the time: not all "driver-only"


def test_class_named_scheduler_events_are_known(tmp_path):
    """Spark 2.x writes events outside JsonProtocol's list by class name (seen in Spark's own test logs)."""
    data, totals = _log()
    extra = (
        b'{"Event":"org.apache.spark.scheduler.SparkListenerExecutorBlacklisted","time":1479252044930,'
        b'"executorId":"2","taskFailures":4}\n'
        b'{"Event":"org.apache.spark.scheduler.SparkListenerNodeUnblacklisted","time":1479252055635,'
        b'"nodeId":"172.22.0.111"}\n'
    )
    path = tmp_path / "app.log"
    path.write_bytes(data + extra)
    p = parse_eventlog(path)
    assert p.num_tasks == totals.num_tasks and p.warnings == []
