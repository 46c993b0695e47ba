"""Failure categories and confusion matrices, from prediction rows alone."""

from __future__ import annotations

from tuneproof.evaluate.failures import analyse_failures
from tuneproof.evaluate.metrics import slice_positions


def row(i, gold, pred, p, *, truncated="no", unk=0, n=10, fertility=1.2, lang="en"):
    other = 1 - p
    probs = {"pos": p if pred == "pos" else other, "neg": p if pred == "neg" else other}
    return {
        "id": str(i),
        "text": f"text {i}",
        "gold": gold,
        "pred": pred,
        "score": p,
        "probabilities": probs,
        "slices": {"language": lang, "truncated": truncated},
        "token_stats": {"n": n, "unk": unk, "fertility": fertility, "per_char": False},
    }


def test_categories_count_rows_errors_and_rates():
    rows = [
        row(0, "pos", "neg", 0.97),  # confident wrong
        row(1, "pos", "pos", 0.95),  # confident right
        row(2, "neg", "pos", 0.52),  # near boundary, wrong
        row(3, "neg", "neg", 0.54),  # near boundary, right
        row(4, "neg", "pos", 0.7, truncated="yes"),  # truncated wrong
        row(5, "pos", "neg", 0.7, unk=3, n=10),  # high UNK (30 %)
        row(6, "pos", "neg", 0.7, fertility=3.1, lang="fr"),  # high fertility
        row(7, "pos", "pos", 0.8, lang="fr"),
    ]
    report = analyse_failures(rows, slice_positions(rows))
    assert report.n_rows == 8 and report.n_errors == 5
    cats = {c.name: c for c in report.categories}
    cw = cats["confident_wrong"]
    assert (cw.rows, cw.errors, cw.error_rate) == (2, 1, 0.5)
    assert cw.share_of_errors == 1 / 5
    assert [e["id"] for e in cw.examples] == ["0"]
    nb = cats["near_boundary"]
    assert (nb.rows, nb.errors) == (2, 1)
    tr = cats["truncated"]
    assert (tr.rows, tr.errors) == (1, 1)
    assert tr.error_rate_without == 4 / 7
    assert (cats["high_unk"].rows, cats["high_unk"].errors) == (1, 1)
    assert (cats["high_fertility"].rows, cats["high_fertility"].errors) == (1, 1)


def test_confusion_matrices_per_slice_in_model_label_order():
    rows = [
        row(0, "pos", "neg", 0.9),
        row(1, "neg", "neg", 0.9),
        row(2, "pos", "pos", 0.9, lang="fr"),
    ]
    report = analyse_failures(rows, slice_positions(rows))
    overall = report.confusion["overall"]
    assert overall.labels == ["pos", "neg"]  # the order of the probabilities
    assert overall.matrix == [[1, 1], [0, 1]]
    fr = report.confusion["language=fr"]
    assert fr.matrix == [[1, 0], [0, 0]]
    en = report.confusion["language=en"]
    assert sum(map(sum, en.matrix)) == 2


def test_numeric_gold_has_no_wrong_rows():
    rows = [{"id": "0", "gold": 0.4, "pred": 0.5}, {"id": "1", "gold": 1.0, "pred": 0.9}]
    report = analyse_failures(rows)
    assert report.categories == [] and report.confusion == {}
    assert "no right or wrong" in report.note


def test_free_text_is_not_scored_as_labels_but_a_correctness_vector_is_used():
    rows = [{"id": str(i), "gold": f"summary {i}", "pred": f"other {i}"} for i in range(4)]
    assert analyse_failures(rows, labelled=False).categories == []
    qa = [dict(r, score=0.95) for r in rows]
    report = analyse_failures(qa, correct=[1, 0, 1, 1], labelled=False)
    assert report.n_errors == 1 and report.confusion == {}
    cw = next(c for c in report.categories if c.name == "confident_wrong")
    assert (cw.rows, cw.errors) == (4, 1)
