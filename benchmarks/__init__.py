"""Benchmark scripts; their figures are in docs/BENCHMARKS.md.

Each is a module run from the repository root, so that the checkout's packages are the ones
measured and nothing needs a ``sys.path`` edit::

    .venv/bin/python -m benchmarks.turns --quick

No file here is named like a package or a standard-library module (the retrieval benchmark is
``retrieval_bench``), so a benchmark run as a plain script cannot shadow one either.
"""
