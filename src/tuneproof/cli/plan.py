"""`lora`, `plan` and `args`: decide the fine-tuning strategy with numbers before training."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tuneproof import rundir
from tuneproof.cli._common import console
from tuneproof.errors import UserError

if TYPE_CHECKING:
    from tuneproof.plan.lora import LoraEstimate
    from tuneproof.plan.strategy import Plan

ModelOpt = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        help="built-in (minilm-l6, smollm2), shipped config (bert-base-uncased, roberta-large, "
        "llama-2-7b, mistral-7b), a config.json, a model folder or a hub name",
    ),
]
TaskOpt = Annotated[
    str | None,
    typer.Option(
        help="add this task's head (sequence-classification, ...) [default: the config's "
        "architecture]"
    ),
]
BatchOpt = Annotated[int, typer.Option(help="per-GPU batch size for the activation estimate")]
SeqOpt = Annotated[int, typer.Option(help="sequence length (tokens) for the activation estimate")]
PrecisionOpt = Annotated[
    str, typer.Option(help="training precision: fp32, bf16 or fp16 (mixed precision)")
]


# --- lora -------------------------------------------------------------------------------------


def lora(
    model: ModelOpt,
    rank: Annotated[
        int | None, typer.Option("--rank", "-r", help="LoRA rank [default: a table over 4..64]")
    ] = None,
    alpha: Annotated[int | None, typer.Option(help="lora_alpha [default: 2 x rank]")] = None,
    targets: Annotated[
        str | None,
        typer.Option(
            help="modules to adapt: comma list (query,value) or all-linear "
            "[default: PEFT's default for the architecture]"
        ),
    ] = None,
    dropout: Annotated[float, typer.Option(help="lora_dropout")] = 0.05,
    bits: Annotated[
        int,
        typer.Option(help="storage of the frozen base for the LoRA column: 32, 16, 8 (4 is QLoRA)"),
    ] = 16,
    batch: BatchOpt = 8,
    seq: SeqOpt = 256,
    precision: PrecisionOpt = "bf16",
    task: TaskOpt = None,
    num_labels: Annotated[int, typer.Option(help="labels of a classification head")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Exact LoRA trainable parameters (PEFT's own count) and training memory from a config.

    The model is built on the meta device, so no weights are needed and a 70B config works here.
    Example: `tuneproof lora -m llama-2-7b -r 8 --targets q_proj,v_proj`
    """
    from tuneproof.plan import lora as calc

    spec = calc.LoraSpec(
        r=rank if rank is not None else 16,
        alpha=alpha,
        dropout=dropout,
        targets=calc.parse_targets(targets),
    )
    source = calc.resolve_source(model)
    recipe = calc.model_recipe(source, task, num_labels)
    base = calc.analyze_base(source, recipe, batch=batch, seq=seq, precision=precision)
    est = calc.estimate_lora(base, spec, precision=precision, bits=bits)
    table = (
        None if rank is not None else calc.rank_table(base, spec, precision=precision, bits=bits)
    )
    if as_json:
        out = est.to_dict()
        if table is not None:
            out["ranks"] = [e.rank_row() for e in table]
        print(json.dumps(out, indent=2))
        return
    _print_estimate(est, table)


