"""funnel: CRM exports to a sales-funnel warehouse."""

import os

# polars allocates with jemalloc, which by default keeps freed pages for 10 s before it gives
# them back: a run frees one source's frames and reads the next one's at once, so without this
# the peak holds both (at 1M leads about 0.4 GB more). Set before polars loads; an explicit
# setting in the environment wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
