"""Where feeds and exports go: files written atomically, or standard output.

Files are replaced in one step, so readers (a feed reader polling a feed, a web server, a
spreadsheet) see the old file or the new one, never half of one, even if newsmon is killed.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

# What a plain open() gives under the usual umask: these files are meant to be read by other
# programs (a web server publishing a feed), which a private temporary file would forbid.
DEFAULT_MODE = 0o644


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success it replaces ``path`` in one step.

    ``mode`` is ``"w"`` or ``"wb"``; ``kwargs`` go to ``open`` (``encoding``, ``newline``).
    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())  # the new content is on disk before the name points at it
        os.chmod(tmp, _mode_of(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_atomic(path: str | Path, data: bytes) -> None:
    """Replace ``path``'s content with ``data`` atomically."""
    with atomic_open(path, "wb") as f:
        f.write(data)


def _mode_of(path: Path) -> int:
    """Keep the permissions of the file being replaced; new files get DEFAULT_MODE."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return DEFAULT_MODE


@contextlib.contextmanager
def open_output(path: str | Path | None, binary: bool = False) -> Iterator[IO[Any]]:
    """``path`` opened for writing atomically, or standard output when it is None or ``-``.

    Text is UTF-8 with ``newline=""`` (CSV writes its own line ends) whatever the locale.
    A reader that stops early (``| head``) ends the program quietly instead of with a
    traceback.
    """
    if path is not None and str(path) != "-":
        kwargs = {} if binary else {"encoding": "utf-8", "newline": ""}
        with atomic_open(path, "wb" if binary else "w", **kwargs) as f:
            yield f
        return
    raw = sys.stdout.buffer
    sys.stdout.flush()  # anything already echoed comes first
    stream: IO[Any] = raw if binary else io.TextIOWrapper(raw, encoding="utf-8", newline="")
    try:
        yield stream
        stream.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit; pointing it at /dev/null keeps that quiet.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0) from None
    finally:
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(OSError, ValueError):
                stream.detach()  # leave sys.stdout's buffer open for the rest of the program
