"""Benchmark: consolidating department workbooks (SPEC §10).

    python scripts/bench_consolidate.py [--units 1000] [--indicators 25]

Generates N filled department workbooks from a synthetic register, then times in one run:
  (a) a bare python-calamine read of every file (the floor),
  (b) ``minsheng consolidate`` end to end (guard, read, check, engine, workbook + CSV, ledger),
  (c) a naive openpyxl reader on the same files,
and prints the three, the ratios b/a (target ≤ 1.5) and c/b (target ≥ 5), and peak memory of (b)
(target ≤ 300 MB).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "addin"))

import openpyxl  # noqa: E402
import python_calamine  # noqa: E402

from minsheng import ledger  # noqa: E402
from minsheng.collect import collect_inbox  # noqa: E402
from minsheng.consolidation import consolidate  # noqa: E402
from minsheng.pipeline import run_consolidation  # noqa: E402
from minsheng.register import load_register  # noqa: E402
from minsheng.simulate import synthetic_workfolder, write_submissions  # noqa: E402
from minsheng.workbook_out import write_csv, write_workbook  # noqa: E402


def bare_calamine(files: list[Path]) -> int:
    """Open each file and read every sheet's values: nothing checked, nothing written."""
    cells = 0
    for path in files:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            cells += sum(len(r) for r in book.get_sheet_by_name(name).to_python())
    return cells


def naive_openpyxl(files: list[Path]) -> int:
    cells = 0
    for path in files:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        cells += sum(len(r) for r in book["填报"].iter_rows(values_only=True))
        book.close()
    return cells


def phase_times(config) -> list[tuple[str, float]]:
    """The steps of ``run_consolidation`` timed one by one."""
    clock = [time.perf_counter()]

    def lap() -> float:
        clock.append(time.perf_counter())
        return clock[-1] - clock[-2]

    register = load_register(config.register)
    t_register = lap()
    collection = collect_inbox(config.inbox(), register, config.period, config.stages)
    t_collect = lap()
    result = consolidate(register, collection, config.period, config.thresholds, config.stages,
                         ledger.previous_values(config.ledger, config.period))
    t_engine = lap()
    with tempfile.TemporaryDirectory() as out:
        write_workbook(result, Path(out) / "x.xlsx")
        t_xlsx = lap()
        write_csv(result, Path(out) / "x.csv")
        t_csv = lap()
        ledger.record_run(Path(out) / "h.sqlite", result)
        t_ledger = lap()
    return [("register", t_register), ("read+check files", t_collect), ("engine", t_engine),
            ("xlsx", t_xlsx), ("csv", t_csv), ("ledger", t_ledger)]


def timed(function, *args) -> float:
    gc.collect()
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="汇总性能测试")
    parser.add_argument("--units", type=int, default=1000, help="报送单位数(默认 1000)")
    parser.add_argument("--indicators", type=int, default=25, help="每个单位的指标数(默认 25)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        config = synthetic_workfolder(Path(tmp), args.units, args.indicators)
        start = time.perf_counter()
        files = write_submissions(load_register(config.register), config, config.inbox()).paths
        print(f"generated {len(files)} workbooks × {args.indicators} indicators in "
              f"{time.perf_counter() - start:.1f} s")

        floor = timed(bare_calamine, files)
        tracemalloc.start()
        whole = timed(run_consolidation, config)
        peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
        whole_untraced = timed(run_consolidation, config)  # tracing slows Python code; time without it
        naive = timed(naive_openpyxl, files)
        phases = phase_times(config)

    print(f"  (a) bare calamine read   {floor:7.2f} s")
    print(f"  (b) minsheng consolidate {whole_untraced:7.2f} s   (with memory tracing {whole:.2f} s)")
    print(f"  (c) naive openpyxl read  {naive:7.2f} s")
    print(f"  b/a = {whole_untraced / floor:5.2f}   target ≤ 1.5  {'OK' if whole_untraced / floor <= 1.5 else 'SLOW'}")
    print(f"  c/b = {naive / whole_untraced:5.2f}   target ≥ 5    {'OK' if naive / whole_untraced >= 5 else 'SLOW'}")
    print(f"  peak Python memory of (b) {peak:6.1f} MB   target ≤ 300 MB  {'OK' if peak <= 300 else 'HIGH'}")
    print("  where (b) goes: " + ",  ".join(f"{name} {seconds:.2f} s" for name, seconds in phases))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
