"""How long a stage of unequal tasks takes on a number of task slots that take them first come, first served.

Spark hands a stage's tasks, in index order, to whichever slot frees first. Two effects decide the wall time
beyond the packed time (all task time over the slots):

- The end of the stage: the slots drift apart over the waves, and the stage ends when the largest of the last
  tasks to start has finished (`body_wall`). One wave ends with its largest task.
- A straggler (a hot key, a task that spills far more than the rest) starts wherever its index falls and runs on
  after the others have finished (`fifo_wall`).

Both are read off the tail of the stage's task sizes (p50, p75, p90, p99 and the largest task, `size_at_rank`),
so they need no assumption about the shape of the distribution. Checked against simulated FIFO schedules in
tests/engine/prediction/test_replay.py.
"""

from __future__ import annotations

import numpy as np

#: Where p50, p75, p90 and p99 sit, as log odds of a task exceeding them (ln 1/(1-q)); the largest of n tasks
#: sits at ln(n + 1).
TAIL_LOG_ODDS = np.log([2.0, 4.0, 10.0, 100.0])


def size_at_rank(tail: np.ndarray, profiled_tasks: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Relative size of the largest of k tasks (stages x candidates).

    The largest of k draws sits near the quantile exceeded once in k + 1 draws; that is interpolated (log size
    against log odds) between the stage's sizes at p50, p75, p90, p99 and its largest task (`tail`, stages x 5),
    of the profiled stage's `profiled_tasks` tasks."""
    out = np.empty(k.shape)
    logs = np.log(np.maximum(tail, 1e-9))
    for i in range(k.shape[0]):
        xs = np.append(TAIL_LOG_ODDS, max(np.log(profiled_tasks[i] + 1.0), TAIL_LOG_ODDS[-1] + 1e-6))
        out[i] = np.exp(np.interp(np.log(np.maximum(k[i], 1.0) + 1.0), xs, logs[i]))
    return out


def body_wall(tasks: np.ndarray, slots: np.ndarray, top_all: np.ndarray, top_slot: np.ndarray) -> np.ndarray:
    """Wall time, in mean task times, of `tasks` tasks taken first come, first served by `slots` slots, where
    the largest of them all takes `top_all` mean task times and the largest of a slot's worth `top_slot`.

    One wave ends with its largest task. Over several waves the slots drift apart, and the stage ends when the
    last tasks to start, about one per slot, have finished: the packed time less half a task plus the largest of
    a slot's worth, but never more than the full waves before the last plus that largest (tasks of nearly equal
    size keep the slots in step). Against simulated schedules (lognormal task times, spread 0.05-0.8, 1-25
    waves) this is within 5% on average; the wave-and-packing average it replaced was 15% short at 1-3 waves."""
    waves = tasks / slots
    packed = tasks / np.minimum(slots, tasks)
    several = np.maximum(top_all, np.minimum(np.ceil(waves) - 1.0 + top_slot, packed - 0.5 + top_slot))
    return np.where(waves <= 1.0, top_all, several)


def fifo_wall(layout: np.ndarray, longest: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Expected wall time of a stage whose longest task starts anywhere in the first `span` seconds.

    Slots take tasks first come, first served, so the longest task starts at a point of the stage that its index
    decides, uniform over the waves before the last: where it starts late, it runs on after the others finished.
    E[max(layout, s + longest)] for s ~ U(0, span); one wave (span 0) is max(layout, longest)."""
    a = layout - longest
    span_ = np.maximum(span, 1e-9)
    mid = (a / span_) * layout + ((span_ - a) / span_) * ((a + span_) / 2 + longest)
    out = np.where(a >= span_, layout, np.where(a <= 0, longest + span_ / 2, mid))
    return np.where(span <= 0, np.maximum(layout, longest), out)
