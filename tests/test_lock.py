"""One run at a time per working folder (``.minsheng.lock``), and workers that die with their parent.

Through the CLI as a clerk runs it: a second run is refused naming the holder and touches nothing;
a stale lock (its process gone, older than an hour, or unreadable) is taken over with a notice;
the lock goes with the run however it ends; ``validate`` does not need it."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import fill, write_lock
from minsheng import lock
from minsheng.cli import EXIT_FAILED, EXIT_OK, main
from minsheng.config import load_config
from minsheng.errors import FolderInUseError
from minsheng.lock import LOCK_NAME, read_holder, working_folder


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def office(workfolder, capsys, monkeypatch):
    """A working folder with templates made and 市教育局's form returned, the CLI run from inside it."""
    monkeypatch.chdir(workfolder)
    assert main(["templates"]) == EXIT_OK
    template = workfolder / "下发" / "2020-06" / "2020-06_市教育局_填报表.xlsx"
    fill(template, workfolder / "收集" / "2020-06" / "教育局.xlsx", {"7-1": 12, "7-2": 5, "8-1": "前期准备"})
    capsys.readouterr()
    return workfolder


@pytest.fixture
def sleeper():
    """A live process on this computer whose pid a lock can name."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process.pid
    process.kill()
    process.wait()


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def snapshot(folder: Path) -> dict[str, object]:
    """Every file and folder under ``folder``: its bytes and modification time."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else "folder"
            for p in sorted(folder.rglob("*"))}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(LOCK_NAME))


# ---------------------------------------------------------------------------------------------
# A second run

def test_a_second_consolidation_is_refused_naming_the_holder_and_touches_nothing(office, capsys, sleeper):
    assert run(capsys, "consolidate")[0] == EXIT_OK  # outputs and a ledger that must stay as they are
    since = dt.datetime.now().astimezone().replace(second=0)
    path = write_lock(office, sleeper, since=since)
    before = snapshot(office)
    code, out, err = run(capsys, "consolidate")
    assert code == EXIT_FAILED and out == ""
    assert err == (f"错误：工作文件夹正由 张三（电脑 {socket.gethostname()}，进程 {sleeper}）于 "
                   f"{since:%Y-%m-%d %H:%M} 开始的“汇总”使用，请等它结束后再试；如确认没有在运行，可删除 {path}\n")
    assert snapshot(office) == before  # inputs, outputs, ledger and the lock itself


def test_a_lock_from_another_computer_is_respected_while_it_is_fresh(office, capsys):
    path = write_lock(office, 1234, host="PC-01", command="生成通报")
    before = snapshot(office)
    for command in ("templates", "consolidate", "circular", "run"):
        code, _, err = run(capsys, command)
        assert code == EXIT_FAILED, command
        assert "工作文件夹正由 张三（电脑 PC-01，进程 1234）于" in err and "开始的“生成通报”使用" in err
        assert err.count("\n") == 1
    assert snapshot(office) == before
    assert path.is_file()


def test_validate_works_while_the_folder_is_locked(office, capsys, sleeper):
    write_lock(office, sleeper)
    code, out, _ = run(capsys, "validate", str(office / "收集" / "2020-06"))
    assert code == EXIT_OK and "共检查 1 个文件" in out
    assert read_holder(office).pid == sleeper


def test_the_add_in_tells_the_holder_in_a_message_box(office, sleeper):
    from minsheng import addin

    class Excel:
        def __init__(self):
            self.messages = []

        def caller_path(self):
            return office / "任务台账.xlsx"

        def status(self, text):
            pass

        def message(self, text, error=False):
            self.messages.append((text, error))

        def open(self, path):
            raise AssertionError("nothing to open")

    write_lock(office, sleeper, user="李四")
    excel = Excel()
    addin.dispatch("consolidate", excel)
    ((text, error),) = excel.messages
    assert error and text.startswith("工作文件夹正由 李四（电脑") and f"进程 {sleeper}）" in text
    assert not (office / "汇总" / "2020-06" / "汇总_2020-06.xlsx").exists()


# ---------------------------------------------------------------------------------------------
# Stale locks

