"""Browse the database in Datasette, with the shipped metadata (descriptions, search, facets,
canned queries).

Datasette is an optional extra (``pip install 'newsmon[ui]'``). It runs as a child process
through its own command line, which is its stable interface across releases; this module only
prepares the metadata and forwards signals so that stopping ``newsmon serve`` stops Datasette.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from crawler.db import connect

METADATA = Path(__file__).resolve().parents[2] / "config" / "datasette.yaml"
# The database name the shipped metadata is written for; Datasette names a database after
# its file, so the metadata is re-keyed for any other file name.
METADATA_DB_NAME = "newsmon"
DEFAULT_PORT = 8001
# Table pages show a story per row: long bodies cut short there keep the rows scannable;
# a row's own page still shows the whole text.
TRUNCATE_CELLS = 200


class DatasetteMissing(RuntimeError):
    """Datasette is not installed in this environment."""

    def __init__(self) -> None:
        super().__init__(
            "Datasette is not installed; install the ui extra: pip install 'newsmon[ui]'"
        )


def require_datasette() -> None:
    """Raise DatasetteMissing unless Datasette can be imported."""
    if importlib.util.find_spec("datasette") is None:
        raise DatasetteMissing()


def load_metadata(database: str | Path, path: str | Path = METADATA) -> dict[str, Any]:
    """The metadata file, with its database section keyed by ``database``'s Datasette name."""
    if not Path(path).is_file():
        # config/ ships with a checkout, not inside a built wheel.
        raise FileNotFoundError(f"Datasette metadata file not found: {path} (use --metadata)")
    metadata: dict[str, Any] = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    databases = metadata.get("databases") or {}
    if METADATA_DB_NAME in databases:
        databases[Path(database).stem] = databases.pop(METADATA_DB_NAME)
    return metadata


def datasette_command(
    database: str | Path, metadata_file: str | Path, host: str, port: int
) -> list[str]:
    """The Datasette command line that serves ``database``."""
    return [
        sys.executable, "-m", "datasette", "serve", str(database),
        "--metadata", str(metadata_file),
        "--host", host,
        "--port", str(port),
        "--setting", "truncate_cells_html", str(TRUNCATE_CELLS),
    ]  # fmt: skip


def serve_database(
    database: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    metadata: str | Path = METADATA,
) -> int:
    """Serve ``database`` in Datasette until it stops; returns Datasette's exit status."""
    require_datasette()
    document = json.dumps(load_metadata(database, metadata))
    # Creates the schema on a fresh path, so that a never-crawled database still has the
    # tables the metadata describes, in WAL mode like every other newsmon process.
    connect(database).close()
    with tempfile.TemporaryDirectory(prefix="newsmon-datasette-") as tmp:
        metadata_file = Path(tmp) / "metadata.json"
        metadata_file.write_text(document, encoding="utf-8")
        child = subprocess.Popen(datasette_command(database, metadata_file, host, port))
        return _wait(child)


def _wait(child: subprocess.Popen[bytes]) -> int:
    """Wait for ``child``; a SIGTERM to us is passed on, so no orphan keeps the port."""

    def forward(signum: int, frame: FrameType | None) -> None:
        child.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        try:
            code = child.wait()
        except KeyboardInterrupt:
            # A Ctrl-C in the terminal reached the child too (same process group); a SIGINT
            # sent to us alone did not, so stop the child if it does not stop by itself.
            try:
                code = child.wait(timeout=3)
            except subprocess.TimeoutExpired:
                child.terminate()
                code = child.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return _exit_status(code)


def _exit_status(code: int) -> int:
    """Datasette's exit as ours: a stop on request (it re-raises SIGTERM or SIGINT after a
    clean shutdown) is success; death by another signal is 128 + its number, as in shells."""
    if code in (-signal.SIGTERM, -signal.SIGINT):
        return 0
    return code if code >= 0 else 128 - code
