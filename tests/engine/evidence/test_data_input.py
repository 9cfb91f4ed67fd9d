"""The job's data size from a profile: what it reads once, not its re-reads (cache misses, loops, retries)."""

from __future__ import annotations

from sync_provider.engine.evidence.profile import JobProfile, Profile, StageProfile, data_input_bytes


def _profile(stages: list[tuple], jobs: list[tuple[int, list[int]]]) -> Profile:
    """`stages`: (stage id, name, input bytes, attempt[, tasks]); `jobs`: (job id, its stage ids)."""
    return Profile(
        stages=[
            StageProfile(
                stage_id=st[0], name=st[1], input_bytes=st[2], attempt_id=st[3], num_tasks=(st[4:] or [200])[0]
            )
            for st in stages
        ],
        jobs=[JobProfile(job_id=j, stage_ids=ids) for j, ids in jobs],
        input_bytes=sum(st[2] for st in stages),
    )


def test_the_iterations_of_a_loop_count_once_at_their_largest_read():
    # Load (100), then three passes over the cached data: the first reads it all, the later ones re-read what
    # did not fit in the cache. The data is 200, whatever the cluster's memory made the passes re-read.
    p = _profile(
        [(0, "load", 100, 0), (1, "pass", 100, 0), (2, "pass", 60, 0), (3, "pass", 60, 0)],
        [(0, [0]), (1, [1]), (2, [2]), (3, [3])],
    )
    assert p.input_bytes == 320
    assert data_input_bytes(p) == 200


def test_distinct_reads_in_one_job_add_up_and_a_retried_stage_counts_once():
    p = _profile(
        [(0, "scan orders", 80, 0), (1, "scan customers", 20, 0), (1, "scan customers", 20, 1), (2, "join", 0, 0)],
        [(0, [0, 1, 2])],
    )
    assert data_input_bytes(p) == 100


def test_a_stage_a_later_job_lists_but_skips_belongs_to_the_job_that_ran_it():
    # Job 1 lists stage 1 (it reuses job 0's shuffle output) and runs stage 2: two different jobs, both counted.
    p = _profile([(0, "scan", 50, 0), (1, "agg", 0, 0), (2, "scan", 30, 0)], [(0, [0, 1]), (1, [1, 2])])
    assert data_input_bytes(p) == 80


def test_without_job_records_every_stage_counts_once():
    p = _profile([(0, "scan", 50, 0), (0, "scan", 50, 1), (1, "scan", 30, 0)], [])
    assert data_input_bytes(p) == 80


def test_two_tables_written_from_the_same_line_of_code_both_count():
    # PySpark names stages after the call site: two writes from one helper have the same stage names, but read
    # different numbers of files.
    p = _profile(
        [(0, "save at helper.py:12", 70, 0, 120), (1, "save at helper.py:12", 30, 0, 40)], [(0, [0]), (1, [1])]
    )
    assert data_input_bytes(p) == 100