def test_a_lock_whose_process_is_gone_is_taken_over_with_a_notice(office, capsys):
    pid = dead_pid()
    write_lock(office, pid)
    code, out, err = run(capsys, "consolidate")
    assert code == EXIT_OK, err
    assert "汇总完成" in out
    notice = next(line for line in out.splitlines() if LOCK_NAME in line)
    assert notice.startswith("  注意：工作文件夹的运行锁 ")
    assert f"是 张三（电脑 {socket.gethostname()}，进程 {pid}）于" in notice
    assert "该进程已结束，已由本次运行接管" in notice
    assert leftovers(office) == []


def test_a_lock_older_than_an_hour_is_taken_over_even_from_another_computer(office, capsys):
    write_lock(office, 1234, host="PC-01", since=dt.datetime.now().astimezone() - dt.timedelta(hours=1, minutes=5))
    code, out, _ = run(capsys, "run")
    assert code == EXIT_OK and "汇总完成" in out and "通报已生成" in out
    assert out.count(LOCK_NAME) == 1  # said once, with the consolidation's notes
    assert "张三（电脑 PC-01，进程 1234）" in out and "已超过 1 小时，视为已失效，已由本次运行接管" in out
    assert leftovers(office) == []


@pytest.mark.parametrize("content", [b"", b"\x00\xff garbage {", b'{"pid": "x"}', b'{"host": "PC-01", "pid": 0}',
                                     '{"host": "PC-01", "pid": 7, "since": "昨天"}'.encode()])
def test_an_unreadable_lock_is_taken_over(office, capsys, content):
    path = office / LOCK_NAME
    path.write_bytes(content)
    old = time.time() - 60
    os.utime(path, (old, old))
    code, out, _ = run(capsys, "templates")
    assert code == EXIT_OK
    assert "内容无法识别（可能是运行中断时留下的），已由本次运行接管" in out
    assert leftovers(office) == []


def test_a_lock_file_being_written_this_moment_is_given_time(office, monkeypatch):
    monkeypatch.setattr(lock, "SETTLING", 0.5)
    path = office / LOCK_NAME
    path.write_bytes(b"")  # just created by another run, its JSON not yet written
    started = time.monotonic()
    with pytest.raises(FolderInUseError, match="李四"):
        def writer():
            time.sleep(0.2)
            write_lock(office, 1234, host="PC-01", user="李四")

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            with working_folder(office, "汇总"):
                pass
        finally:
            thread.join()
    assert time.monotonic() - started < 0.5 + 1
    assert read_holder(office).user == "李四"


RACER = """
import sys, time
from pathlib import Path
from minsheng.errors import FolderInUseError
from minsheng.lock import working_folder

folder, start = Path(sys.argv[1]), float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
try:
    with working_folder(folder, "汇总") as held:
        print("won", len(held.notes), flush=True)
        time.sleep(3)
except FolderInUseError:
    print("busy", flush=True)
"""


def test_of_several_runs_finding_one_stale_lock_only_one_takes_it(tmp_path):
    folder = tmp_path / "工作"
    folder.mkdir()
    racer = tmp_path / "racer.py"
    racer.write_text(RACER, encoding="utf-8")
    for stale in ("dead", "garbage"):
        if stale == "dead":
            write_lock(folder, dead_pid())
        else:
            (folder / LOCK_NAME).write_bytes(b"garbage")
            os.utime(folder / LOCK_NAME, (time.time() - 60, time.time() - 60))
        start = time.time() + 1.5  # all of them started and waiting, then off at once
        racers = [subprocess.Popen([sys.executable, str(racer), str(folder), str(start)],
                                   stdout=subprocess.PIPE, text=True) for _ in range(4)]
        said = [p.communicate(timeout=60)[0].strip() for p in racers]
        assert sorted(s.split()[0] for s in said) == ["busy"] * 3 + ["won"], (stale, said)
        assert leftovers(folder) == []


def test_a_stale_lock_replaced_by_a_live_one_meanwhile_is_put_back(tmp_path):
    stale = write_lock(tmp_path, dead_pid()).read_bytes()
    live = write_lock(tmp_path, 1234, host="PC-01").read_bytes()
    assert lock._take_over(tmp_path / LOCK_NAME, stale) is False
    assert (tmp_path / LOCK_NAME).read_bytes() == live
    assert leftovers(tmp_path) == [LOCK_NAME]


# ---------------------------------------------------------------------------------------------
# The lock goes with the run

