"""Benchmark: generating department templates (SPEC §10 target: 1,000 templates ≤ 10 s).

    python scripts/bench_templates.py [--units 1000] [--indicators 25]

Builds a register of N units × M indicators by repeating the bundled sample's indicators (so
every indicator type and the long Chinese texts are in it), then times ``minsheng templates``
end to end (register load included) and prints the numbers and the ratio to the target.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "addin"))

from minsheng.pipeline import make_templates  # noqa: E402
from minsheng.simulate import synthetic_workfolder  # noqa: E402

TARGET_SECONDS_PER_1000 = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成填报模板的性能测试")
    parser.add_argument("--units", type=int, default=1000, help="牵头单位数(默认 1000)")
    parser.add_argument("--indicators", type=int, default=25, help="每个单位的指标数(默认 25)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        config = synthetic_workfolder(Path(tmp), args.units, args.indicators)
        start = time.perf_counter()
        result = make_templates(config)
        elapsed = time.perf_counter() - start
        size = sum(p.stat().st_size for p in result.paths)

    per = elapsed / len(result.paths)
    scaled = per * 1000
    print(f"templates: {len(result.paths)} 个单位 × {args.indicators} 个指标")
    print(f"  total        {elapsed:8.2f} s   (register load included)")
    print(f"  per template {per * 1000:8.2f} ms")
    print(f"  1,000 scaled {scaled:8.2f} s   target ≤ {TARGET_SECONDS_PER_1000:.0f} s   "
          f"ratio {scaled / TARGET_SECONDS_PER_1000:.2f} ({'OK' if scaled <= TARGET_SECONDS_PER_1000 else 'SLOW'})")
    print(f"  output       {size / len(result.paths) / 1024:8.1f} KiB per file")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
