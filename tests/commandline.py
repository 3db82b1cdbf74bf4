"""The command line run in this process: the same arguments, output, error output and exit status
a user gets from ``symgrad ...``, without starting an interpreter and importing SymPy for each
call. An exception that escapes ``main`` fails the test instead of printing a traceback. The
module entry point itself (``python -m symgrad``) is run as a process in tests/test_cli.py."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess

from symgrad.cli import main


def run(*args, cwd=None) -> subprocess.CompletedProcess:
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(arg) for arg in args])
            except SystemExit as stop:  # argparse stops on its own errors and on --help
                code = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())
