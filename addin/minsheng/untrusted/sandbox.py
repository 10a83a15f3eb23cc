"""Reading untrusted files in worker processes that may crash, hang or run out of memory (隔离).

python-calamine is Rust: on some hostile workbooks it does not raise, it aborts the whole process
(a sheet claiming a cell at XFD1048576 makes it allocate 512 GB), or panics with an exception
that is not an ``Exception``. Python code around it can't catch that. So each file is read in a
worker process: a crash, a hang past ``timeout`` or a blow-up past ``memory`` costs that one file
(its problem entry says why) and a fresh worker takes over; the run goes on.

``Pool.map`` keeps the order of the jobs, so results do not depend on which worker was faster.
Where processes cannot be started at all, jobs run in this process, still isolated by
``try/except BaseException`` (everything but a crash is then still caught).

Workers die with their parent, even one killed outright (``kill -9``, the task manager): each
watches the read end of a pipe (the lifeline) whose write end only the parent holds, and ends
itself when the pipe closes. This works the same for forked (Linux) and spawned (Windows, macOS)
workers; a forked child lets go of its inherited copy of the write end at once (``os.register_at_fork``).
"""

from __future__ import annotations

import _thread
import faulthandler
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

DEFAULT_TIMEOUT = 60.0  # seconds for one file; a department's workbook takes milliseconds
DEFAULT_MEMORY = 1024 * 1024 * 1024  # bytes a worker may add to what it started with

CRASHED = "crashed"
TIMED_OUT = "timed_out"
OUT_OF_MEMORY = "out_of_memory"
FAILED = "failed"  # an exception; ``detail`` names its type


@dataclass(frozen=True)
class Outcome:
    """What became of one job: its result, or why there is none."""

    result: Any = None
    failure: str = ""  # one of CRASHED, TIMED_OUT, OUT_OF_MEMORY, FAILED; empty on success
    detail: str = ""


def _run(function: Callable, job: Any, setup: tuple) -> Outcome:
    try:
        return Outcome(function(job, *setup))
    except MemoryError:
        return Outcome(failure=OUT_OF_MEMORY)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a Rust panic is a BaseException
        return Outcome(failure=FAILED, detail=type(exc).__name__)


def _limit_memory(extra: int) -> None:
    """Cap this process's address space at what it uses now plus ``extra`` (Linux)."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = used + extra
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError, AttributeError):
        pass  # Windows and macOS: the time limit still applies


# The lifeline of this process's workers: (pid it was made in, read end, write end). One pipe serves
# every worker of every pool; the parent never writes to it, it only keeps the write end open.
_lifeline: tuple[int, Any, Any] | None = None
_lifeline_lock = threading.Lock()


def _lifeline_reader(ctx):
    """The read end workers watch, made once per process."""
    global _lifeline
    with _lifeline_lock:
        if _lifeline is None or _lifeline[0] != os.getpid():
            reader, writer = ctx.Pipe(duplex=False)
            _lifeline = (os.getpid(), reader, writer)
        return _lifeline[1]


def _forget_lifeline() -> None:
    """In a forked child (a worker, or any other): let go of the parent's write end, so that the
    parent's death is seen by its workers even while this child lives."""
    global _lifeline, _lifeline_lock
    _lifeline_lock = threading.Lock()  # another thread may have held it when the fork happened
    if _lifeline is not None:
        try:
            _lifeline[2].close()
        except OSError:
            pass
        _lifeline = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_lifeline)


def _die_with_parent(lifeline) -> None:
    """End this worker as soon as the parent is gone (its end of the lifeline closed)."""
    def watch() -> None:
        try:
            lifeline.recv_bytes()  # nothing is ever sent: this returns only by EOF
        except BaseException:  # noqa: BLE001 - EOFError, OSError: the parent is gone
            pass
        os._exit(1)

    # A bare thread: ``threading.Thread.start`` waits for the thread to run (4× the cost), and
    # nothing joins this one; it ends with the process.
    _thread.start_new_thread(watch, ())


def _worker(conn, function: Callable, setup: tuple, memory: int, lifeline=None) -> None:
    # Ctrl-C in a console reaches every process of the group: the main process stops the run and
    # these workers with it, and none of them prints a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A dying reader prints a Rust backtrace; the user sees our problem entry instead.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    except OSError:
        pass
    faulthandler.disable()  # a forked worker inherits the parent's handler and its own copy of stderr
    if lifeline is not None:
        _die_with_parent(lifeline)  # before the memory cap: its thread's stack is part of the start
    _limit_memory(memory)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        outcome = _run(function, job, setup)
        try:
            conn.send(outcome)
        except Exception:  # noqa: BLE001 - a result that cannot be pickled
            conn.send(Outcome(failure=FAILED, detail="unpicklable"))


def _context():
    methods = multiprocessing.get_all_start_methods()
    # fork is the quickest to start and shares the register without pickling; Windows spawns.
    return multiprocessing.get_context("fork" if "fork" in methods and sys.platform != "darwin" else "spawn")


