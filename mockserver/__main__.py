"""`python -m mockserver` runs the `chats-mock` command."""

from __future__ import annotations

import sys

from mockserver.command.startup import run

sys.exit(run())
