"""Datasets with planted problems (and a clean one), written by the tests themselves.

Sentences are ~20 random words from a small English movie-review vocabulary: 3 sentiment words
decide the label, the rest are topic and function words. Unrelated sentences therefore share a
topic and many words, which is exactly what near-duplicate detection must not confuse with
copies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from types import SimpleNamespace

import pandas as pd
import pytest

FUNCTION = [
    "the",
    "a",
    "an",
    "and",
    "of",
    "to",
    "in",
    "is",
    "it",
    "that",
    "this",
    "was",
    "for",
    "with",
    "as",
    "on",
    "but",
    "at",
    "by",
    "from",
    "be",
    "are",
    "or",
    "its",
    "his",
    "her",
    "their",
    "all",
    "so",
    "more",
    "than",
    "very",
    "just",
    "about",
    "into",
    "over",
    "what",
    "who",
]
TOPIC = [
    "film",
    "movie",
    "story",
    "plot",
    "actor",
    "actress",
    "director",
    "scene",
    "script",
    "camera",
    "music",
    "score",
    "screen",
    "character",
    "characters",
    "drama",
    "comedy",
    "thriller",
    "ending",
    "beginning",
    "audience",
    "performance",
    "role",
    "cast",
    "dialogue",
    "sequel",
    "premise",
    "setting",
    "visuals",
    "editing",
    "pacing",
    "soundtrack",
    "cinema",
    "theatre",
    "studio",
    "festival",
    "critic",
    "review",
    "hero",
    "villain",
    "romance",
    "adventure",
    "mystery",
    "horror",
    "fantasy",
    "animation",
    "documentary",
    "runtime",
    "moment",
    "moments",
    "tension",
    "humour",
    "humor",
    "emotion",
    "tone",
    "style",
    "narrative",
    "twist",
    "chapter",
    "episode",
    "season",
    "series",
    "writer",
    "writers",
    "producer",
    "budget",
    "effects",
    "costume",
    "costumes",
    "lighting",
    "frame",
    "shot",
    "shots",
    "sequence",
    "sequences",
    "finale",
    "opening",
    "city",
    "village",
    "family",
    "friends",
    "brother",
    "sister",
    "mother",
    "father",
    "journey",
    "war",
    "love",
    "life",
    "world",
    "night",
    "summer",
    "winter",
    "house",
    "road",
    "river",
    "island",
    "school",
    "office",
    "kitchen",
    "garden",
    "letter",
    "secret",
    "dream",
]
POSITIVE = [
    "brilliant",
    "wonderful",
    "superb",
    "charming",
    "delightful",
    "gripping",
    "moving",
    "stunning",
    "clever",
    "witty",
    "beautiful",
    "touching",
    "masterful",
    "engaging",
    "fresh",
    "heartfelt",
    "luminous",
    "vivid",
    "joyful",
    "elegant",
]
NEGATIVE = [
    "dull",
    "boring",
    "tedious",
    "clumsy",
    "awful",
    "dreadful",
    "bland",
    "lifeless",
    "sloppy",
    "messy",
    "tiresome",
    "shallow",
    "flat",
    "clichéd",
    "predictable",
    "weak",
    "painful",
    "forgettable",
    "hollow",
    "dismal",
]


def sentence(rng: random.Random, label: str, n_words: int = 20) -> str:
    """``n_words`` words: 3 of the label's sentiment words, the rest topic/function words."""
    sentiment = POSITIVE if label == "pos" else NEGATIVE
    words = [rng.choice(FUNCTION if rng.random() < 0.4 else TOPIC) for _ in range(n_words - 3)]
    words += rng.sample(sentiment, 3)
    rng.shuffle(words)
    return " ".join(words)


def edit(text: str, k: int, rng: random.Random) -> str:
    """Replace or delete ``k`` distinct words (a near-duplicate copy)."""
    words = text.split()
    for pos in sorted(rng.sample(range(len(words)), k), reverse=True):
        if rng.random() < 0.5:
            del words[pos]
        else:
            words[pos] = rng.choice([w for w in TOPIC if w != words[pos]])
    return " ".join(words)


def base_rows(n: int, rng: random.Random, prefix: str) -> list[dict[str, str]]:
    rows = []
    for i in range(n):
        label = "pos" if i % 2 == 0 else "neg"
        rows.append({"id": f"{prefix}{i}", "text": sentence(rng, label), "label": label})
    return rows


