"""Decide the fine-tuning strategy with numbers, and write the decision down.

* :mod:`tuneproof.plan.lora` — exact LoRA trainable parameters (PEFT's own count) and memory
  from a model's config alone (meta device): :func:`~tuneproof.plan.lora.calculate`.
* :mod:`tuneproof.plan.memory` — the byte arithmetic and the saved-tensor activation trace.
* :mod:`tuneproof.plan.strategy` — the decision tree: :func:`~tuneproof.plan.strategy.make_plan`.
* :mod:`tuneproof.plan.adr` — ``plan.md`` as an ADR: :func:`~tuneproof.plan.adr.render_adr`.
* :mod:`tuneproof.plan.args` — TrainingArguments explain / lint / snippet.

Importing this package is cheap: torch, transformers and PEFT load inside the functions.
"""
