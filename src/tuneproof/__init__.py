"""tuneproof: make a transformer fine-tuning run a reviewable artifact."""

__version__ = "0.1.0"
