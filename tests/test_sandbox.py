"""The worker pool that isolates each file: a crash, a hang, an exception or a memory blow-up in
one job costs that job only, results keep the order of the jobs, and jobs queued behind a lost
worker are run by its replacement."""

import os
import sys
import time

import pytest
from minsheng.untrusted.sandbox import CRASHED, FAILED, OUT_OF_MEMORY, TIMED_OUT, Pool

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the memory limit is Linux's RLIMIT_AS")


def job(kind, factor):
    if kind == "ok":
        return factor * 2
    if kind == "abort":
        os.abort()  # what a Rust allocation failure does
    if kind == "hang":
        time.sleep(60)
    if kind == "raise":
        raise ValueError("x")
    if kind == "memory":
        return len(bytearray(8 * 1024 ** 3))
    if kind == "exit":
        os._exit(3)
    if kind == "panic":
        raise BaseException("a pyo3 panic is not an Exception")
    return kind


def test_each_failure_costs_only_its_own_job_and_the_order_is_kept():
    kinds = ["ok", "abort", "ok", "hang", "raise", "memory", "exit", "panic", "ok", "last"]
    pool = Pool(job, (21,), processes=2, timeout=2, memory=512 * 1024 ** 2)
    started = time.monotonic()
    outcomes = list(pool.map(kinds))
    assert [(o.result, o.failure) for o in outcomes] == [
        (42, ""), (None, CRASHED), (42, ""), (None, TIMED_OUT), (None, FAILED), (None, OUT_OF_MEMORY),
        (None, CRASHED), (None, FAILED), (42, ""), ("last", "")]
    assert outcomes[4].detail == "ValueError" and outcomes[7].detail == "BaseException"
    assert time.monotonic() - started < 30  # the hang cost its timeout, not a minute


def test_many_jobs_with_crashes_among_them_all_come_back_once():
    kinds = ["ok" if i % 7 else "abort" for i in range(60)]
    outcomes = list(Pool(job, (1,), processes=2, timeout=10).map(kinds))
    assert [o.failure == CRASHED for o in outcomes] == [k == "abort" for k in kinds]
    assert all(o.result == 2 for o, k in zip(outcomes, kinds) if k == "ok")


def test_a_job_sent_to_a_worker_that_had_just_died_is_run_not_called_crashed():
    # Crashes side by side on both workers: sends fail on dead workers again and again.
    kinds = (["abort", "abort", "ok", "ok"] * 8)
    outcomes = list(Pool(job, (1,), processes=2, timeout=10).map(kinds))
    assert [o.failure for o in outcomes] == [CRASHED if k == "abort" else "" for k in kinds]
