"""Benchmark: consolidating department workbooks, side by side with what else one could run (SPEC §10).

    python scripts/bench_consolidate.py [--sizes 100,1000,3000] [--indicators 25] [--repeat 2]

For each size N it writes a synthetic register of N units × 25 indicators and N filled department
workbooks, then times, each in a fresh Python process (imports not counted, peak memory measured):

  floor     a bare python-calamine read of every sheet of every file (nothing checked, nothing written)
  openpyxl  a naive openpyxl read-only loop over the 填报 sheets
  pandas    the analyst's script: read_excel(engine="calamine") per file, concat, to_excel
  minsheng  ``minsheng consolidate`` end to end: guard, read, check, judge, 汇总 workbook, CSV, ledger

and prints the times, the ratios the SPEC sets (minsheng ≤ 3× the floor, ≥ 4× faster than
openpyxl, ≥ 2× faster than pandas) and peak RSS (target ≤ 300 MB at 3,000, growing < 20 % from
1,000 to 3,000). With ``--repeat k`` each is run k times and the fastest counts (the machine is
shared; memory is the largest seen).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "addin"))

CONTENDERS = ("floor", "openpyxl", "pandas", "minsheng")


def make_corpus(folder: Path, units: int, per_unit: int) -> None:
    from minsheng.register.workbook import load_register
    from minsheng.simulate import synthetic_workfolder, write_submissions

    config = synthetic_workfolder(folder, units, per_unit)
    write_submissions(load_register(config.register), config, config.inbox())


# -- each contender, run in a process of its own ----------------------------------------------

def run_floor(folder: Path) -> None:
    import python_calamine

    for path in sorted((folder / "收集").rglob("*.xlsx")):
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python()


def run_openpyxl(folder: Path) -> None:
    import openpyxl

    for path in sorted((folder / "收集").rglob("*.xlsx")):
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for _ in book["填报"].iter_rows(values_only=True):
            pass
        book.close()


def run_pandas(folder: Path) -> None:
    import pandas as pd

    frames = [pd.read_excel(path, sheet_name="填报", header=2, engine="calamine")
              for path in sorted((folder / "收集").rglob("*.xlsx"))]
    with tempfile.TemporaryDirectory() as out:
        pd.concat(frames, ignore_index=True).to_excel(Path(out) / "汇总.xlsx", index=False)


def run_minsheng(folder: Path) -> None:
    from minsheng.config import load_config
    from minsheng.pipeline import run_consolidation

    run_consolidation(load_config(folder / "config.ini"))


def child(contender: str, folder: Path) -> None:
    """Import what the contender needs, then time only its work; print JSON."""
    work = globals()[f"run_{contender}"]
    if contender == "minsheng":
        import minsheng.pipeline  # noqa: F401 - imports are not part of the work
    elif contender == "pandas":
        import pandas  # noqa: F401
    start, cpu = time.perf_counter(), time.process_time()
    work(folder)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"seconds": seconds, "cpu": cpu + children.ru_utime + children.ru_stime,
                      "rss": peak_rss(), "worker_rss": children.ru_maxrss / 1024}))


def peak_rss() -> float:
    """This process's peak resident memory in MB. (Linux carries ru_maxrss over from the process
    that started this one, so the high-water mark of this process's own memory is read instead.)"""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(contender: str, folder: Path, repeat: int) -> dict:
    best: dict = {}
    for _ in range(repeat):
        done = subprocess.run([sys.executable, __file__, "--child", contender, str(folder)],
                              capture_output=True, text=True, check=True,
                              env=dict(os.environ, PYTHONWARNINGS="ignore"))
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if not best or result["seconds"] < best["seconds"]:
            best = {**result, "rss": max(result["rss"], best.get("rss", 0)),
                    "worker_rss": max(result["worker_rss"], best.get("worker_rss", 0))}
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="汇总性能测试")
    parser.add_argument("--sizes", default="100,1000,3000", help="报送单位数，逗号分隔（默认 100,1000,3000）")
    parser.add_argument("--indicators", type=int, default=25, help="每个单位的指标数（默认 25）")
    parser.add_argument("--repeat", type=int, default=2, help="每项运行次数，取最快（默认 2）")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            folder = Path(tmp) / f"n{n}"
            start = time.perf_counter()
            make_corpus(folder, n, args.indicators)
            print(f"N={n}: {n} workbooks × {args.indicators} indicators written in {time.perf_counter() - start:.0f} s",
                  flush=True)
            results = {c: measure(c, folder, args.repeat) for c in CONTENDERS}
            rows.append((n, results))
            report(n, results)

    print("\nSummary (ratios from this run)")
    print(f"{'N':>6} {'floor s':>8} {'minsheng s':>11} {'÷floor':>7} {'openpyxl÷':>10} {'pandas÷':>8} "
          f"{'RSS main':>9} {'RSS worker':>11}")
    for n, r in rows:
        m = r["minsheng"]
        print(f"{n:>6} {r['floor']['seconds']:>8.2f} {m['seconds']:>11.2f} {m['seconds'] / r['floor']['seconds']:>7.2f} "
              f"{r['openpyxl']['seconds'] / m['seconds']:>10.2f} {r['pandas']['seconds'] / m['seconds']:>8.2f} "
              f"{m['rss']:>8.0f}M {m['worker_rss']:>10.0f}M")
    sizes = {n: r for n, r in rows}
    if 1000 in sizes:
        r = sizes[1000]
        m = r["minsheng"]["seconds"]
        print(f"\nTargets at N=1,000: ≤ 3× floor: {m / r['floor']['seconds']:.2f} "
              f"{'OK' if m <= 3 * r['floor']['seconds'] else 'MISSED'}; "
              f"≥ 4× faster than openpyxl: {r['openpyxl']['seconds'] / m:.2f} "
              f"{'OK' if r['openpyxl']['seconds'] >= 4 * m else 'MISSED'}; "
              f"≥ 2× faster than pandas: {r['pandas']['seconds'] / m:.2f} {'OK' if r['pandas']['seconds'] >= 2 * m else 'MISSED'}")
    if 1000 in sizes and 3000 in sizes:
        small, large = sizes[1000]["minsheng"]["rss"], sizes[3000]["minsheng"]["rss"]
        print(f"Memory: peak RSS {large:.0f} MB at 3,000 (target ≤ 300: {'OK' if large <= 300 else 'MISSED'}); "
              f"growth from 1,000: {100 * (large / small - 1):.0f} % (target < 20 %: "
              f"{'OK' if large < 1.2 * small else 'MISSED'})")
    return 0


def report(n: int, results: dict) -> None:
    floor = results["floor"]["seconds"]
    for name in CONTENDERS:
        r = results[name]
        print(f"  {name:9s} {r['seconds']:7.2f} s  ({r['seconds'] / floor:5.2f}× floor)  cpu {r['cpu']:6.2f} s  "
              f"peak RSS {r['rss']:5.0f} MB" + (f", largest worker {r['worker_rss']:.0f} MB" if r["worker_rss"] else ""),
              flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
