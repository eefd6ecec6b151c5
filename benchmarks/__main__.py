"""`python -m benchmarks`: the benchmark suite."""

from benchmarks.run import main

main()
