"""Code that runs beside the server, never inside it: what the tests and the benchmark share (the
real server as a process, a free port, Redis, Chromium) and the build-time code generator
(`support.codegen`, `support.json_schema`: the files derived from the protocols' Python models).

`support.browser` is standard library only, so build.py (which any python3 runs) can use it too.
Nothing here imports from `tests` or `bench`; both import from here.
"""
