"""BLEU, chrF and TER of generation tasks equal sacrebleu's corpus scores, overall, per slice and
per bootstrap resample (corpus scores recomputed on the resampled documents, not averaged)."""

from __future__ import annotations

import numpy as np
import pytest
import sacrebleu

from tuneproof.evaluate.metrics import duplicate_groups, index_chunks, rows_rng, summarize_rows
from tuneproof.tasks import get_task
from tuneproof.text.generation import corpus_resampler, corpus_scores

REFS = [
    "The council approved the new budget on Tuesday.",
    "Heavy rain flooded the main road near the station.",
    "The team won the final after extra time.",
    "Prices rose by three percent in March.",
    "The museum will reopen next spring after repairs.",
    "A new bridge links the two halves of the town.",
    "Le conseil a approuvé le budget mardi.",
    "La pluie a inondé la route principale.",
    "L'équipe a gagné la finale.",
    "Les prix ont augmenté de trois pour cent.",
]
HYPS = [
    "The council approved a budget on Tuesday.",
    "Rain flooded the road near the station.",
    "The team won the final.",
    "Prices went up three percent in March.",
    "The museum reopens in spring.",
    "A bridge now links the town.",
    "Le conseil a voté le budget.",
    "La pluie a inondé la route.",
    "L'équipe a perdu la finale.",
    "Les prix ont augmenté.",
]


def _rows(n_copies: int = 1) -> list[dict]:
    rows = []
    for i, (g, p) in enumerate(zip(REFS, HYPS, strict=True)):
        lang = "fr" if i >= 6 else "en"
        for c in range(n_copies if i % 3 == 0 else 1):  # some inputs held more than once
            rows.append(
                {
                    "id": f"r{i}-{c}",
                    "text": f"input {i}",
                    "gold": g,
                    "pred": p,
                    "slices": {"language": lang},
                }
            )
    return rows


def _sacre(golds: list[str], preds: list[str]) -> dict[str, float]:
    return {
        "bleu": sacrebleu.corpus_bleu(preds, [golds]).score,
        "chrf": sacrebleu.corpus_chrf(preds, [golds]).score,
        "ter": sacrebleu.corpus_ter(preds, [golds]).score,
    }


def test_corpus_scores_equal_sacrebleu_corpus_functions():
    got = corpus_scores(REFS, HYPS)
    want = _sacre(REFS, HYPS)
    assert got == pytest.approx(want, abs=1e-9)
    # corpus BLEU is not the mean of sentence BLEU: the fixture tells them apart
    mean_sentence = np.mean(
        [sacrebleu.sentence_bleu(h, [r]).score for h, r in zip(HYPS, REFS, strict=True)]
    )
    assert abs(got["bleu"] - mean_sentence) > 0.5
    assert 0 < got["bleu"] < 100 and 0 < got["chrf"] < 100 and got["ter"] > 0


def test_resampler_recomputes_the_corpus_score_on_the_drawn_documents():
    rows = _rows()
    vec = corpus_resampler(rows)
    idx = np.array([[0, 0, 3, 5, 9, 9, 9, 2, 7, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]])
    out = vec(idx)
    for b, draw in enumerate(idx):
        want = _sacre([REFS[i] for i in draw], [HYPS[i] for i in draw])
        for name in ("bleu", "chrf", "ter"):
            assert out[name][b] == pytest.approx(want[name], abs=1e-9), name


def test_summarize_gives_generation_metrics_per_slice_with_bootstrap_intervals():
    rows = _rows(n_copies=3)  # copies: the cluster bootstrap draws resamples of varied lengths
    task = get_task("summarization")
    s = summarize_rows(rows, task.metrics_from_rows, "rougeL", seed=5, n_resamples=60)
    for name in ("bleu", "chrf", "ter"):
        assert s.kinds[name] == "vectorised"
    assert s.kinds["rougeL"] == "mean"
    golds, preds = [r["gold"] for r in rows], [r["pred"] for r in rows]
    assert s.overall.metrics["bleu"] == pytest.approx(_sacre(golds, preds)["bleu"])
    groups = duplicate_groups(rows)
    for key, block in s.slices.items():
        lang = key.split("=")[1]
        pos = np.array([i for i, r in enumerate(rows) if r["slices"]["language"] == lang])
        want = _sacre([golds[i] for i in pos], [preds[i] for i in pos])
        for name in ("bleu", "chrf", "ter"):
            assert block.metrics[name] == pytest.approx(want[name]), (key, name)
        # the interval is the percentile interval of sacrebleu's corpus score on each resample
        boot = {n: [] for n in ("bleu", "chrf", "ter")}
        for idx in index_chunks(pos, 60, rows_rng(5, pos), groups):
            for draw in idx:
                sc = _sacre([golds[i] for i in draw], [preds[i] for i in draw])
                for n in boot:
                    boot[n].append(sc[n])
        for name in ("bleu", "chrf", "ter"):
            lo, hi = np.percentile(boot[name], [2.5, 97.5])
            assert block.ci[name] == pytest.approx((lo, hi)), (key, name)
    assert s.slices["language=en"].metrics["bleu"] != s.slices["language=fr"].metrics["bleu"]