def _print_estimate(est: LoraEstimate, table: list[LoraEstimate] | None) -> None:
    from tuneproof.plan import lora as calc
    from tuneproof.plan.memory import format_bytes as fb

    s = est.spec
    console.print(
        f"[bold]{est.model}[/] ({est.architecture}, {est.origin}; PEFT task type "
        f"{est.task_type or 'none'})",
        highlight=False,
    )
    console.print(
        f"parameters: {est.total_params:,} · LoRA r={s.r} alpha={s.lora_alpha} on "
        f"{', '.join(est.target_modules)}"
        + (
            f" and expert parameters {', '.join(est.target_parameters)}"
            if est.target_parameters
            else ""
        )
        + f" trains [bold]{est.trainable_params:,}[/] "
        f"({est.trainable_percent:.4f} %, PEFT get_nb_trainable_parameters)",
        highlight=False,
    )

    def size(n: int | None, digits: int = 2) -> str:
        return "n/a" if n is None else fb(n, digits)

    console.print(f"adapter on disk (save_pretrained): {size(est.adapter_bytes)}", highlight=False)

    if table is not None:
        alpha = "2 x r" if s.alpha is None else str(s.alpha)
        traced = all(e.activation_error is None for e in table)
        t = Table(
            title=f"LoRA by rank (alpha = {alpha}; "
            + ("ckpt: gradient checkpointing)" if traced else "without activations)"),
            title_justify="left",
        )
        cols = ("LoRA", "LoRA ckpt", "QLoRA", "QLoRA ckpt") if traced else ("LoRA", "QLoRA")
        for col in ("r", "trainable", "%", *cols):
            t.add_column(col, justify="right")
        for e in table:
            lo, q = e.memory["lora"], e.memory["qlora"]
            sizes: list[int | None] = [lo.state_bytes, q.state_bytes]
            if traced:
                sizes = [lo.total_bytes, lo.total_checkpointed_bytes]
                sizes += [q.total_bytes, q.total_checkpointed_bytes]
            t.add_row(
                str(e.spec.r),
                f"{e.trainable_params:,}",
                f"{e.trainable_percent:.3f}",
                *(size(n, 1) for n in sizes),
            )
        console.print(t)
        console.print(f"details for r={s.r}:", highlight=False)
    attention = f"{est.attention} attention, " if est.attention else ""
    t = Table(
        title=f"training memory per GPU: batch {est.batch} x seq {est.seq}, {est.precision}, "
        f"{attention}AdamW",
        title_justify="left",
    )
    t.add_column("")
    for col in ("full", f"LoRA ({est.bits}-bit base)", "QLoRA (NF4 base)"):
        t.add_column(col, justify="right")
    ms = [est.memory[k] for k in ("full", "lora", "qlora")]
    rows: list[tuple[str, list[int | None]]] = [
        ("weights", [m.weights_bytes for m in ms]),
        ("gradients", [m.gradients_bytes for m in ms]),
        ("optimizer (AdamW)", [m.optimizer_bytes for m in ms]),
        ("weights + gradients + optimizer", [m.state_bytes for m in ms]),
        ("activations", [m.activations_bytes for m in ms]),
        ("total", [m.total_bytes for m in ms]),
        ("activations (ckpt)", [m.activations_checkpointed_bytes for m in ms]),
        ("total (ckpt)", [m.total_checkpointed_bytes for m in ms]),
    ]
    for label, values in rows:
        style = "bold" if label.startswith("total") else None
        t.add_row(label, *(size(v) for v in values), style=style)
    console.print(t)
    if est.activation_error is not None:
        console.print(
            f"[yellow]activations not estimated:[/] {est.activation_error}; the parameter counts "
            "and weight, gradient and optimizer memory above do not depend on it",
            highlight=False,
        )
    console.print("[bold]LoraConfig[/] (Python):")
    console.print(calc.lora_config_python(est), highlight=False, markup=False)
    console.print("[bold]tuneproof config[/] (YAML):")
    console.print(calc.lora_config_yaml(est), highlight=False, markup=False)


# --- plan -------------------------------------------------------------------------------------


