"""`tuneproof sweep`: hyperparameter search with Optuna over ordinary run directories.

Each trial is a `tuneproof.train.run` into ``SWEEP/trials/trial-NNN`` evaluated on validation only;
the best configuration alone is then retrained into ``SWEEP/best`` with the test split
(docs/sweep.md).
"""

from tuneproof.sweep.run import SweepOptions, SweepResult, run_sweep
from tuneproof.sweep.space import Param, SearchSpace, default_space, load_space

__all__ = [
    "Param",
    "SearchSpace",
    "SweepOptions",
    "SweepResult",
    "default_space",
    "load_space",
    "run_sweep",
]
