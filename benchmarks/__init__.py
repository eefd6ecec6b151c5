"""flowsim's benchmark suite (see benchmarks/run.py)."""
