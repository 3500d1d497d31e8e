"""A tiny Sphinx extension for building the book: chapters execute in quick mode by default.

Jupyter Book executes every chapter while it builds; the kernels inherit this
process's environment, so setting ``GANCOURSE_MODE`` here (unless the reader set
it) keeps a build on a GPU machine from training in full mode for hours.
Full-mode figures come from checkpoints trained once and loaded by the chapters.
"""

from __future__ import annotations

import os

from gancourse.config import MODE_ENV


def setup(app):
    os.environ.setdefault(MODE_ENV, "quick")
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
