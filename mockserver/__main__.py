"""`python -m mockserver` runs the `chats-mock` command."""

from __future__ import annotations

import gc
import sys

# Start-up (Connexion's imports, the document, the app) allocates objects that live as long as
# the process: collecting them is wasted time (~10% of start-up). `serve` freezes them and turns
# the collector back on once the app is built; the other commands are short-lived.
gc.disable()

from mockserver.cli import main  # noqa: E402 - after the collector is paused

sys.exit(main())
