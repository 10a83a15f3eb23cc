"""Build the Excel add-in: ``python scripts/build_xlam.py [OUT]`` (same as ``minsheng addin build``).

Needs the package installed (``pip install -e .``): the VBA and ribbon sources ship with it.
"""

import sys
from pathlib import Path

from minsheng.xlam import ADDIN_NAME, build_xlam

if __name__ == "__main__":
    out = build_xlam(Path(sys.argv[1] if len(sys.argv) > 1 else ADDIN_NAME))
    print(f"已生成加载项:{out.resolve()}")
