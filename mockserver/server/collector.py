"""The garbage collector as `serve` runs it, once start-up is done.

- What start-up built (the documents, the compiled validators, the seeded store) lives as long
  as the process: `gc.freeze()` puts it out of the collector's sight.
- What requests add to the store lives as long too, and a full collection scans all of it (with
  100k stored rows, a pause of ~100 ms that every open request waits out): full collections
  come after as many allocations as with thresholds (700, 10, 1000), 7 million, not Python's 70,000.
- A generation-1 collection is the pause every write endpoint meets: at 32 connections, one
  lands in the window of about one request in five. With 10 young collections per older one it
  takes ~3.3 ms (today's API, send message: the p99 3.5-4 ms over the p50, bench/pauses.py);
  with 3 it takes ~1.2 ms, and all collections together cost less (60-80 ms per 8,000 posts,
  was 75-95).
"""

from __future__ import annotations

import gc

__all__ = ["SERVE_THRESHOLDS", "settle_collector"]

# gc.set_threshold's three: young collections every 700 net allocations, an older one every 3 of
# them, a full one every 3,333 of those.
SERVE_THRESHOLDS = (700, 3, 3333)


def settle_collector() -> None:
    """Freeze what exists, set `SERVE_THRESHOLDS`, and (re-)enable the collector."""
    gc.freeze()
    gc.set_threshold(*SERVE_THRESHOLDS)
    gc.enable()
