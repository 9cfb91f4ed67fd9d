"""The parser's fast path (blocks walked in place, TaskEnd lines cut into slices, batch folds) changes nothing.

Each test compares the fast path with a slower one that is obviously right: lines split one by one, every
TaskEnd decoded whole (no cut at all), every field read with defaults.
"""

from __future__ import annotations

import random

import orjson
import pytest
from eventlog_factory import generate_events

from sync_provider.engine.evidence import eventlog_aggregate as agg
from sync_provider.engine.evidence.eventlog import parse_eventlog, summarize
from sync_provider.engine.evidence.eventlog_aggregate import ProfileBuilder
from sync_provider.engine.evidence.eventlog_codecs import iter_line_blocks


def _chunks(data: bytes, rng: random.Random, top: int) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        size = rng.randint(1, top)
        out.append(data[pos : pos + size])
        pos += size
    return out


def _block_lines(chunks: list[bytes], max_line: int) -> tuple[list[bytes], list[int]]:
    long: list[int] = []
    lines = [
        line
        for buf, start, end in iter_line_blocks(iter(chunks), max_line=max_line, on_long_line=long.append)
        for line in buf[start:end].split(b"\n")
    ]
    return lines, long


def _expected_lines(data: bytes, max_line: int) -> tuple[list[bytes], list[int]]:
    """The obvious answer from the whole log at once: every line, the over-long ones reported and left out."""
    lines = data.split(b"\n")
    if lines[-1] == b"":  # the log ended with a newline
        lines.pop()
    return [line for line in lines if len(line) <= max_line], [len(line) for line in lines if len(line) > max_line]


@pytest.mark.parametrize("seed", range(40))
def test_line_blocks_give_every_line_whatever_the_chunking(seed):
    rng = random.Random(seed)
    lines = [b"x" * rng.choice([0, 1, 5, 30, 80, 200]) + str(i).encode() for i in range(rng.randint(1, 60))]
    if rng.random() < 0.5:
        lines.insert(rng.randrange(len(lines)), b"")
    data = b"\n".join(lines) + (b"\n" if rng.random() < 0.5 else b"")
    chunks = _chunks(data, rng, rng.choice([3, 40, 300, 5000]))
    max_line = rng.choice([50, 120, 10_000])
    assert _block_lines(chunks, max_line) == _expected_lines(data, max_line)


def _profile_json(path, **kwargs) -> dict:
    doc = orjson.loads(parse_eventlog(path, **kwargs).model_dump_json())
    return doc


def _reference_json(path, monkeypatch, *, whole: bool = True) -> dict:
    """The profile without the fast path: every TaskEnd decoded whole, or (`whole=False`) cut line by line.

    Spark 2.x logs need the per-line cut: it is what carries the peak execution memory over from the
    accumulables (decoded whole, a Spark 2.x TaskEnd has no peak in its Task Metrics).
    """
    with monkeypatch.context() as m:
        m.setattr(agg, "_TASK_END_PREFIX", b"\x00never")  # TaskEnds go the per-line way (`_feed`)
        if whole:
            m.setattr(ProfileBuilder, "_cut_task_end", staticmethod(lambda line: line))
        m.setattr(agg, "_task_columns", agg._task_columns_tolerant)
        return _profile_json(path)


def _mixed_log() -> bytes:
    """Failures, killed and speculative tasks, Databricks tags, and stages whose TaskEnds interleave."""
    events = list(generate_events(jobs=6, stages_per_job=3, tasks_per_stage=700, fail_every=5, databricks=True))
    rng = random.Random(3)
    lines = [orjson.dumps(e) for e in events]
    for i in range(len(lines) - 1):  # TaskEnd lines of neighbouring stages change places now and then
        if lines[i].startswith(b'{"Event":"SparkListenerTask') and rng.random() < 0.3:
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return b"\n".join(lines) + b"\n"


def test_fast_path_equals_whole_line_decoding_on_a_generated_log(tmp_path, monkeypatch):
    path = tmp_path / "app.log"
    path.write_bytes(_mixed_log())
    assert _profile_json(path) == _reference_json(path, monkeypatch)