def plan(
    model: ModelOpt,
    train_rows: Annotated[int, typer.Option(help="number of training examples")],
    gpu_memory: Annotated[str, typer.Option(help="memory per GPU, e.g. 24GiB or 80GB")] = "24GiB",
    gpus: Annotated[int, typer.Option(help="number of GPUs")] = 1,
    deploy: Annotated[str, typer.Option(help="server, edge or many-adapters")] = "server",
    time_budget: Annotated[
        str | None, typer.Option(help="wall-clock budget for training, e.g. 2h, 90m")
    ] = None,
    task: Annotated[str, typer.Option(help="the run's task")] = "sequence-classification",
    num_labels: Annotated[int, typer.Option(help="labels of a classification head")] = 2,
    batch: BatchOpt = 8,
    seq: SeqOpt = 256,
    epochs: Annotated[float, typer.Option(help="planned epochs")] = 3.0,
    rank: Annotated[
        int, typer.Option("--rank", "-r", help="LoRA rank for the adapter options")
    ] = 16,
    targets: Annotated[
        str | None, typer.Option(help="LoRA target modules (comma list or all-linear)")
    ] = None,
    precision: PrecisionOpt = "bf16",
    gpu_tflops: Annotated[
        float, typer.Option(help="sustained TFLOP/s per GPU for the time estimate")
    ] = 50.0,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="run directory to write plan.md and plan.json into"),
    ] = None,
    emit_config: Annotated[
        Path | None, typer.Option(help="write a ready RunConfig YAML for the recommendation")
    ] = None,
    data: Annotated[
        str | None, typer.Option(help="training file to put in the emitted config")
    ] = None,
    force: Annotated[bool, typer.Option(help="replace an existing --emit-config file")] = False,
    shift: Annotated[
        str, typer.Option(help="how far the task is from pre-training: low, medium or high")
    ] = "medium",
    changes_often: Annotated[
        bool, typer.Option(help="the task's labels or instructions change often")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the plan as JSON")] = False,
) -> None:
    """Pick full fine-tuning, freezing, progressive unfreezing, LoRA, QLoRA or not fine-tuning.

    The decision tree first asks whether there is enough data and whether the task changes
    often (if so: prompting or a zero-shot model), then costs every option against memory,
    data, deployment and time, then how far the task is from pre-training.

    Prints the recommendation, the alternatives with their cost and the rule that decided;
    writes plan.md (an ADR) with --output and a RunConfig with --emit-config.
    Example: `tuneproof plan -m llama-2-7b --train-rows 20000 --gpu-memory 24GiB -o runs/llama`
    """
    from tuneproof import io
    from tuneproof.plan.adr import render_adr
    from tuneproof.plan.lora import parse_targets
    from tuneproof.plan.memory import parse_size
    from tuneproof.plan.strategy import PlanInputs, make_plan, parse_duration
    from tuneproof.plan.tree import check_shift, starter_yaml, tree_markdown, walk, walk_dict

    check_shift(shift)
    if output is not None:
        io.ensure_writable(output)  # before the model is resolved and traced
    if emit_config is not None:
        io.ensure_writable(emit_config.parent, what="--emit-config")
    if emit_config is not None and emit_config.exists() and not force:
        raise UserError(f"{emit_config}: already exists; pass --force to replace it")
    inputs = PlanInputs(
        model=model,
        train_rows=train_rows,
        gpu_memory_bytes=parse_size(gpu_memory),
        gpus=gpus,
        deploy=deploy,
        time_budget_s=parse_duration(time_budget) if time_budget else None,
        task=task,
        num_labels=num_labels,
        batch=batch,
        seq=seq,
        epochs=epochs,
        rank=rank,
        targets=parse_targets(targets),
        precision=precision,
        gpu_tflops=gpu_tflops,
    )
    result = make_plan(inputs)
    tree = walk(result, shift=shift, changes_often=changes_often)
    config_text = starter_yaml(tree, data_train=data) if emit_config is not None else None
    written: list[Path] = []
    if output is not None:
        adr = render_adr(result) + "\n" + tree_markdown(tree)
        written.append(io.write_text(output / "plan.md", adr))
        written.append(rundir.write(output, plan_record(result)))
    if emit_config is not None and config_text is not None:
        written.append(io.write_text(emit_config, config_text))
    if as_json:
        print(json.dumps(walk_dict(tree), indent=2))
        return
    _print_plan(result)
    console.print(tree_markdown(tree), highlight=False, markup=False)
    for path in written:
        console.print(f"wrote [bold]{path}[/]", highlight=False)
    if output is None:
        console.print("pass --output runs/NAME to write plan.md (the decision as an ADR)")


