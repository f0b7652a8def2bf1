"""What the tests and the benchmark share: the real server as a process, a free port, Chromium.

`support.browser` is standard library only, so build.py (which any python3 runs) can use it too.
Nothing here imports from `tests` or `bench`; both import from here.
"""
