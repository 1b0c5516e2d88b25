"""newsmon: scheduled news monitoring. The application core (config, storage, alerts, CLI)."""

import os

__version__ = "0.1.0"

# newsmon uses numpy for MinHash arithmetic and makes no BLAS call, but numpy's OpenBLAS
# starts a thread per core at import that spins for a while: 0.1 CPU s in every process that
# imports it (a one-off crawl and its extraction pool's fork server: 0.2 s). Set before any
# module of the package can import numpy; a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
