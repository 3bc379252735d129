"""funnel: CRM exports to a sales-funnel warehouse."""

import os

# polars allocates with jemalloc, which by default keeps freed pages a while before it gives
# them back: a run frees one source's frames and reads the next one's at once, so without this
# the peak holds both (measured in docs/decisions.md). Set before polars loads; an explicit
# setting in the environment wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
