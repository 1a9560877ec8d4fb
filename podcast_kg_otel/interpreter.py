"""What this interpreter is for, read from its command line (``sys.orig_argv``): a run of
its own, named after its command, or a helper that ``multiprocessing`` started (a spawn or
forkserver worker, the forkserver, the resource tracker), whose parent reports on the run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

#: How the ``-c`` commands of multiprocessing's helper interpreters begin.
_HELPER_COMMANDS = ("from multiprocessing", "import multiprocessing")


def command_name(argv: Sequence[str]) -> str | None:
    """The run's name: the script's file name, the ``-m`` module, ``python -c``; None for
    the REPL and for multiprocessing's helper interpreters."""
    args = iter(argv[1:])
    for arg in args:
        if arg == "--" or arg == "-" or not arg.startswith("-"):
            script = next(args, None) if arg == "--" else arg
            return os.path.basename(script) if script and script != "-" else None
        if arg.startswith("--"):
            if arg == "--check-hash-based-pycs":
                next(args, None)
            continue
        letters = arg[1:]
        for index, letter in enumerate(letters):
            rest = letters[index + 1 :]
            if letter in "WX":
                if not rest:
                    next(args, None)
                break
            if letter == "m":
                return rest or next(args, None)
            if letter == "c":
                command = rest or next(args, "")
                return None if command.lstrip().startswith(_HELPER_COMMANDS) else "python -c"
    return None


def started_by_multiprocessing(argv: Sequence[str] | None = None) -> bool:
    """Whether this interpreter is a worker or helper of ``multiprocessing`` (spawned, or
    forked as a ``Process``)."""
    process = sys.modules.get("multiprocessing.process")
    if process is not None and process.parent_process() is not None:
        return True
    argv = sys.orig_argv if argv is None else argv
    return any(arg.lstrip().startswith(_HELPER_COMMANDS) for arg in argv[1:])
