"""Offload's benchmark: side-by-side ratios for responsiveness, Python speed, start-up, the pool,
transfers and the socket, each figure against a baseline measured in the same run.

Run it with `python3 build.py bench [--quick] [--json PATH] [--chart PATH]` (or `python -m bench`
from the repository root after a build). See bench/RESULTS.md for the latest table.
"""
