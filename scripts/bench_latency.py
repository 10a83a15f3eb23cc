"""Benchmark: from click to circular at the size an office has (issue 24), whole processes.

    python scripts/bench_latency.py [--sizes 20,60,200] [--indicators 25] [--repeat 3]

For each size N it writes a synthetic register of N units × 25 indicators and N filled workbooks,
then times, as a clerk feels them (a fresh process each, imports and start-up included, the median
of ``--repeat`` runs):

  pandas       the analyst's merge script: read_excel (calamine) per file, concat, to_excel
  consolidate  ``minsheng consolidate``
  run          ``minsheng run`` (consolidate, then the circular with its chart)
  circular     ``minsheng circular`` alone (from the record)

The very first ``run`` goes with empty caches (matplotlib's font cache, the register cache): the
cold run a clerk meets after installing. Printed: the times and the ratios issue 24 sets — ``run``
at N = 60 ≤ 1.0× pandas, ``consolidate`` ≤ 0.5× pandas, the cold run ≤ 1.3× a warm one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "addin"))

PANDAS = """
import sys, tempfile
from pathlib import Path
import pandas as pd
folder = Path(sys.argv[1])
frames = [pd.read_excel(p, sheet_name="填报", header=2, engine="calamine") for p in sorted((folder / "收集").rglob("*.xlsx"))]
with tempfile.TemporaryDirectory() as out:
    pd.concat(frames, ignore_index=True).to_excel(Path(out) / "汇总.xlsx", index=False)
"""


def timed(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,60,200")
    parser.add_argument("--indicators", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from minsheng.register.workbook import load_register
    from minsheng.simulate import synthetic_workfolder, write_submissions

    with tempfile.TemporaryDirectory(prefix="minsheng-latency-") as tmp:
        caches = Path(tmp) / "caches"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "addin"), "MPLCONFIGDIR": str(caches / "matplotlib"),
               "MINSHENG_CACHE": str(caches / "minsheng"), "PYTHONWARNINGS": "ignore"}
        print(f"{'N':>5} {'pandas':>8} {'consolidate':>12} {'run':>8} {'circular':>9} {'run÷pandas':>11}"
              f" {'consolidate÷pandas':>19}")
        cold = warm = None
        for n in [int(x) for x in args.sizes.split(",")]:
            folder = Path(tmp) / f"n{n}"
            config = synthetic_workfolder(folder, n, args.indicators)
            write_submissions(load_register(config.register), config, config.inbox())
            minsheng = [sys.executable, "-m", "minsheng"]
            where = ["--config", str(config.path)]
            if cold is None:  # the first run of all, with nothing cached
                cold = timed([*minsheng, "run", *where], env)
            times = {
                "pandas": [timed([sys.executable, "-c", PANDAS, str(folder)], env) for _ in range(args.repeat)],
                "consolidate": [timed([*minsheng, "consolidate", *where], env) for _ in range(args.repeat)],
                "run": [timed([*minsheng, "run", *where], env) for _ in range(args.repeat)],
                "circular": [timed([*minsheng, "circular", *where], env) for _ in range(args.repeat)],
            }
            median = {name: statistics.median(values) for name, values in times.items()}
            if warm is None:
                warm = median["run"]
            print(f"{n:>5} {median['pandas']:8.2f} {median['consolidate']:12.2f} {median['run']:8.2f}"
                  f" {median['circular']:9.2f} {median['run'] / median['pandas']:11.2f}"
                  f" {median['consolidate'] / median['pandas']:19.2f}")
        print(f"冷启动 run ÷ 热 run（N = {args.sizes.split(',')[0]}）= {cold / warm:.2f}（目标 ≤ 1.3）")
        print("目标：N = 60 时 run ÷ pandas ≤ 1.0，consolidate ÷ pandas ≤ 0.5（秒为中位数）")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
