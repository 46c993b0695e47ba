"""All checks by name, in the order they run and are reported (a plain dict: add a module, add
it here)."""

from __future__ import annotations

from tuneproof.checks import (
    class_imbalance,
    empty_text,
    encoding_noise,
    exact_duplicate,
    label_conflict,
    label_issue,
    language_mix,
    leakage,
    length_outlier,
    near_duplicate,
    script_mix,
)
from tuneproof.checks.base import Check

CHECKS: dict[str, Check] = {
    c.name: c
    for c in (
        leakage.CHECK,
        exact_duplicate.CHECK,
        near_duplicate.CHECK,
        label_conflict.CHECK,
        label_issue.CHECK,
        class_imbalance.CHECK,
        empty_text.CHECK,
        length_outlier.CHECK,
        language_mix.CHECK,
        script_mix.CHECK,
        encoding_noise.CHECK,
    )
}
