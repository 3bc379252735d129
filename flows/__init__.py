"""The Prefect flows of funnel."""

import funnel  # noqa: F401 - sets up the allocator before polars loads
