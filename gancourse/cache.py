"""Where the package keeps what it downloads and trains: ``$XDG_CACHE_HOME/gancourse``.

Below everything that writes there (:mod:`gancourse.checkpoints` for trained models,
:mod:`gancourse.data` for downloads, :mod:`gancourse.pretrained` for shipped weights), so
that each of them can ask for the folder without importing the others.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/gancourse`` (default ``~/.cache/gancourse``): downloads and checkpoints."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gancourse"
