"""Diagnostics only: `python -m bench._profiled_runner NAME OUT.prof` runs kit.runner under cProfile (self time is
meaningful across green threads; cumulative time is not)."""
import kit  # noqa: F401
import eventlet

eventlet.monkey_patch()

import cProfile  # noqa: E402
import sys  # noqa: E402

from kit import runner  # noqa: E402

profiler = cProfile.Profile()
profiler.enable()
try:
    runner.run(sys.argv[1])
finally:
    profiler.disable()
    profiler.dump_stats(sys.argv[2])
