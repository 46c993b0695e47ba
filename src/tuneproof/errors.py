"""The one exception type users see.

Library code raises :class:`UserError` for anything the *user* can fix (bad file, bad key, bad
value). The CLI turns it into a one-line message and exit code 2; everything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(Exception):
    """A problem with the user's input, with a message that says what to fix."""

    exit_code = 2


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


class Terminated(BaseException):
    """Raised by ``tuneproof train``'s SIGTERM handler, so a terminated run unwinds like Ctrl-C
    (``finally`` blocks run, the manifest records ``failed``). A BaseException, so no
    ``except Exception`` on the way swallows it."""

    exit_code = 143  # 128 + SIGTERM, what a shell reports for a terminated process
