"""Training: one config → a run directory (``tuneproof.train.run(config, output_dir)``)."""

from tuneproof.train.run import RunResult, run

__all__ = ["RunResult", "run"]
