"""Summarization and instruction tuning (SFT) of a causal LM with its chat template, on trl.

Each row becomes a chat: the user's message (the input, through ``data.prompt_template``) and
the assistant's reply (the output). Training is trl's ``SFTTrainer`` (built by
:meth:`Summarization.build_trainer` on the run's resolved TrainingArguments) on a
prompt-completion dataset: conversational (``prompt`` = the chat up to the reply, ``completion``
= the assistant's turn, rendered by the model's chat template inside trl) when the tokenizer has
a chat template, plain strings in a documented layout otherwise. ``completion_only_loss`` puts
the loss on the reply's tokens only (trl sets the prompt's labels to -100), so the model learns
to answer, not to repeat the question. Packing (trl's best-fit-decreasing, which trains
padding-free) is used when ``data.packing`` is on and the model runs a flash-attention kernel:
with eager or SDPA attention the flattened batch would let each example attend to its
neighbours, so such runs pad per batch instead.

Evaluation generates a reply greedily for each prompt and scores it with ROUGE-1/2/L against the
reference (the mean of per-row scores) and with sacrebleu's corpus BLEU, chrF and TER
(``tuneproof.text.generation``).
"""

from __future__ import annotations

import json
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
    TrainerTask,
    from_base,
    source_name,
)
from tuneproof.tasks.classification import row_ids
from tuneproof.text.generation import GENERATION_METRICS, corpus_resampler, corpus_scores

if TYPE_CHECKING:
    import pandas as pd
    from transformers import EvalPrediction, PreTrainedModel, PreTrainedTokenizerBase, Trainer

    from tuneproof.config import DataConfig, RunConfig
    from tuneproof.data.load import LoadedData

IGNORE = -100
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
# For a model without a chat template (a base LM): a plain, documented layout.
FALLBACK_USER = "### Input:\n{content}\n\n"
FALLBACK_ASSISTANT = "### Response:\n"


def rouge_scores(gold: str, pred: str) -> dict[str, float]:
    """ROUGE-1/2/L F-measures (rouge-score, Porter stemming; its tokenizer keeps a-z0-9 only,
    as in the published summarization results, so scripts other than Latin score 0)."""
    return dict(zip(ROUGE_TYPES, _rouge(gold, pred), strict=True))


@lru_cache(maxsize=200_000)
def _rouge(gold: str, pred: str) -> tuple[float, ...]:
    """Cached per (reference, output): the evaluation scores each row once per slice it is in."""
    scores = _rouge_scorer().score(gold, pred)
    return tuple(float(scores[k].fmeasure) for k in ROUGE_TYPES)


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)


def _is_empty(v: Any) -> bool:
    return (
        v is None
        or (isinstance(v, float) and np.isnan(v))
        or (isinstance(v, str) and not v.strip())
    )


def row_messages(row: pd.Series, dc: DataConfig, where: str) -> list[dict[str, str]]:
    """The chat of one row, ending with the assistant's reply; errors name the row."""
    has_input = dc.input_column in row.index and not _is_empty(row[dc.input_column])
    if has_input:
        out = row[dc.output_column] if dc.output_column in row.index else None
        if _is_empty(out):
            raise UserError(
                f"{where}: no '{dc.output_column}' (the response to learn); add it or drop the row"
            )
        template = dc.prompt_template or "{input}"
        messages = [{"role": "system", "content": dc.system_prompt}] if dc.system_prompt else []
        messages += [
            {"role": "user", "content": template.replace("{input}", str(row[dc.input_column]))},
            {"role": "assistant", "content": str(out)},
        ]
        return messages
    if dc.messages_column in row.index and not _is_empty(row[dc.messages_column]):
        raw = row[dc.messages_column]
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError:
                raw = None
        msgs = list(raw) if isinstance(raw, (list, tuple, np.ndarray)) else None
        if not msgs or not all(
            isinstance(m, dict) and "role" in m and "content" in m for m in msgs
        ):
            raise UserError(
                f"{where}: '{dc.messages_column}' must be a list of {{role, content}} messages"
            )
        if msgs[-1]["role"] != "assistant" or _is_empty(msgs[-1]["content"]):
            raise UserError(
                f"{where}: no output: the last message must be the assistant's reply to learn "
                f"(got role {msgs[-1]['role']!r}); add it or drop the row"
            )
        if dc.system_prompt and msgs[0]["role"] != "system":
            msgs = [{"role": "system", "content": dc.system_prompt}, *msgs]
        return [{"role": str(m["role"]), "content": str(m["content"])} for m in msgs]
    raise UserError(
        f"{where}: neither '{dc.input_column}' nor '{dc.messages_column}'; give an input and "
        "output, or a messages list (see data.input_column / data.messages_column)"
    )