@pytest.mark.parametrize(
    "name", ["spark-2.3-standalone-failures", "spark-2.4-yarn", "spark-3.0-yarn", "spark-4.2-rolling"]
)
def test_fast_path_equals_the_slow_paths_on_real_logs(real_logs, name, monkeypatch):
    fast = _profile_json(real_logs[name])
    assert fast == _reference_json(real_logs[name], monkeypatch, whole=False)
    if not name.startswith("spark-2"):
        assert fast == _reference_json(real_logs[name], monkeypatch)


def test_irregular_task_lines_in_a_batch_fall_back_without_losing_the_others(tmp_path, monkeypatch):
    """Spark 2.x-shaped, metric-less and damaged TaskEnd lines among regular ones in the same batch."""
    lines = _mixed_log().split(b"\n")
    ends = [i for i, line in enumerate(lines) if line.startswith(b'{"Event":"SparkListenerTaskEnd"')]
    rng = random.Random(5)
    for i in rng.sample(ends, 40):
        event = orjson.loads(lines[i])
        choice = rng.randrange(3)
        if choice == 0:  # Spark 2.x: no peak in Task Metrics, only among the accumulables
            peak = event["Task Metrics"].pop("Peak Execution Memory")
            event["Task Info"]["Accumulables"].append(
                {"ID": 9, "Name": "internal.metrics.peakExecutionMemory", "Update": peak, "Value": peak}
            )
            event.pop("Task Executor Metrics", None)
        elif choice == 1:  # a failed task reported without metrics
            event.pop("Task Metrics")
            event["Task End Reason"] = {"Reason": "ExceptionFailure", "Class Name": "x", "Description": "y"}
        else:  # accumulables missing altogether
            event["Task Info"].pop("Accumulables")
        lines[i] = orjson.dumps(event)
    path = tmp_path / "app.log"
    path.write_bytes(b"\n".join(lines))
    fast = _profile_json(path)
    assert fast == _reference_json(path, monkeypatch, whole=False)
    damaged = list(lines)
    victim = ends[len(ends) // 2]
    damaged[victim] = damaged[victim][: len(damaged[victim]) - 40]  # a cut-off line inside a regular batch
    path.write_bytes(b"\n".join(damaged))
    p = parse_eventlog(path)
    assert p.num_tasks == fast["num_tasks"] - 1
    assert any("1 line(s) were not valid JSON" in w for w in p.warnings)


def test_task_columns_fast_and_tolerant_agree():
    events = [
        e
        for e in generate_events(jobs=1, stages_per_job=1, tasks_per_stage=300, fail_every=4)
        if e["Event"] == "SparkListenerTaskEnd"
    ]
    assert agg._task_columns(events) == agg._task_columns_tolerant(events)
    del events[7]["Task Metrics"]["Input Metrics"]
    with pytest.raises(KeyError):
        agg._task_columns(events)


def test_buffered_task_views_never_hold_more_than_the_cap(tmp_path, monkeypatch):
    """Sparse TaskEnds between huge ignored events: the batch is decoded early instead of holding every block."""
    padding = b'{"Event":"SparkListenerExecutorMetricsUpdate","junk":"' + b"x" * 64_000 + b'"}'
    lines, ends = [], 0
    for event in generate_events(jobs=2, stages_per_job=2, tasks_per_stage=600, fail_every=5):
        lines.append(orjson.dumps(event))
        if event["Event"] == "SparkListenerTaskEnd":
            ends += 1
            if ends % 10 == 0:
                lines.append(padding)
    path = tmp_path / "app.log"
    path.write_bytes(b"\n".join(lines))
    unbounded = parse_eventlog(path)
    held: list[int] = []
    feed_block = ProfileBuilder.feed_block

    def recording(self, buf, start, end):
        feed_block(self, buf, start, end)
        held.append(self._held_bytes)

    monkeypatch.setattr(agg, "MAX_HELD_BYTES", 256_000)
    monkeypatch.setattr(ProfileBuilder, "feed_block", recording)
    bounded = parse_eventlog(path)
    assert 0 < max(held) <= 256_000
    assert summarize(bounded) == summarize(unbounded)
    assert [s.completed_tasks for s in bounded.stages] == [s.completed_tasks for s in unbounded.stages]