def plan_record(p: Plan) -> rundir.PlanRecommendation:
    """plan.json: the recommendation as data, so the report can compare it with the run."""
    choice = p.recommended
    return rundir.PlanRecommendation(
        model=p.inputs.model,
        strategy=choice.kind if choice else None,
        max_length=p.inputs.seq,
        batch_size=choice.batch_size if choice else None,
        gradient_accumulation_steps=choice.gradient_accumulation_steps if choice else None,
    )


def _print_plan(p: Plan) -> None:
    from tuneproof.plan.adr import NAMES, SHORT
    from tuneproof.plan.memory import format_bytes as fb
    from tuneproof.plan.strategy import RULES, format_hours

    o = p.recommended
    if o is None:
        console.print("[bold red]no strategy fits[/]", highlight=False)
    else:
        console.print(
            f"recommendation: [bold]{NAMES[o.kind]}[/] ({o.detail}); {o.setup()}; "
            f"~{fb(o.peak_bytes)} per GPU, ~{format_hours(o.hours)}",
            highlight=False,
        )
    console.print(f"rule [bold]{p.rule}[/] ({RULES[p.rule]}): {p.reason}", highlight=False)
    t = Table(
        title=f"{p.inputs.model}: {p.total_params:,} parameters ({p.architecture})",
        title_justify="left",
    )
    for col in ("option", "trainable", "peak / GPU", "fits", "batch", "est. time"):
        t.add_column(col, justify="left" if col in ("option", "setup", "fits") else "right")
    for opt in p.options:
        mark = " ←" if opt is o else ""
        t.add_row(
            SHORT[opt.kind] + mark,
            f"{opt.trainable_params:,}",
            fb(opt.peak_bytes),
            "yes" if opt.fits else "no",
            opt.setup(short=True),
            format_hours(opt.hours),
        )
    console.print(t)
    console.print("batch: per-GPU batch, xN gradient accumulation, ckpt gradient checkpointing")
    for note in p.notes:
        console.print(f"note: {note}", highlight=False)


# --- args -------------------------------------------------------------------------------------

args_app = typer.Typer(
    help="TrainingArguments explorer: explain a field, lint a config, print the Python. "
    "Examples: `tuneproof args explain warmup_steps`, `tuneproof args lint my-run.yaml`, "
    "`tuneproof args snippet my-run.yaml`",
    no_args_is_help=True,
)


