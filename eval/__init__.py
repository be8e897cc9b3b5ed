"""Evaluation and benchmarks of the assistant: they import the library and measure it.

`evaluation` scores retrieval and answers on the gold set (`assistant eval`); `bench` and the
other `bench_*` modules measure speed on this machine (`assistant bench`, or
`python -m eval.bench_ann ...`); `machine` describes what a figure was measured on.
"""
