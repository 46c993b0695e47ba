"""``model/README.md``: a Hugging Face model card filled from the run's evidence.

The YAML front matter (language, license, datasets, metrics, base_model, pipeline_tag,
model-index) comes from ``huggingface_hub.ModelCardData`` so the Hub parses it; the body is the
``modelcard.md.jinja`` template, rendered with the report's escaping Markdown environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tuneproof import io
from tuneproof.evaluate.degenerate import degenerate_warnings
from tuneproof.report.bundle import RunEvidence
from tuneproof.report.limitations import Limitation, training_languages
from tuneproof.report.render import render
from tuneproof.tasks import TASKS

if TYPE_CHECKING:
    from huggingface_hub import ModelCardData

UNKNOWN_LICENSE = "other"


@dataclass(frozen=True)
class ModelCardText:
    text: str  # the whole README.md
    front_matter: str  # the YAML between the --- lines
    base_model: str | None
    license: str
    path: Path | None  # where it was written (None: not written)


def base_model_id(name: str | None) -> str | None:
    """A Hub id for the card's ``base_model`` (None for a local folder, which the Hub rejects)."""
    if not name:
        return None
    from tuneproof.models import BUILTIN_MODELS

    if name in BUILTIN_MODELS:
        return BUILTIN_MODELS[name].hub_id
    if name.startswith(("/", ".", "~")) or Path(name).exists():
        return None
    return name


def dataset_names(ev: RunEvidence) -> list[str]:
    builtin = ev.config_value("data.builtin")
    hf = ev.config_value("data.hf_dataset")
    if builtin:
        return [str(builtin)]
    if hf:
        return [str(hf)]
    if ev.manifest:
        return sorted(
            {Path(d.path.split("#", 1)[0]).name for d in ev.manifest.data.values() if d.path}
        )
    return []


def card_data(
    ev: RunEvidence,
    base_model: str | None,
    *,
    license: str | None = None,
    language: Sequence[str] | None = None,
) -> ModelCardData:
    from huggingface_hub import EvalResult, ModelCardData

    m = ev.metrics
    adapter = TASKS.get(m.task)
    task = adapter.card.pipeline_tag if adapter else None
    datasets = dataset_names(ev)
    lora = (ev.training.kind or ev.config_value("strategy.kind")) in ("lora", "qlora")
    results = [
        EvalResult(
            task_type=task or m.task,
            dataset_type=datasets[0] if datasets else "custom",
            dataset_name=datasets[0] if datasets else "custom",
            dataset_split=m.split,
            metric_type=v.name,
            metric_value=round(v.value, 4),
        )
        for v in m.overall.values()
    ]
    # other distributions are results of their own (named), never merged into the headline
    results += [
        EvalResult(
            task_type=task or m.task,
            dataset_type=name,
            dataset_name=f"{name} (out-of-distribution)",
            metric_type=v.name,
            metric_value=round(v.value, 4),
        )
        for name, r in ev.ood.items()
        for v in r.overall.values()
        if v.name == m.main_metric
    ]
    # the languages the model was trained on; evaluated-only ones are in the card's evaluation
    langs = list(language) if language else list(training_languages(ev))
    return ModelCardData(
        model_name=ev.name,
        language=langs or None,
        license=license or UNKNOWN_LICENSE,
        library_name="peft" if lora else "transformers",
        base_model=base_model,
        datasets=datasets or None,
        metrics=[v.name for v in m.overall.values()] or None,
        pipeline_tag=task,
        tags=["tuneproof", m.task, *(["lora"] if lora else [])],
        eval_results=results or None,
    )


def usage_example(task: str, peft: bool) -> str:
    """The card's "How to use" code: the task's PEFT Auto class for an adapter, else the
    ``pipeline`` with the task's example input (``TaskAdapter.card``)."""
    adapter = TASKS.get(task) or TASKS["sequence-classification"]
    if peft:
        auto = "AutoPeft" + adapter.auto_class.removeprefix("Auto")
        return (
            f"from peft import {auto}\nfrom transformers import AutoTokenizer\n\n"
            f'model = {auto}.from_pretrained("PATH/TO/model")\n'
            'tokenizer = AutoTokenizer.from_pretrained("PATH/TO/model")'
        )
    card = adapter.card
    return (
        "from transformers import pipeline\n\n"
        f'pipe = pipeline("{card.pipeline or card.pipeline_tag}", model="PATH/TO/model")\n'
        f"print({card.example})"
    )


def render_model_card(
    ev: RunEvidence,
    limitations: Sequence[Limitation],
    *,
    license: str | None = None,
    language: Sequence[str] | None = None,
) -> ModelCardText:
    """Front matter from ``ModelCardData``, body from the template; parsed back by ModelCard to
    make sure the Hub reads what we wrote."""
    from huggingface_hub import ModelCard

    base_model = base_model_id(
        ev.config_value("model.name") or (ev.manifest.model if ev.manifest else None)
    )
    data = card_data(ev, base_model, license=license, language=language)
    front = data.to_yaml()
    body = render(
        "modelcard.md.jinja",
        ev=ev,
        data=data,
        limitations=limitations,
        license_given=license is not None,
        main=ev.metrics.main_metric,
        training=ev.training,
        slices=sorted(ev.metrics.slices.items(), key=lambda kv: -(kv[1].n or 0))[:15],
        usage=usage_example(ev.metrics.task, data.library_name == "peft"),
        ood=[
            (name, r, ", ".join(k.partition("=")[2] for k in r.slices if k.startswith("language=")))
            for name, r in ev.ood.items()
        ],
        warnings=[str(w) for w in degenerate_warnings(ev.metrics, ev.predictions, ev.baselines)],
        baselines=ev.baselines,
    )
    text = f"---\n{front}\n---\n\n{body.lstrip()}"
    card = ModelCard(text)  # raises on front matter the Hub could not parse
    return ModelCardText(
        text=str(card),
        front_matter=front,
        base_model=base_model,
        license=data.license or "",
        path=None,
    )


def write_model_card(ev: RunEvidence, card: ModelCardText) -> ModelCardText:
    """Write ``model/README.md`` (atomically) when the run has a model folder."""
    if not ev.has_model:
        return card
    path = io.write_text(ev.run_dir / "model" / "README.md", card.text)
    from dataclasses import replace

    return replace(card, path=path)
