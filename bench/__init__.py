"""Benchmarks: each module runs one measurement against a baseline in the same run and prints a
markdown block for docs/benchmarks.md.  ``python -m bench`` lists them; ``python -m bench NAME`` runs one."""
