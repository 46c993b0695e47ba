"""Preference tuning (DPO) of a causal LM on ``prompt``, ``chosen``, ``rejected`` rows, with trl.

Training is trl's ``DPOTrainer`` (the adapter builds it: :meth:`Preference.build_trainer`), with
``training.beta`` and ``training.loss_type`` passed through to ``DPOConfig`` (``sigmoid`` is DPO;
``ipo``, ``hinge``, ``robust``, ... are its variants). LoRA is the default strategy; the reference
is ``model.reference`` when set, otherwise the base model: under LoRA the adapter-disabled base
(trl keeps a frozen copy of the freshly initialised adapter, which equals it), under full
fine-tuning a frozen copy.

Each prompt is rendered with the model's chat template (the user's turn, then the assistant's
answer), as summarization/SFT does. Evaluation scores each held-out pair by the implicit reward
``r(y) = beta * (log p_tuned(y | x) - log p_ref(y | x))``:

- ``reward_accuracy``: share of pairs with ``r(chosen) > r(rejected)`` (0 before training, where
  every reward is 0), ``reward_margin``: mean ``r(chosen) - r(rejected)``;
- ``base_accuracy`` / ``likelihood_accuracy``: share of pairs where the reference / the tuned model
  gives the chosen answer the higher log-likelihood (the before and after of the same question);
- ``win_rate``: greedy replies of the tuned model and of the reference to each prompt, scored by
  the implicit reward; a win is 1, a tie (the same reply) 0.5.

All are means of per-pair values, so their bootstrap intervals resample pairs (the ``mean`` path
of ``evaluate.metrics``), overall and per slice. ``gold`` is the chosen answer, ``pred`` the answer
the implicit reward prefers, so ``gold == pred`` is a reward-accurate pair.
"""

from __future__ import annotations

from collections.abc import Callable
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
    column_texts,
    from_base,
    source_name,
)
from tuneproof.tasks.classification import row_ids
from tuneproof.tasks.language_modeling import IGNORE, score_documents
from tuneproof.tasks.summarization import generate, render

if TYPE_CHECKING:
    from transformers import EvalPrediction, PreTrainedModel, PreTrainedTokenizerBase, Trainer

    from tuneproof.config import RunConfig
    from tuneproof.data.load import LoadedData

METRICS = ("reward_accuracy", "reward_margin", "base_accuracy", "likelihood_accuracy", "win_rate")


def render_pair(
    tokenizer: PreTrainedTokenizerBase, prompt: str, answer: str, system: str | None
) -> tuple[str, str]:
    """(prompt up to the assistant's turn, answer with its end-of-turn marker). The answer ends
    with the end-of-text token, so trl adds none of its own and both sides score the same text."""
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
    p, reply = render(tokenizer, messages)
    eos = tokenizer.eos_token or ""
    if eos and reply.rstrip().endswith(eos):
        reply = reply.rstrip()
    elif eos:
        reply += eos
    return p, reply


def completion_example(
    prompt_ids: list[int], completion_ids: list[int]
) -> tuple[list[int], list[int]]:
    """Input and targets scoring only the completion's tokens given the prompt."""
    ids = prompt_ids + completion_ids
    targets = [ids[t + 1] if t + 1 >= len(prompt_ids) else IGNORE for t in range(len(ids) - 1)]
    return ids, [*targets, IGNORE]


