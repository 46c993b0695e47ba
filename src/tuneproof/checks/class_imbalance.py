"""``class_imbalance``: label counts per split, and labels that differ between splits.

A rare class is where a model fails silently (accuracy stays high), a label seen only in
evaluation can never be predicted, and a train/test label shift makes test scores say little
about training. Missing labels are reported here too.
"""

from __future__ import annotations

from collections import Counter

from tuneproof.checks.base import Check, CheckContext, Finding, Severity

NAME = "class_imbalance"


def _counts_text(counts: Counter[str], limit: int = 8) -> str:
    shown = ", ".join(f"'{k}' {v:,}" for k, v in counts.most_common(limit))
    return shown + (f", … ({len(counts) - limit} more)" if len(counts) > limit else "")


def run(ctx: CheckContext) -> list[Finding]:
    opts = ctx.options
    findings: list[Finding] = []
    counts: dict[str, Counter[str]] = {}
    for split in ctx.splits:
        labels = ctx.labels(split)
        if labels is None:
            continue
        missing = [i for i, lab in enumerate(labels) if lab is None]
        if missing:
            findings.append(
                Finding(NAME, "warning", split, ctx.ids_of(split, missing), (),
                        len(missing) / len(labels), f"{len(missing)} rows have no label")
            )  # fmt: skip
        counts[split] = Counter(lab for lab in labels if lab is not None)
    for split, cnt in counts.items():
        if len(cnt) < 2:
            if cnt and split == "train":
                only = f"only one label in train: {_counts_text(cnt)}"
                findings.append(Finding(NAME, "warning", split, (), (), 1.0, only))
            continue
        (_, most), (_, least) = cnt.most_common(1)[0], cnt.most_common()[-1]
        ratio = least / most
        severity: Severity | None = None
        if ratio < opts.imbalance_warning:
            severity = "warning"
        elif ratio < opts.imbalance_info:
            severity = "info"
        if severity is not None:
            findings.append(
                Finding(NAME, severity, split, (), (), 1 - ratio,
                        f"smallest/largest class = {ratio:.3f}: {_counts_text(cnt)}")
            )  # fmt: skip
    train = counts.get("train")
    if train:
        total = sum(train.values())
        for split, cnt in counts.items():
            if split == "train" or not cnt:
                continue
            unseen = sorted(set(cnt) - set(train))
            if unseen:
                labels = ctx.labels(split) or []
                rows = [i for i, lab in enumerate(labels) if lab in set(unseen)]
                findings.append(
                    Finding(NAME, "warning", split, ctx.ids_of(split, rows), (),
                            len(rows) / len(labels),
                            f"labels not in train: {', '.join(repr(u) for u in unseen[:10])} "
                            f"({len(rows)} rows); the model can never predict them")
                )  # fmt: skip
            n = sum(cnt.values())
            tv = 0.5 * sum(abs(cnt[k] / n - train[k] / total) for k in set(cnt) | set(train))
            if tv > opts.label_shift:
                findings.append(
                    Finding(NAME, "warning", split, (), (), tv,
                            f"label shares differ from train by {tv:.2f} (total variation): "
                            f"{split} {_counts_text(cnt)} vs train {_counts_text(train)}")
                )  # fmt: skip
    return findings


CHECK = Check(
    name=NAME,
    description="label counts per split (smallest/largest class), labels unseen in train, "
    "label shift between splits, missing labels",
    severity="warning",
    run=run,
    needs_labels=True,
)
