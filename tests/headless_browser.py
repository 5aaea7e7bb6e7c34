"""Headless Chromium for the tests that need a real browser (skipped, with the reason, without it)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

__all__ = ["CHROMIUM", "needs_chromium", "rendered"]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# .ci/run installs Debian's chromium on a CI machine that lacks it.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)"
)


def rendered(page: str) -> str:
    """The page's DOM once headless Chromium has run its scripts (10 s of virtual time at most)."""
    assert CHROMIUM is not None
    argv = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--virtual-time-budget=10000",
        "--dump-dom",
        page,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True).stdout