def test_the_lock_is_held_during_a_run_and_gone_after_it(office, capsys):
    from minsheng.pipeline import run_consolidation

    seen = []

    def progress(items):
        seen.append(read_holder(office))
        return iter(items)

    run_consolidation(load_config(office / "config.ini"), progress)
    assert seen and {(h.pid, h.command, h.host) for h in seen} == {(os.getpid(), "汇总", socket.gethostname())}
    assert leftovers(office) == []
    for command in (["templates"], ["consolidate"], ["circular"], ["run"]):
        assert run(capsys, *command)[0] == EXIT_OK
        assert leftovers(office) == [], command


def test_the_lock_is_gone_after_a_failed_run_and_after_ctrl_c(office, capsys, monkeypatch):
    code, _, err = run(capsys, "consolidate", "--period", "2020-08")  # no inbox for that period
    assert code == EXIT_FAILED and "收件文件夹" in err
    assert leftovers(office) == []

    def interrupted(items, label=""):
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr("minsheng.cli.progress", interrupted)
    code, _, err = run(capsys, "consolidate")
    assert code == EXIT_FAILED and err.startswith("已中止")
    assert leftovers(office) == []


def test_run_holds_one_lock_from_consolidation_to_circular(office, capsys, monkeypatch):
    released = []
    real = lock._release
    monkeypatch.setattr(lock, "_release", lambda held: (released.append(held.data is not None), real(held)))
    assert run(capsys, "run")[0] == EXIT_OK
    assert released == [True]  # released once, at the end: nobody slipped in between the steps


def test_a_lock_that_is_no_longer_ours_is_left_alone(office):
    from minsheng.pipeline import run_consolidation

    def taken_over(items):  # another run judged ours stale and took the folder
        write_lock(office, 1234, host="PC-01", user="李四")
        return iter(items)

    run_consolidation(load_config(office / "config.ini"), taken_over)
    assert read_holder(office).user == "李四"


def test_one_run_at_a_time_also_within_one_process(tmp_path):
    with working_folder(tmp_path, "汇总"):
        with working_folder(tmp_path, "生成通报"):  # the same thread: re-entrant
            pass
        assert read_holder(tmp_path).command == "汇总"
        failed = []

        def other():
            try:
                with working_folder(tmp_path, "生成填报模板"):
                    pass
            except FolderInUseError as exc:
                failed.append(str(exc))

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert len(failed) == 1 and f"进程 {os.getpid()}）" in failed[0] and "“汇总”" in failed[0]
    assert leftovers(tmp_path) == []


def test_a_folder_where_no_lock_can_be_made_runs_unlocked_with_a_note(tmp_path, monkeypatch):
    real = os.open

    def refused(path, flags, *args):
        if str(path).endswith(LOCK_NAME):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, flags, *args)

    monkeypatch.setattr(lock.os, "open", refused)
    with working_folder(tmp_path, "汇总") as held:
        assert held.data is None
        (note,) = held.take_notes()
        assert "无法在工作文件夹中建立运行锁" in note and "没有访问权限" in note and "本次运行未加锁" in note


# ---------------------------------------------------------------------------------------------
# Workers die with their parent

PARENT = """
import os, sys, time

from minsheng.untrusted import sandbox
from minsheng.untrusted.sandbox import Pool


def nap(job):
    os.write(1, f"{os.getpid()}\\n".encode())  # one write: the two workers' lines never interleave
    time.sleep(60)
    return job


if __name__ == "__main__":
    if sys.argv[1] == "spawn":  # as on Windows and macOS
        import multiprocessing

        sandbox._context = lambda: multiprocessing.get_context("spawn")
    for outcome in Pool(nap, processes=2, timeout=120).map(range(4)):
        pass
"""


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")  # a zombie has ended
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(os.name == "nt", reason="kill -9 and /proc: POSIX")
@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_workers_die_when_their_parent_is_killed_outright(tmp_path, start):
    script = tmp_path / "parent.py"
    script.write_text(PARENT, encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(script), start], stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(parent.stdout.readline()) for _ in range(2)]  # both busy with a job
        assert parent.pid not in workers and all(running(pid) for pid in workers)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while any(running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not any(running(pid) for pid in workers)
    finally:
        parent.kill()
        parent.wait()
