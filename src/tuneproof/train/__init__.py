"""Training: one config → a run directory (``tuneproof.train.run(config, output_dir)``);
``run_seeds`` trains it once per seed (``train --seeds``)."""

from tuneproof.train.run import RunResult, run
from tuneproof.train.seeds import parse_seeds, run_seeds

__all__ = ["RunResult", "parse_seeds", "run", "run_seeds"]
