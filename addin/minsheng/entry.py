"""The ``minsheng`` command's first lines. Ctrl-C pressed while Python is still loading the
program is held until the command can say so in one Chinese line (Python would print a traceback)."""

from __future__ import annotations

import signal

_held: list[int] = []


def _hold(signum, frame) -> None:
    _held.append(signum)


def run() -> int:
    try:
        signal.signal(signal.SIGINT, _hold)
    except ValueError:  # not the main thread: nothing to hold
        pass
    from . import cli

    signal.signal(signal.SIGINT, signal.default_int_handler)
    if _held:
        return cli.aborted()
    code = cli.main()
    # The answer is printed: a Ctrl-C now, while Python shuts down, would add a traceback to it.
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:
        pass
    return code