class _Worker:
    def __init__(self, ctx, function: Callable, setup: tuple, memory: int):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, function, setup, memory, _lifeline_reader(ctx)),
                                   daemon=True)
        self.process.start()
        child.close()
        self.jobs: deque[tuple[int, Any]] = deque()  # sent, in order; the first is being worked on
        self.started = 0.0  # when the first began
        self.given = 0

    def give(self, index: int, job: Any) -> None:
        self.conn.send(job)
        self.given += 1
        if not self.jobs:
            self.started = time.monotonic()
        self.jobs.append((index, job))

    def finished(self) -> int:
        index, _ = self.jobs.popleft()
        self.started = time.monotonic()  # the next one begins now
        return index

    def stop(self, kill: bool = False) -> None:
        try:
            if kill:
                self.process.kill()
            else:
                self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


# Jobs sent to a worker ahead: while the main process takes in one result, the worker is already
# on the next job instead of waiting for it.
DEPTH = 2


class Pool:
    """Run ``function(job, *setup)`` for every job in up to ``processes`` isolated workers."""

    def __init__(self, function: Callable, setup: tuple = (), processes: int | None = None,
                 timeout: float = DEFAULT_TIMEOUT, memory: int = DEFAULT_MEMORY):
        self.function, self.setup = function, setup
        self.processes = max(1, processes or min(os.cpu_count() or 1, 4))
        self.timeout, self.memory = timeout, memory

    def map(self, jobs: Iterable[Any]) -> Iterator[Outcome]:
        """Outcomes in the order of ``jobs``; never raises for what a job does."""
        try:
            ctx = _context()
            workers = [_Worker(ctx, self.function, self.setup, self.memory)]
        except Exception:  # noqa: BLE001 - no processes here (an embedded or restricted Python)
            for job in jobs:
                yield _run(self.function, job, self.setup)
            return
        try:
            yield from self._map(ctx, workers, jobs)
        finally:
            for worker in workers:
                worker.stop(kill=bool(worker.jobs))

    def _map(self, ctx, workers: list[_Worker], jobs: Iterable[Any]) -> Iterator[Outcome]:
        queue = iter(enumerate(jobs))
        pending: deque[tuple[int, Any]] = deque()  # jobs to run before new ones: sent to a lost worker
        retried: set[int] = set()
        done: dict[int, Outcome] = {}
        next_out = 0
        exhausted = False

        def take() -> tuple[int, Any] | None:
            nonlocal exhausted
            if pending:
                return pending.popleft()
            item = None if exhausted else next(queue, None)
            exhausted = item is None
            return item

        def lose(worker: _Worker, failure: str) -> None:
            """The worker died or hung on its first job; the jobs behind it never began."""
            # Results it sent before dying are still in the pipe (found out by a failed send,
            # before they were read): they count, and only the job after them was lost.
            drained = False
            try:
                while worker.jobs and worker.conn.poll():
                    done[worker.finished()] = worker.conn.recv()
                    drained = True
            except (EOFError, OSError):
                pass
            if drained and failure == TIMED_OUT:
                return  # it was not hung after all; its next job starts its clock now
            if worker.jobs:
                done[worker.jobs[0][0]] = Outcome(failure=failure)
                pending.extendleft(reversed(list(worker.jobs)[1:]))
            worker.stop(kill=True)
            workers[workers.index(worker)] = _Worker(ctx, self.function, self.setup, self.memory)

        while True:
            for worker in list(workers):
                while len(worker.jobs) < DEPTH:
                    item = take()
                    if item is None:
                        break
                    try:
                        worker.give(*item)
                    except (OSError, ValueError):
                        # It died on an earlier job, so this one was never received: it goes to
                        # the replacement. Only a worker that dies before any job (a broken
                        # environment) costs the job itself, on the second such death.
                        if worker.given and item[0] not in retried:
                            pending.appendleft(item)
                        elif item[0] in retried:
                            done[item[0]] = Outcome(failure=CRASHED)
                        else:
                            retried.add(item[0])
                            pending.appendleft(item)
                        lose(worker, CRASHED)
                        break
            # Start the other workers only when there is work for them.
            if len(workers) < self.processes and all(w.jobs for w in workers):
                item = take()
                if item is not None:
                    pending.appendleft(item)
                    workers.append(_Worker(ctx, self.function, self.setup, self.memory))
                    continue
            busy = [w for w in workers if w.jobs]
            if busy:
                wait_for = max(0.0, min(w.started + self.timeout for w in busy) - time.monotonic())
                ready = wait([w.conn for w in busy], timeout=wait_for)
                for worker in busy:
                    if worker.conn in ready:
                        try:
                            outcome = worker.conn.recv()
                        except (EOFError, OSError):
                            lose(worker, CRASHED)
                            continue
                        done[worker.finished()] = outcome
                    elif time.monotonic() - worker.started >= self.timeout:
                        lose(worker, TIMED_OUT)
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
            if not busy and exhausted and not pending:
                return
