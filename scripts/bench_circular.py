"""Benchmark: rendering the circular (SPEC §10 target: a 1,000-row circular ≤ 0.5 s, chart and PDF aside).

    python scripts/bench_circular.py [--rows 1000]

Builds a register whose main table has ``rows`` projects (100 units × rows/100 tasks of three
indicators), simulates the departments' submissions, consolidates (not timed), then times the
rendering of 通报_P.docx from the consolidated data, best of three.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "addin"))

from docx import Document  # noqa: E402
from minsheng.circular import document as circular  # noqa: E402
from minsheng.pipeline import consolidated  # noqa: E402
from minsheng.register.workbook import load_register  # noqa: E402
from minsheng.simulate import synthetic_workfolder, write_submissions  # noqa: E402

TARGET = 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="通报生成性能测试")
    parser.add_argument("--rows", type=int, default=1000, help="通报主表的项目行数(默认 1000)")
    args = parser.parse_args(argv)
    units = 100
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = replace(synthetic_workfolder(folder, units, args.rows // units * 3), chart=False)
        write_submissions(load_register(config.register), config, config.inbox())
        result = consolidated(config)
        times = []
        for _ in range(3):
            target = folder / "通报.docx"
            start = time.perf_counter()
            circular.render(result.period_result, config, target, chart=False)
            times.append(time.perf_counter() - start)
        rows = sum(len(table.rows) - 1 for table in Document(str(target)).tables)  # one table a page
        size = target.stat().st_size / 1024
    best = min(times)
    print(f"circular: {rows} table rows, {len(result.register.indicators)} indicators, {size:.0f} KiB")
    print(f"  render  best {best:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in times)})")
    print(f"  target ≤ {TARGET} s   ratio {best / TARGET:.2f}  {'OK' if best <= TARGET else 'SLOW'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
