"""Make the extraction pool's processes die with their parent.

Imported only inside the pool (the fork server preloads it; each worker calls it again, as
the setting does not survive a fork): if the crawl process is killed outright (kill -9, the
OOM killer, the hard stop), the fork server and its workers go too instead of lingering.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent exits (a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request was made
        os._exit(1)


die_with_parent()