class Preference(TrainerTask):
    name = "preference"
    main_metric = "reward_accuracy"
    greater_is_better = True
    peft_task_type = "CAUSAL_LM"
    auto_class = "AutoModelForCausalLM"
    head_labels: int | None = None
    label_set = False
    card = CardTemplate(
        "text-generation",
        'pipe([{"role": "user", "content": "What is the sentiment of: a gorgeous film?"}], '
        "max_new_tokens=8)",
        pipeline="text-generation",
    )
    starter = StarterConfig(
        name="preference",
        data="""\
  builtin: preference-toy-en   # here: TOY pairs built from real English polarity sentences:
                           # prompt = a review, chosen = its sentiment, rejected = the other one
  prompt_template: "What is the sentiment of this movie review? Answer with one word, positive or negative.\\n\\nReview: {{input}}"
  max_length: 128          # prompt + answer tokens
  max_new_tokens: 4        # generated per prompt for the win rate
  id_column: id
""",
        model="smollm2",
        strategy="""\
  kind: lora               # the default for preference tuning; the reference is the base model
  lora: {{r: 8, alpha: 16, dropout: 0.0, target_modules: all-linear}}
""",
        epochs=1,
        learning_rate="5.0e-5",
    )
    eval_templates: tuple[EvalTemplate, ...] = (
        EvalTemplate(
            "preference",
            "reward accuracy is measured against the reference model; read it beside the base "
            "model's own likelihood preference (base_accuracy) and the win rate",
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
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        datasets: dict[str, Dataset] = {}
        ids: dict[str, list[str]] = {}
        raw: dict[str, dict[str, list[str]]] = {}
        rendered: dict[str, dict[str, list[str]]] = {}
        examples: dict[str, list[tuple[tuple[list[int], list[int]], ...]]] = {}
        counts: dict[str, list[TokenCount]] = {}
        columns = {
            "prompt": dc.prompt_column,
            "chosen": dc.chosen_column,
            "rejected": dc.rejected_column,
        }
        for split, df in data.splits.items():
            src = source_name(data, split)
            missing = [c for c in columns.values() if c not in df.columns]
            if missing:
                raise UserError(
                    f"{src}: no {', '.join(repr(c) for c in missing)} column; preference rows "
                    "need prompt, chosen and rejected (data.prompt_column / chosen_column / "
                    "rejected_column)"
                )
            ids[split] = row_ids(df, dc.id_column, src)
            raw[split] = {k: column_texts(df, c, src) for k, c in columns.items()}
            rendered[split] = {"prompt": [], "chosen": [], "rejected": []}
            examples[split], counts[split] = [], []
            for i, (p, c, r) in enumerate(zip(*raw[split].values(), strict=True)):
                if c.strip() == r.strip():
                    raise UserError(
                        f"{src}: row {i}: chosen and rejected are the same text; drop the row"
                    )
                if dc.prompt_template:
                    p = dc.prompt_template.replace("{input}", p)
                prompt, chosen = render_pair(tokenizer, p, c, dc.system_prompt)
                _, rejected = render_pair(tokenizer, p, r, dc.system_prompt)
                enc = [
                    tokenizer(t, add_special_tokens=False)["input_ids"]
                    for t in (prompt, chosen, rejected)
                ]
                if len(enc[0]) >= dc.max_length:
                    raise UserError(
                        f"{src}: row {i}: the prompt alone is {len(enc[0])} tokens, "
                        f"data.max_length is {dc.max_length}; raise it or shorten the prompt"
                    )
                room = dc.max_length - len(enc[0])
                examples[split].append(
                    (
                        completion_example(enc[0], enc[1][:room]),
                        completion_example(enc[0], enc[2][:room]),
                    )
                )
                longest = max(len(enc[1]), len(enc[2]))
                counts[split].append(
                    TokenCount(
                        total=len(enc[0]) + longest,
                        kept=len(enc[0]) + min(longest, room),
                        first=len(enc[0]),
                        second=longest,
                        second_cut=longest > room,
                    )
                )
                for key, text in zip(
                    ("prompt", "chosen", "rejected"), (prompt, chosen, rejected), strict=True
                ):
                    rendered[split][key].append(text)
            datasets[split] = Dataset.from_dict(rendered[split])
        return Prepared(
            datasets=datasets,
            frames=data.splits,
            ids=ids,
            extra={
                "raw": raw,
                "rendered": rendered,
                "examples": examples,
                "model_path": resolve_model(config.model.name, revision=config.model.revision),
                "config": config,
            },
            selection=("loss", False),
            check_texts={s: v["prompt"] for s, v in raw.items()},
            tokens=counts,
        )

    def build_model(
        self, model_path: str, prepared: Prepared, config: RunConfig
    ) -> PreTrainedModel:
        return from_base(self.auto_class, model_path, config)

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Callable[..., Any]:
        from trl.trainer.dpo_trainer import DataCollatorForPreference

        return DataCollatorForPreference(pad_token_id=tokenizer.pad_token_id)

    def compute_metrics(
        self, prepared: Prepared, split: str
    ) -> Callable[[EvalPrediction], dict[str, float]] | None:
        return None  # DPOTrainer logs rewards/accuracies itself during training

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
        """trl's ``DPOTrainer`` on the run's resolved TrainingArguments, with beta and the loss
        type passed through; trl's own defaults (gradient checkpointing, bf16) do not apply."""
        from trl import DPOConfig, DPOTrainer

        args = DPOConfig(
            **kwargs,
            gradient_checkpointing=config.training.gradient_checkpointing,
            beta=config.training.beta,
            loss_type=list(config.training.loss_type),
            max_length=config.data.max_length,
        )
        ref = None
        if config.model.reference:
            from tuneproof.models import resolve_model

            ref = from_base(self.auto_class, resolve_model(config.model.reference), config)
        trainer: Trainer = DPOTrainer(
            model=model,
            ref_model=ref,
            args=args,
            train_dataset=prepared.datasets["train"],
            eval_dataset=prepared.datasets.get("validation"),
            processing_class=tokenizer,
            callbacks=callbacks,
        )
        return trainer

    def predict_rows(
        self, trainer: Trainer, prepared: Prepared, split: str
    ) -> list[dict[str, Any]]:
        """Log-likelihoods of both answers under the tuned model and the reference, and greedy
        replies of both scored by the implicit reward."""
        model: Any = trainer.model
        tok: Any = trainer.processing_class
        config: RunConfig = prepared.extra["config"]
        pad = tok.pad_token_id or 0
        batch = trainer.args.per_device_eval_batch_size
        pairs = prepared.extra["examples"][split]
        flat = [e for pair in pairs for e in pair]
        prompts = prepared.extra["rendered"][split]["prompt"]

        def logps(m: Any) -> np.ndarray:
            nll, _ = score_documents(m, flat, pad_id=pad, batch_size=batch)
            return -nll.reshape(len(pairs), 2)

        def replies(m: Any) -> list[str]:
            return generate(
                m, tok, prompts, max_new_tokens=config.data.max_new_tokens, batch_size=batch
            )

        tuned, tuned_replies = logps(model), replies(model)
        ref_model = _reference(trainer, prepared)
        with _as_reference(model, ref_model) as ref:
            ref_lp, base_replies = logps(ref), replies(ref)
        # the two sets of replies, scored by the tuned model and the reference
        reply_examples = [
            completion_example(
                tok(p, add_special_tokens=False)["input_ids"],
                tok(r + (tok.eos_token or ""), add_special_tokens=False)["input_ids"],
            )
            for p, r in zip(prompts * 2, tuned_replies + base_replies, strict=True)
        ]
        pol_nll, _ = score_documents(model, reply_examples, pad_id=pad, batch_size=batch)
        with _as_reference(model, ref_model) as ref:
            ref_nll, _ = score_documents(ref, reply_examples, pad_id=pad, batch_size=batch)
        gen_reward = config.training.beta * (ref_nll - pol_nll)  # beta * (logp - ref logp)
        n = len(pairs)
        return self.prediction_rows(
            prepared,
            split,
            {
                "tuned": tuned,
                "ref": ref_lp,
                "tuned_reply": tuned_replies,
                "base_reply": base_replies,
                "tuned_reward": gen_reward[:n],
                "base_reward": gen_reward[n:],
            },
        )

    def prediction_rows(
        self, prepared: Prepared, split: str, predictions: Any
    ) -> list[dict[str, Any]]:
        beta = prepared.extra["config"].training.beta
        raw = prepared.extra["raw"][split]
        p = predictions
        rows = []
        for i, rid in enumerate(prepared.ids[split]):
            lc, lr = float(p["tuned"][i, 0]), float(p["tuned"][i, 1])
            rc, rr = float(p["ref"][i, 0]), float(p["ref"][i, 1])
            reward_c, reward_r = beta * (lc - rc), beta * (lr - rr)
            tw, bw = float(p["tuned_reward"][i]), float(p["base_reward"][i])
            same = p["tuned_reply"][i] == p["base_reply"][i]
            chosen, rejected = raw["chosen"][i], raw["rejected"][i]
            rows.append(
                {
                    "id": rid,
                    "text": raw["prompt"][i],
                    "gold": chosen,
                    "pred": chosen if reward_c > reward_r else rejected,
                    "score": round(reward_c - reward_r, 6),
                    "rejected": rejected,
                    "logp_chosen": round(lc, 6),
                    "logp_rejected": round(lr, 6),
                    "ref_logp_chosen": round(rc, 6),
                    "ref_logp_rejected": round(rr, 6),
                    "reward_chosen": round(reward_c, 6),
                    "reward_rejected": round(reward_r, 6),
                    "tuned_reply": p["tuned_reply"][i],
                    "base_reply": p["base_reply"][i],
                    "tuned_reply_reward": round(tw, 6),
                    "base_reply_reward": round(bw, 6),
                    "win": 0.5 if same or tw == bw else float(tw > bw),
                }
            )
        return rows

    def metrics_from_rows(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        if not rows:
            return dict.fromkeys(METRICS, float("nan"))

        def mean(values: Any) -> float:
            return float(np.mean(np.asarray(list(values), dtype=np.float64)))

        return {
            "reward_accuracy": mean(r["reward_chosen"] > r["reward_rejected"] for r in rows),
            "reward_margin": mean(r["reward_chosen"] - r["reward_rejected"] for r in rows),
            "base_accuracy": mean(r["ref_logp_chosen"] > r["ref_logp_rejected"] for r in rows),
            "likelihood_accuracy": mean(r["logp_chosen"] > r["logp_rejected"] for r in rows),
            "win_rate": mean(r["win"] for r in rows),
        }


def _reference(trainer: Trainer, prepared: Prepared) -> Any:
    """The reference the rewards are measured against: trl's ``ref_model`` (``model.reference``
    or a frozen copy), else None (LoRA: the adapter-disabled base), else the base reloaded
    (a run evaluated after training, full fine-tuning)."""
    ref = getattr(trainer, "ref_model", None)
    if ref is not None:
        return ref
    model: Any = trainer.model
    if hasattr(model, "disable_adapter"):
        return None
    config: RunConfig = prepared.extra["config"]
    path = prepared.extra["model_path"]
    if config.model.reference:
        from tuneproof.models import resolve_model

        path = resolve_model(config.model.reference)
    device = next(model.parameters()).device
    return from_base("AutoModelForCausalLM", path, config).to(device)


class _as_reference:
    """``with _as_reference(model, ref) as m``: ``ref`` when given, else ``model`` with its
    adapters disabled."""

    def __init__(self, model: Any, ref: Any) -> None:
        self.model, self.ref = model, ref
        self.ctx: Any = None

    def __enter__(self) -> Any:
        if self.ref is not None:
            return self.ref
        self.ctx = self.model.disable_adapter()
        self.ctx.__enter__()
        return self.model

    def __exit__(self, *exc: Any) -> None:
        if self.ctx is not None:
            self.ctx.__exit__(*exc)
