#!/usr/bin/env bash
# GPU lane (#17 item 7): on one CUDA GPU, in ≤ 8 minutes,
#   - bf16 full fine-tuning and LoRA of MiniLM: `tuneproof train` against a plain Trainer script
#     (samples/s side by side, same rows, steps, batch and seed),
#   - a QLoRA run of SmolLM2 (4-bit, bitsandbytes),
#   - the planner's memory estimate against torch.cuda.max_memory_allocated for full/LoRA/QLoRA,
# then one table. Usage:  bash benchmarks/gpu_lane.sh [STEPS]   (default 60 steps per run)
# Without CUDA it stops at once with exit 3 and says why (it measures GPUs only).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "gpu_lane: no CUDA GPU visible to torch ($("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo 'torch missing')); this lane measures GPUs only, nothing was run" >&2
  exit 3
fi
exec timeout 480 "$PY" benchmarks/gpu_lane.py --steps "${1:-60}"