@args_app.command("explain")
def args_explain(
    name: Annotated[str | None, typer.Argument(help="a TrainingArguments field")] = None,
    all_fields: Annotated[
        bool, typer.Option("--all", help="every field of the installed version, not the main")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """What a TrainingArguments field does, its default, impact, the fields it interacts with,
    typical values and pitfalls.

    Help text and defaults come from the installed transformers. Without NAME: the main fields
    (--all: every field, most impact first).
    Example: `tuneproof args explain warmup_steps`
    """
    from tuneproof.plan import args as calc
    from tuneproof.plan.args import explain

    if name is None:
        fields = calc.all_fields() if all_fields else calc.main_fields()
        if as_json:
            print(json.dumps([f.to_dict() for f in fields], indent=2))
            return
        t = Table(
            "field",
            "default",
            "what it does",
            title=f"{'all' if all_fields else 'main'} TrainingArguments fields",
            title_justify="left",
        )
        for f in fields:
            t.add_row(f.name, f.default, f.help.split(". ")[0][:90])
        console.print(t)
        console.print("`tuneproof args explain NAME` for ranges and pitfalls")
        return
    h = explain(name)
    if as_json:
        print(json.dumps(h.to_dict(), indent=2))
        return
    if h.note:
        console.print(f"[yellow]{h.note}[/]", highlight=False)
    console.print(
        f"[bold]{h.name}[/]: {h.type} = {h.default} (impact: {h.impact})", highlight=False
    )
    console.print(h.help, highlight=False, markup=False)
    for group in calc.interactions_of(h.name):
        console.print(f"[bold]{group.name}:[/] {group.rule}", highlight=False)
    g = h.guidance
    if g is not None:
        console.print(f"[bold]full fine-tuning:[/] {g.full}", highlight=False)
        console.print(f"[bold]LoRA:[/] {g.lora}", highlight=False)
        for p in g.pitfalls:
            console.print(f"- {p}", highlight=False, markup=False)
        if g.tuneproof_key:
            console.print(f"tuneproof config key: {g.tuneproof_key}", highlight=False)


@args_app.command("lint")
def args_lint(
    config: Annotated[
        Path,
        typer.Argument(help="RunConfig YAML, a TrainingArguments YAML/JSON, or a .py snippet"),
    ],
    strategy: Annotated[
        str | None,
        typer.Option(help="full, freeze, lora or qlora [default: from the config, else full]"),
    ] = None,
    train_rows: Annotated[
        int | None, typer.Option(help="training rows, to check step counts and warmup")
    ] = None,
    gpus: Annotated[int, typer.Option(help="GPUs, for the effective batch size")] = 1,
    fail_on: Annotated[
        str, typer.Option(help="exit 1 when a finding reaches: error, warning, info or never")
    ] = "error",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Flag risky or outdated training settings, each with severity and fix.

    Works on a tuneproof config and on a plain TrainingArguments mapping pasted from a tutorial;
    reports every problem at once (removed transformers-5 names included).
    Example: `tuneproof args lint my-run.yaml --fail-on warning`
    """
    from tuneproof.plan.args import SEVERITIES, LintContext, lint_file

    if fail_on not in (*SEVERITIES, "never"):
        raise UserError(f"--fail-on: '{fail_on}' is not one of error, warning, info, never")
    if gpus <= 0:
        raise UserError(f"--gpus: must be at least 1 (got {gpus})")
    report = lint_file(
        config, strategy=strategy, context=LintContext(train_rows=train_rows, gpus=gpus)
    )
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    elif report.findings:
        colors = {"error": "red", "warning": "yellow", "info": "cyan"}
        summary = ", ".join(f"{report.count(s)} {s}" for s in reversed(SEVERITIES))
        style = "tuneproof config" if report.style == "runconfig" else "TrainingArguments"
        console.print(f"[bold]{config}[/] ({style}): {summary}", highlight=False)
        for f in report.findings:
            console.print(
                f"[{colors[f.severity]}]{f.severity:<8}[/] [bold]{f.key}[/]", highlight=False
            )
            console.print(f"         {f.message}", highlight=False, markup=False, soft_wrap=True)
            console.print(f"         fix: {f.fix}", highlight=False, markup=False, soft_wrap=True)
    else:
        console.print(f"{config}: no findings")
    if report.fails(fail_on):
        raise typer.Exit(1)


@args_app.command("snippet")
def args_snippet(
    config: Annotated[
        Path,
        typer.Argument(help="RunConfig YAML, a TrainingArguments YAML/JSON, or a .py snippet"),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="print {style, python, yaml}: also the tuneproof YAML")
    ] = False,
) -> None:
    """Print the equivalent `TrainingArguments(...)` Python (and `LoraConfig`, if any).

    For a tuneproof config it is exactly what `tuneproof train` passes; a tutorial-style file
    (YAML, JSON or a Python `TrainingArguments(...)` call, parsed, never run) is migrated to
    transformers-5 names. --json adds the config as tuneproof YAML.
    Example: `tuneproof args snippet examples/polarity-lora.yaml`
    """
    from tuneproof.plan.args import read_source, snippet, snippet_text

    if as_json:
        read_source(config)  # the file checks (exists, UTF-8) and the text's own
        fmt = {".json": "json", ".py": "python"}.get(config.suffix, "yaml")
        text = config.read_text(encoding="utf-8")
        print(json.dumps(snippet_text(text, str(config), fmt).to_dict(), indent=2))
        return
    print(snippet(config), end="")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command()(lora)
    app.command()(plan)
    app.add_typer(args_app, name="args")
