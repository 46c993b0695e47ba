"""Tokenizer throughput in characters per second, batched, on 2 cores (figures, never asserted).

Encodes the shipped parallel corpus (13 languages, 650 texts) repeated to ~1 M characters per
pass, in batches, and reports the best of several passes for each tokenizer, twice: ids only (what
a training pipeline needs) and with token spans (what ``tuneproof tokens`` metrics need). Target:
≥ 1,000,000 characters/s for the fast (Rust) tokenizers: HF ``tokenizers`` and tiktoken.

Run: ``python benchmarks/tokens_throughput.py [--tokenizer NAME ...] [--threads 2]``
"""

from __future__ import annotations

import argparse
import os
import time

TARGET = 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", "-t", action="append", help="default: all built-ins")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chars", type=int, default=1_000_000, help="characters per pass")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    # Must be set before `tokenizers` is imported: its Rust thread pool reads them once.
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)
    os.environ["TOKENIZERS_PARALLELISM"] = "true"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from tuneproof.tokens import BUILTIN_TOKENIZERS, load_tokenizer, parallel_corpus

    base = [t.text for t in parallel_corpus()]
    per_pass = sum(map(len, base))
    texts = base * max(1, args.chars // per_pass)
    n_chars = sum(map(len, texts))
    batches = [texts[i : i + args.batch_size] for i in range(0, len(texts), args.batch_size)]
    print(
        f"{len(texts):,} texts, {n_chars:,} characters per pass, batches of {args.batch_size}, "
        f"{args.threads} threads, best of {args.repeats}"
    )
    print(f"{'tokenizer':<12}{'kind':<36}{'ids chars/s':>14}{'spans chars/s':>15}  target")
    for name in args.tokenizer or list(BUILTIN_TOKENIZERS):
        tok = load_tokenizer(name)
        if hasattr(tok, "num_threads"):  # SentencePiece's own thread pool
            tok.num_threads = args.threads

        def best(fn, tok=tok) -> float:
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                for batch in batches:
                    fn(batch)
                times.append(time.perf_counter() - start)
            return n_chars / min(times)

        ids_rate = best(tok.ids_batch)
        spans_rate = best(tok.encode_batch)
        rust = tok.is_fast and tok.kind.startswith(
            ("WordPiece", "Unigram", "BPE", "byte-level", "tiktoken")
        )
        mark = ("ok" if ids_rate >= TARGET else "BELOW") if rust else "n/a (not Rust)"
        print(f"{name:<12}{tok.kind:<36}{ids_rate:>14,.0f}{spans_rate:>15,.0f}  {mark}")


if __name__ == "__main__":
    main()