def frames(rows: dict[str, list[dict[str, str]]]) -> dict[str, pd.DataFrame]:
    return {split: pd.DataFrame(r) for split, r in rows.items()}


@dataclass
class Planted:
    """Planted problems, by row id."""

    splits: dict[str, pd.DataFrame]
    exact: list[set[str]] = field(default_factory=list)  # train groups
    near: list[set[str]] = field(default_factory=list)  # train groups (originals + edited copies)
    leaks: dict[str, str] = field(default_factory=dict)  # test id -> train id
    conflicts: list[set[str]] = field(default_factory=list)  # train ids with one text


def planted_dataset(seed: int = 0) -> Planted:
    rng = random.Random(seed)
    train = base_rows(240, rng, "tr")
    test = base_rows(60, rng, "te")
    validation = base_rows(60, rng, "va")
    plant = Planted(splits={})
    originals = list(train)  # sources by position, before copies are inserted
    extra = 0

    def add(split: list[dict[str, str]], text: str, label: str, prefix: str) -> str:
        nonlocal extra
        extra += 1
        row_id = f"{prefix}x{extra}"
        split.insert(rng.randrange(len(split) + 1), {"id": row_id, "text": text, "label": label})
        return row_id

    variants = [
        lambda t: t.upper(),
        lambda t: "  " + t.replace(" ", "   ", 3) + " \t",
        lambda t: t.title().replace(" ", "\u3000", 1),  # ideographic space: NFKC -> space
        lambda t: (
            "".join(chr(ord(c) + 0xFEE0) if c.isalpha() and c.isascii() else c for c in t[:9])
            + t[9:]
        ),  # fullwidth letters: NFKC -> ASCII
    ]
    for g in range(4):  # exact duplicates: 2-3 copies with case/space/width variants
        src = originals[g]
        group = {src["id"]}
        for v in variants[g : g + 1 + g % 2]:
            group.add(add(train, v(src["text"]), src["label"], "tr"))
        plant.exact.append(group)
    for g, k in enumerate((1, 1, 2, 2, 3, 3)):  # near duplicates: 1-3 words changed
        src = originals[10 + g]
        copy = add(train, edit(src["text"], k, rng), src["label"], "tr")
        plant.near.append({src["id"], copy})
    src = originals[30]  # label conflict: an exact copy with the other label
    other = "neg" if src["label"] == "pos" else "pos"
    plant.conflicts.append({src["id"], add(train, src["text"].lower(), other, "tr")})
    for k, edits in enumerate((0, 0, 1, 2)):  # train -> test leaks, exact and near
        src = originals[40 + k]
        text = variants[k % 2](src["text"]) if edits == 0 else edit(src["text"], edits, rng)
        plant.leaks[add(test, text, src["label"], "te")] = src["id"]
    plant.splits = frames({"train": train, "validation": validation, "test": test})
    return plant


def clean_dataset(seed: int = 1) -> dict[str, pd.DataFrame]:
    rng = random.Random(seed)
    return frames(
        {
            "train": base_rows(240, rng, "tr"),
            "validation": base_rows(60, rng, "va"),
            "test": base_rows(60, rng, "te"),
        }
    )


def flipped_dataset(
    n: int = 300, flips: int = 12, seed: int = 2
) -> tuple[pd.DataFrame, dict[str, str]]:
    """A learnable dataset with ``flips`` labels changed; returns the frame and id -> true label."""
    rng = random.Random(seed)
    rows = base_rows(n, rng, "r")
    truth = {}
    for row in rng.sample(rows, flips):
        truth[row["id"]] = row["label"]
        row["label"] = "neg" if row["label"] == "pos" else "pos"
    return pd.DataFrame(rows), truth


@pytest.fixture(scope="module")
def planted() -> Planted:
    return planted_dataset()


@pytest.fixture
def gen() -> SimpleNamespace:
    """The generators, for tests that build their own variations (conftest is not importable)."""
    return SimpleNamespace(
        sentence=sentence,
        edit=edit,
        base_rows=base_rows,
        planted_dataset=planted_dataset,
        clean_dataset=clean_dataset,
        flipped_dataset=flipped_dataset,
    )
