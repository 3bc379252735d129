"""Pure polars steps (frame in, frame out, no I/O) and the canonical schema they produce.

Nothing here imports funnel: funnel (the clean step in funnel/hygiene.py, the load, the checks)
imports these, never the other way round.
"""
