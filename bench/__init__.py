"""Benchmarks: one module per figure, each with ``run(options) -> dict``; see bench/README.md."""
