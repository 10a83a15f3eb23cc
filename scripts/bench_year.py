"""Benchmark: a year of monthly consolidations in one working folder (formats §6.1).

    python scripts/bench_year.py [--units 60] [--indicators 25] [--repeat 2]

Writes a synthetic register of ``units`` × ``indicators``, then for each month of the year makes the
templates, the departments' filled workbooks, and times ``minsheng consolidate`` in a fresh process
(the fastest of ``--repeat`` runs; each re-run is a revision the ledger keeps as well). It prints,
per period, the time and the ledger's growth, and the two ratios issue 22 sets: period 12's time
over period 1's (target ≤ 1.5: the record's history must not slow a run down) and the largest
month's ledger growth over the smallest (about 1: the ledger grows by about the same every month).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "addin"))


def consolidate(config: Path, period: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "minsheng", "consolidate", "--period", period,
                           "--config", str(config)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "addin")})
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"consolidate {period} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--indicators", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)

    from minsheng.model import Period
    from minsheng.pipeline import make_templates
    from minsheng.simulate import synthetic_workfolder, write_submissions

    with tempfile.TemporaryDirectory(prefix="minsheng-year-") as tmp:
        base = synthetic_workfolder(Path(tmp) / "year", args.units, args.indicators)
        print(f"{args.units} 个单位 × {args.indicators} 个指标，每期最快的一次（共 {args.repeat} 次）")
        print(f"{'统计期':>8} {'用时(秒)':>9} {'历史库(KB)':>10} {'本期增长(KB)':>12}")
        times: list[float] = []
        growth: list[int] = []
        size = 0
        for month in range(1, 13):
            config = dataclasses.replace(base, period=Period(2020, month))
            register = make_templates(config).register
            write_submissions(register, config, config.inbox(), period=config.period)
            best = min(consolidate(config.path, str(config.period)) for _ in range(args.repeat))
            now = config.ledger.stat().st_size
            times.append(best)
            growth.append(now - size)
            print(f"{str(config.period):>8} {best:9.2f} {now / 1024:10.0f} {(now - size) / 1024:12.0f}")
            size = now
        print(f"第 12 期用时 ÷ 第 1 期用时 = {times[-1] / times[0]:.2f}（目标 ≤ 1.5）")
        steady = growth[1:]  # the first month also creates the ledger's tables and keeps the register
        print(f"每期增长最大 ÷ 最小（2-12 月）= {max(steady) / min(steady):.2f}（约 1 为均匀）")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
