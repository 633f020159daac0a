"""The one base of every error a user can act on.

A HarnessError is a message of one line that names the file and the field (a broken manifest,
rule, scenario or trace file; a program that cannot be started), and the exit status it gives.
The command line catches it once (harness/cli.py); anything else is a bug and shows its
traceback.
"""

from __future__ import annotations

# a command whose output's reader went away (`harness compare | head`) goes on quietly and
# exits 128 + SIGPIPE, as a shell reports `yes | head`'s yes
SIGPIPE_STATUS = 141


class HarnessError(Exception):
    """An error the user can act on: its message is one line, `exit_status` what the
    command exits with (2: a harness error)."""

    exit_status = 2


class Interrupted(HarnessError):
    """Ctrl-C or SIGTERM stopped a command: what finished is on disk."""

    def __init__(self, message: str, exit_status: int = 130):
        super().__init__(message)
        self.exit_status = exit_status
