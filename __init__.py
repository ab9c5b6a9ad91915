"""lianchuang (联创): the yearly cycle of community party-building joint creation."""

import gc

__version__ = "0.1.0"

# The cyclic garbage collector's default (a young collection every 700 net allocations) sweeps a
# province's 150,000 task rows and 5,000 pages hundreds of times over; these objects are freed by
# reference counting, not by the collector. Collecting every 50,000 allocations took the monthly
# run's steps from 15.1 to 13.4 s (benchmarks/monthly_ranking.py --breakdown) in every process that
# imports the app: the command, Prefect's runs and the worker processes.
gc.set_threshold(50_000, 20, 20)