def render(tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]]) -> tuple[str, str]:
    """(prompt, reply) strings: the prompt ends where the assistant starts to speak, the reply
    is everything the model must produce (including the end-of-turn marker)."""
    if getattr(tokenizer, "chat_template", None):
        prompt = tokenizer.apply_chat_template(
            messages[:-1], tokenize=False, add_generation_prompt=True
        )
        full = tokenizer.apply_chat_template(messages, tokenize=False)
        assert isinstance(prompt, str) and isinstance(full, str)
        if not full.startswith(prompt):  # a template that rewrites earlier turns
            raise UserError(
                "model: the chat template renders the prompt differently with and without the "
                "reply, so the reply's tokens cannot be located; use a model with a standard template"
            )
        return prompt, full[len(prompt) :]
    prompt = "".join(
        FALLBACK_USER.format(content=m["content"]) for m in messages[:-1] if m["role"] != "system"
    )
    return prompt + FALLBACK_ASSISTANT, messages[-1]["content"] + (tokenizer.eos_token or "")


def count_tokens(
    tokenizer: PreTrainedTokenizerBase, prompt: str, reply: str, max_length: int, where: str
) -> TokenCount:
    """The row's token count as trl's ``SFTTrainer`` builds it (prompt first, reply second:
    only the reply is ever cut, at ``max_length``).

    trl tokenises the prompt and prompt + reply and starts the completion where the two
    diverge (``common_prefix_length``); a prompt that fills ``max_length`` would leave no reply
    token, which trl drops silently, so it is refused here, naming the row.
    """
    from trl.data_utils import common_prefix_length

    p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full = tokenizer(prompt + reply, add_special_tokens=False)["input_ids"]
    first = common_prefix_length(p, full)
    if first >= max_length:
        raise UserError(
            f"{where}: the prompt alone is {first} tokens, data.max_length is {max_length}, so "
            "no reply token would be learned; raise max_length or shorten the input"
        )
    kept = min(len(full), max_length)
    return TokenCount(
        total=len(full),
        kept=kept,
        first=first,
        second=len(full) - first,
        second_cut=kept < len(full),
    )


def sft_example(
    tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]], prompt: str
) -> dict[str, Any]:
    """One row of trl's prompt-completion dataset. With a chat template the chat itself, so trl
    renders it (``add_generation_prompt`` on the prompt, no special tokens added twice); without
    one the fallback layout's strings (trl appends the end-of-text token to the reply)."""
    if getattr(tokenizer, "chat_template", None):
        return {"prompt": messages[:-1], "completion": messages[-1:]}
    return {"prompt": prompt, "completion": messages[-1]["content"]}


def uses_flash_attention(model: Any) -> bool:
    """Whether the model's attention kernel separates packed sequences (trl's padding-free batches
    carry per-sequence position ids, which only the flash/varlen kernels honour)."""
    impl = str(getattr(getattr(model, "config", None), "_attn_implementation", None) or "")
    return "flash" in impl


