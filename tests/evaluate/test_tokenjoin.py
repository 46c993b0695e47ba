"""Accuracy by the model's own tokenization (fertility, UNK rate, truncation) and the language
token premium, from prediction rows."""

from __future__ import annotations

import random

import pandas as pd
import pytest
from scipy.stats import binomtest

from tuneproof.evaluate.tokenjoin import token_join
from tuneproof.rundir import PredictionRow


def rows(seed: int = 0) -> list[PredictionRow]:
    """en cheap and accurate, de costly (×1.6) and weak, fr costly (×1.3) and fine."""
    rng = random.Random(seed)
    spec = {"en": (1.25, 0.9, 0.0), "fr": (1.6, 0.85, 0.02), "de": (2.0, 0.6, 0.08)}
    out = []
    for lang, (fert, acc, unk) in spec.items():
        for i in range(60):
            n = rng.randint(10, 40)
            ok = rng.random() < acc
            out.append(PredictionRow(
                id=f"{lang}{i}", source=lang, text="x", gold="pos", pred="pos" if ok else "neg",
                slices={"language": lang, "truncated": "yes" if n > 35 else "no"},
                token_stats={"n": n, "unk": round(unk * n), "fertility": fert + rng.uniform(-.05, .05)},
            ))  # fmt: skip
    return out


def test_accuracy_by_bin_matches_a_direct_groupby_with_wilson_intervals():
    data = rows()
    tj = token_join(data)
    assert tj is not None and tj.n == len(data)
    df = pd.DataFrame({
        "fert": [r.token_stats.fertility for r in data],
        "trunc": [r.slices["truncated"] for r in data],
        "ok": [r.correct for r in data],
    })  # fmt: skip
    expected = {
        "1.2–1.5": df[(df.fert >= 1.2) & (df.fert < 1.5)],
        "1.5–2.0": df[(df.fert >= 1.5) & (df.fert < 2.0)],
        "2.0–3.0": df[(df.fert >= 2.0) & (df.fert < 3.0)],
    }
    got = {b.key: b for b in tj.fertility}
    for key, part in expected.items():
        if len(part):
            b = got[key]
            assert (b.n, b.accuracy) == (len(part), pytest.approx(part.ok.mean()))
            ref = binomtest(int(part.ok.sum()), len(part)).proportion_ci(method="wilson")
            assert b.ci == pytest.approx((ref.low, ref.high))
    assert sum(b.n for b in tj.fertility) == len(data)
    trunc = {b.key: b.n for b in tj.truncated}
    assert trunc == df.trunc.value_counts().to_dict()
    assert [b.key for b in tj.unk] == ["none", "1%–5%", "5%+"]  # en 0, fr 2 %, de 8 %


def test_the_costliest_language_and_whether_it_is_also_the_weakest():
    tj = token_join(rows())
    assert tj is not None and tj.reference == "en"
    prem = {c.language: c.premium for c in tj.languages}
    assert prem["en"] == pytest.approx(1.0)
    assert prem["de"] == pytest.approx(2.0 / 1.25, rel=0.05)
    assert tj.costliest == "de" and tj.weakest == "de" and tj.costliest_is_weakest
    assert tj.sentence is not None and tj.sentence.startswith("de pays the largest token premium")
    swapped = [
        r.model_copy(update={"pred": "pos"}) if r.slices["language"] == "de" else r for r in rows()
    ]
    tj2 = token_join(swapped)
    assert tj2 is not None and tj2.costliest == "de" and not tj2.costliest_is_weakest
    assert "but is not the weakest" in (tj2.sentence or "")


def test_no_token_stats_no_table():
    assert token_join([PredictionRow(id="1", gold="a", pred="a")]) is None
