"""exact_duplicate, near_duplicate, leakage and label_conflict on planted data, and the MinHash
machinery against datasketch itself."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH

from tuneproof.checks import CheckOptions, Finding, check_data
from tuneproof.checks._minhash import (
    jaccard,
    lsh_candidates,
    near_groups,
    signatures,
    word_shingles,
)
from tuneproof.checks.base import normalise

Planted = Any  # conftest.Planted: splits, exact, near, leaks, conflicts (row ids)

DUPLICATE_CHECKS = ("exact_duplicate", "near_duplicate", "leakage", "label_conflict")


def run(planted: Planted, **options: object) -> list[Finding]:
    opts = CheckOptions(only=DUPLICATE_CHECKS, **options)  # type: ignore[arg-type]
    report = check_data(
        planted.splits, text_column="text", label_column="label", id_column="id", options=opts
    )
    return list(report.findings)


def of(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def test_normalise_folds_case_width_and_whitespace() -> None:
    assert normalise("  Ｆｉｎｅ\u3000FILM \t\n") == normalise("fine film") == "fine film"
    assert normalise("Straße") == normalise("STRASSE")  # casefold, not lower
    assert normalise("fine film!") != normalise("fine film")  # punctuation is kept


def test_every_exact_group_is_one_finding_listing_all_rows(planted: Planted) -> None:
    found = [set(f.rows) for f in of(run(planted), "exact_duplicate")]
    for group in planted.exact:
        assert group in found
    # the label-conflict copy is an exact duplicate too; nothing else is
    assert len(found) == len(planted.exact) + len(planted.conflicts)


def test_every_near_group_is_found_and_unrelated_rows_are_not(planted: Planted) -> None:
    near = of(run(planted), "near_duplicate")
    found = [set(f.rows) for f in near]
    for group in planted.near:
        assert group in found, f"planted near duplicate {group} not found"
    assert len(found) == len(planted.near)
    assert all(0.5 <= f.score < 1 and f.split == "train" for f in near)


def test_leaks_are_errors_pointing_at_the_train_row(planted: Planted) -> None:
    leaks = of(run(planted), "leakage")
    assert {f.rows[0]: f.related[0].row for f in leaks} == planted.leaks
    assert all(f.severity == "error" and f.split == "test" for f in leaks)
    exact = [f for f in leaks if f.score == 1.0]
    assert len(exact) == 2 and all("exact" in f.detail for f in exact)


def test_validation_test_overlap_is_a_warning(gen: SimpleNamespace) -> None:
    planted = gen.planted_dataset()
    val, test = planted.splits["validation"], planted.splits["test"]
    test.loc[len(test)] = {"id": "te-copy", "text": val.text[0].upper(), "label": val.label[0]}
    leaks = [f for f in of(run(planted), "leakage") if "te-copy" in f.rows]
    assert len(leaks) == 1
    assert leaks[0].severity == "warning"
    assert leaks[0].related[0].split == "validation"


def test_label_conflict_names_both_rows(planted: Planted) -> None:
    conflicts = of(run(planted), "label_conflict")
    assert [set(f.rows) for f in conflicts] == planted.conflicts
    assert "'pos'" in conflicts[0].detail and "'neg'" in conflicts[0].detail


def test_rows_default_to_the_index_in_the_file(planted: Planted) -> None:
    splits = {k: v.drop(columns="id") for k, v in planted.splits.items()}
    report = check_data(
        splits, text_column="text", label_column="label",
        options=CheckOptions(only=("exact_duplicate",)),
    )  # fmt: skip
    train_ids = list(planted.splits["train"].id)
    for f in report.findings:
        assert {train_ids[int(r)] for r in f.rows} in planted.exact + planted.conflicts


def test_default_threshold_separates_one_edit_from_same_topic_sentences(
    gen: SimpleNamespace,
) -> None:
    """The issue's rule: one word deleted or replaced in a 20-word sentence is a near duplicate,
    two different sentences on the same topic (and vocabulary) are not."""
    rng = random.Random(5)
    threshold = CheckOptions().near_threshold
    base = [normalise(gen.sentence(rng, "pos")) for _ in range(300)]
    edited = [normalise(gen.edit(t, 1, rng)) for t in base]
    sh = word_shingles(base + edited)
    n = len(base)
    copies = jaccard(sh, np.stack([np.arange(n), np.arange(n) + n], axis=1))
    others = jaccard(sh, np.array([[i, j] for i in range(60) for j in range(i + 1, 60)]))
    assert copies.min() >= threshold
    assert others.max() < threshold


def test_signatures_equal_datasketch_minhash() -> None:
    texts = ["the cat sat on the mat", "a dog", "", "!!", "café straße café", "x y z w"]
    sh = word_shingles(texts)
    sig = signatures(sh, num_perm=32, seed=7, block=3)
    for i in range(len(texts)):
        m = MinHash(num_perm=32, seed=7, hashfunc=lambda v: v, scheme="affine32")
        m.update_batch([int(v) for v in sh.values[sh.indptr[i] : sh.indptr[i + 1]]])
        assert np.array_equal(m.hashvalues, sig[i])


def test_16_bit_signatures_are_the_low_bits_of_the_32_bit_ones() -> None:
    texts = ["the cat sat on the mat", "", "café straße café", "x y z w"] * 3
    sh = word_shingles(texts)
    full = signatures(sh, num_perm=40, seed=3, block=5)
    low = signatures(sh, num_perm=40, seed=3, block=5, bits=16)
    assert low.dtype == np.uint16
    assert np.array_equal(low, (full & 0xFFFF).astype(np.uint16))


def test_lsh_candidates_equal_datasketch_minhashlsh(gen: SimpleNamespace) -> None:
    rng = random.Random(3)
    base = [gen.sentence(rng, "neg") for _ in range(80)]
    copies = [gen.edit(t, rng.randint(1, 4), rng) for t in base[:40]]
    texts = [normalise(t) for t in base + copies]
    sh = word_shingles(texts)
    sig = signatures(sh, num_perm=24, seed=1)
    ours = lsh_candidates(sig, bands=8, rows=3, usable=sh.sizes() > 0, max_bucket=10**6)
    lsh = MinHashLSH(num_perm=24, params=(8, 3))
    for i in range(len(texts)):
        lsh.insert(i, LeanMinHash(seed=1, hashvalues=sig[i], scheme="affine32"))
    theirs = {
        (min(i, j), max(i, j))
        for i in range(len(texts))
        for j in lsh.query(LeanMinHash(seed=1, hashvalues=sig[i], scheme="affine32"))
        if j != i
    }
    assert {tuple(p) for p in ours.pairs.tolist()} == theirs
    assert len(theirs) >= 40  # the edited copies collide with their originals


def test_jaccard_counts_sets_not_multisets() -> None:
    sh = word_shingles(["a a a b", "a b", "c d"])
    sim = jaccard(sh, np.array([[0, 1], [0, 2]]))
    # {a, b, "a a", "a b"} vs {a, b, "a b"}: 3 / 4
    assert sim.tolist() == pytest.approx([0.75, 0.0])


def test_a_big_cluster_is_linked_through_a_chain(gen: SimpleNamespace) -> None:
    """Hundreds of templated rows share every bucket; they must form one group, at linear cost."""
    rng = random.Random(9)
    template = gen.sentence(rng, "pos", 24)
    rows = [{"id": str(i), "text": gen.edit(template, 1, rng), "label": "pos"} for i in range(300)]

    report = check_data(
        {"train": pd.DataFrame(rows)}, text_column="text", label_column="label", id_column="id",
        options=CheckOptions(only=("near_duplicate", "exact_duplicate"), max_bucket=20),
    )  # fmt: skip
    rows_flagged = set().union(*(set(f.rows) for f in report.findings))
    assert len(rows_flagged) == 300
    assert len([f for f in report.findings if f.check == "near_duplicate"]) == 1


def test_near_duplicates_in_a_language_without_spaces() -> None:
    """Chinese has no spaces: characters stand in for words, so one changed character in a
    20-character sentence is found, and a different sentence on the same topic is not."""
    base = "这部电影的剧情非常精彩演员的表演也很自然值得一看"
    rows = [
        {"id": "a", "text": base, "label": "pos"},
        {"id": "b", "text": base.replace("精彩", "出色"), "label": "pos"},
        {"id": "c", "text": "昨天晚上我们在家里看了一部很无聊的老电影", "label": "neg"},
    ]
    report = check_data(
        {"train": pd.DataFrame(rows)}, text_column="text", label_column="label", id_column="id",
        options=CheckOptions(only=("near_duplicate",)),
    )  # fmt: skip
    assert [f.rows for f in report.findings] == [("a", "b")]


def test_near_groups_are_the_connected_components_of_the_pairs() -> None:
    """Chains, a star, a duplicate pair and isolated nodes: the same partition as networkx."""
    import networkx as nx

    rng = np.random.default_rng(4)
    n = 400
    pairs = [(i, i + 1) for i in range(0, 30)]  # one chain of 31 nodes
    pairs += [(50, j) for j in range(51, 70)] + [(51, 50), (51, 50)]  # a star, repeated pair
    pairs += [tuple(rng.choice(np.arange(100, n), size=2, replace=False)) for _ in range(120)]
    arr = np.array(pairs, dtype=np.int64)

    labels = near_groups(n, arr)

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(pairs)
    ours = {frozenset(np.flatnonzero(labels == g).tolist()) for g in np.unique(labels)}
    theirs = {frozenset(c) for c in nx.connected_components(graph)}
    assert ours == theirs
    assert frozenset(range(31)) in ours and frozenset(range(50, 70)) in ours