class Summarization(TrainerTask):
    name = "summarization"
    main_metric = "rougeL"
    greater_is_better = True
    peft_task_type = "CAUSAL_LM"  # PEFT LoraConfig.task_type
    auto_class = "AutoModelForCausalLM"
    head_labels: int | None = None
    label_set = False
    card = CardTemplate(
        "summarization",
        'pipe([{"role": "user", "content": "Summarise in one sentence: ..."}], max_new_tokens=64)',
        pipeline="text-generation",
    )
    starter = StarterConfig(
        name="summarization",
        data="""\
  builtin: synthetic-summarization   # rows {{id, input, output}} or {{messages: [...]}}
  prompt_template: "Summarise this report in one sentence.\\n\\n{{input}}"
  max_length: 128          # prompt + reply tokens; the loss is on the reply only
  max_new_tokens: 24       # generated per example at evaluation (ROUGE)
  id_column: id
""",
        model="smollm2",
        strategy="""\
  kind: lora               # the default for summarization/SFT
  lora: {{r: 8, alpha: 16, dropout: 0.05, target_modules: all-linear}}
""",
        epochs=3,
        learning_rate="1.0e-3",
    )
    eval_templates: tuple[EvalTemplate, ...] = (
        EvalTemplate("summarization", "long inputs are truncated; judge length buckets separately"),
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

        dc = config.data
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        datasets: dict[str, Dataset] = {}
        ids: dict[str, list[str]] = {}
        prompts: dict[str, list[str]] = {}
        inputs: dict[str, list[str]] = {}
        golds: dict[str, list[str]] = {}
        counts: dict[str, list[TokenCount]] = {}
        for split, df in data.splits.items():
            src = source_name(data, split)
            ids[split] = row_ids(df, dc.id_column, src)
            cols: dict[str, list[Any]] = {"prompt": [], "completion": []}
            prompts[split], inputs[split], golds[split], counts[split] = [], [], [], []
            for i, (_, row) in enumerate(df.iterrows()):
                where = f"{src}: row {i}"
                messages = row_messages(row, dc, where)
                prompt, reply = render(tokenizer, messages)
                example = sft_example(tokenizer, messages, prompt)
                if not isinstance(example["prompt"], list):  # trl tokenises text with specials
                    prompt = _special_prefix(tokenizer) + prompt
                    reply = example["completion"] + (tokenizer.eos_token or "")
                counts[split].append(count_tokens(tokenizer, prompt, reply, dc.max_length, where))
                for key in cols:
                    cols[key].append(example[key])
                prompts[split].append(prompt)
                inputs[split].append(
                    next(m["content"] for m in reversed(messages[:-1]) if m["role"] == "user")
                )
                golds[split].append(messages[-1]["content"])
            datasets[split] = Dataset.from_list(
                [dict(zip(cols, v, strict=True)) for v in zip(*cols.values(), strict=True)]
            )
        return Prepared(
            datasets=datasets,
            frames=data.splits,
            ids=ids,
            extra={
                "prompts": prompts,
                "inputs": inputs,
                "golds": golds,
                "max_new_tokens": dc.max_new_tokens,
                "packing": dc.packing,
            },
            selection=("loss", False),  # ROUGE needs generation: the eval loss picks checkpoints
            check_texts=inputs,
            tokens=counts,
        )

    def build_model(
        self, model_path: str, prepared: Prepared, config: RunConfig
    ) -> PreTrainedModel:
        return from_base(
            self.auto_class,
            model_path,
            config,
        )

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Callable[..., Any]:
        """trl's collator (pads ``labels`` with -100); training builds its own in ``SFTTrainer``,
        this one serves ``tuneproof eval``'s Trainer, which only generates."""
        from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

        return DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id)

    def build_trainer(
        self,
        *,
        model: Any,
        kwargs: dict[str, Any],
        prepared: Prepared,
        tokenizer: PreTrainedTokenizerBase,
        callbacks: list[Any],
        config: RunConfig,
    ) -> Trainer:
        """trl's ``SFTTrainer`` on the run's resolved TrainingArguments, loss on completions only;
        trl's own defaults (gradient checkpointing, bf16, learning rate) do not apply."""
        from trl import SFTConfig, SFTTrainer

        packing = bool(prepared.extra["packing"]) and uses_flash_attention(model)
        args = SFTConfig(
            **kwargs,
            gradient_checkpointing=config.training.gradient_checkpointing,
            max_length=config.data.max_length,
            completion_only_loss=True,
            packing=packing,
            packing_strategy="bfd",  # whole examples per block, trained padding-free
        )
        trainer: Trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=prepared.datasets["train"],
            eval_dataset=prepared.datasets.get("validation"),
            processing_class=tokenizer,
            callbacks=callbacks,
        )
        trainer.add_callback(_resumed_token_count(trainer))
        return trainer

    def compute_metrics(
        self, prepared: Prepared, split: str
    ) -> Callable[[EvalPrediction], dict[str, float]] | None:
        return None  # teacher-forced logits say nothing about generated text; eval loss only

    def predict_rows(
        self, trainer: Trainer, prepared: Prepared, split: str
    ) -> list[dict[str, Any]]:
        """Greedy generation for every prompt of the split, batched by length."""
        preds = generate(
            trainer.model,
            trainer.processing_class,
            prepared.extra["prompts"][split],
            max_new_tokens=prepared.extra["max_new_tokens"],
            batch_size=trainer.args.per_device_eval_batch_size,
        )
        return self.prediction_rows(prepared, split, preds)

    def prediction_rows(
        self, prepared: Prepared, split: str, predictions: Any
    ) -> list[dict[str, Any]]:
        rows = []
        for rid, text, gold, pred in zip(
            prepared.ids[split],
            prepared.extra["inputs"][split],
            prepared.extra["golds"][split],
            predictions,
            strict=True,
        ):
            scores = rouge_scores(gold, pred)
            rows.append(
                {
                    "id": rid,
                    "text": text,
                    "gold": gold,
                    "pred": pred,
                    **{k: round(v, 6) for k, v in scores.items()},
                }
            )
        return rows

    def metrics_from_rows(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        if not rows:
            return dict.fromkeys((*ROUGE_TYPES, *GENERATION_METRICS), float("nan"))
        per_row = [rouge_scores(r["gold"], r["pred"]) for r in rows]
        rouge = {k: float(np.mean([s[k] for s in per_row])) for k in ROUGE_TYPES}
        return rouge | corpus_scores([r["gold"] for r in rows], [r["pred"] for r in rows])

    def resampler(
        self, rows: list[dict[str, Any]]
    ) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
        """BLEU/chrF/TER per bootstrap resample from summed segment statistics (corpus scores
        are not means of row scores); ROUGE is a mean and is resampled as one."""
        return corpus_resampler(rows)


def _resumed_token_count(trainer: Any) -> Any:
    """A callback that restores trl's running ``num_tokens`` on ``--resume``.

    trl keeps the count in memory only, so a resumed run would log it from 0 and its
    metrics.json would differ from an uninterrupted run's. The checkpointed
    ``state.num_input_tokens_seen`` (the run counts ``non_padding`` tokens: the attention mask's
    sum, which is what trl counts on padded batches) is the same figure.
    """
    from transformers import TrainerCallback

    class ResumedTokenCount(TrainerCallback):  # type: ignore[misc]
        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step > 0 and hasattr(trainer, "_total_train_tokens"):
                trainer._total_train_tokens = int(state.num_input_tokens_seen)

    return ResumedTokenCount()


def _special_prefix(tokenizer: PreTrainedTokenizerBase) -> str:
    """The text of the special tokens the tokenizer puts before a text (a BOS), which trl's
    plain-text path adds and generation must see too."""
    ids = tokenizer("x")["input_ids"]
    plain = tokenizer("x", add_special_tokens=False)["input_ids"]
    n = len(ids) - len(plain)
    return str(tokenizer.decode(ids[:n])) if n > 0 and ids[n:] == plain else ""


def generate(
    model: Any, tokenizer: Any, prompts: list[str], *, max_new_tokens: int, batch_size: int
) -> list[str]:
    """Greedy replies to ``prompts`` (left-padded batches, shortest first; input order kept)."""
    import torch

    eos = {tokenizer.eos_token_id}
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    eos |= set(configured) if isinstance(configured, (list, tuple)) else {configured}
    eos.discard(None)
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"  # generation continues right after each prompt
    device = next(model.parameters()).device
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    out = [""] * len(prompts)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                enc = tokenizer(
                    [prompts[i] for i in idx],
                    add_special_tokens=False,
                    padding=True,
                    return_tensors="pt",
                ).to(device)
                gen = model.generate(
                    **enc,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    num_beams=1,
                    pad_token_id=tokenizer.pad_token_id,
                    eos_token_id=sorted(eos),
                )
                new = gen[:, enc["input_ids"].shape[1] :]
                for i, text in zip(
                    idx, tokenizer.batch_decode(new, skip_special_tokens=True), strict=True
                ):
                    out[i] = text.strip()
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return out
