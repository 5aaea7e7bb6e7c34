"""A copy of the checkout as a fresh clone of it would hold: tracked and new files, nothing ignored."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def copy_checkout(root: Path, target: Path) -> Path:
    """Copy what git would commit of `root` (no .venv, no build output) into `target`; returns it."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split(b"\0")):
        source = root / os.fsdecode(name)
        if source.is_file():  # a tracked file deleted in the work tree is not copied
            destination = target / os.fsdecode(name)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)  # keeps mtimes: make sees what it would see in root
    return target
