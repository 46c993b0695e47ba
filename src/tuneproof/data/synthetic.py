"""Tiny, clearly synthetic datasets for every task: the examples' data and the tests' fixtures.

Each generator is seeded and learnable (the answer is determined by the text), so a few dozen
training steps show the loss going down. Nothing here is real language data; ``examples/data``
holds the output of ``python -m tuneproof.data.synthetic examples/data``.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

from tuneproof.io import atomic_path

PEOPLE = [("Ada", "Lovelace"), ("Alan", "Turing"), ("Grace", "Hopper"), ("Edsger", "Dijkstra")]
PEOPLE += [("Barbara", "Liskov"), ("Donald", "Knuth"), ("Frances", "Allen"), ("John", "Backus")]
ORGS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Wonka", "Stark"]
CITIES = ["Springfield", "Shelbyville", "Ogdenville", "Brockway", "Gotham", "Metropolis"]
COLORS = ["red", "blue", "green", "yellow", "black", "white"]
ROOMS = ["kitchen", "garden", "attic", "cellar", "garage", "library"]
ANIMALS = ["cat", "dog", "fox", "owl", "goat", "horse"]
FOODS = ["apples", "carrots", "bread", "cheese", "grapes", "rice"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
WEATHER = ["sunny", "rainy", "windy", "foggy", "cold", "warm"]
WORDS = ["river", "stone", "cloud", "lamp", "chair", "bridge", "road", "tree", "bell", "coin"]
WORDS += ["door", "ship", "cup", "hill", "book", "song", "clock", "wheel", "rope", "map"]


def ner_rows(n: int, seed: int, prefix: str = "ner") -> list[dict[str, Any]]:
    """``{id, tokens, tags}`` with BIO tags: "<First> <Last> works for <Org> in <City> ."."""
    rng = random.Random(seed)
    templates = [
        ("{p} works for {o} in {c} .", None),
        ("Yesterday {p} visited {c} .", None),
        ("{o} hired {p} last year .", None),
        ("The office of {o} is in {c} .", None),
    ]
    rows = []
    for i in range(n):
        template, _ = rng.choice(templates)
        first, last = rng.choice(PEOPLE)
        tokens: list[str] = []
        tags: list[str] = []
        for word in template.split():
            if word.startswith("{p}"):
                tokens += [first, last]
                tags += ["B-PER", "I-PER"]
            elif word.startswith("{o}"):
                tokens.append(rng.choice(ORGS))
                tags.append("B-ORG")
            elif word.startswith("{c}"):
                tokens.append(rng.choice(CITIES))
                tags.append("B-LOC")
            else:
                tokens.append(word)
                tags.append("O")
        rows.append({"id": f"{prefix}{i}", "tokens": tokens, "tags": tags})
    return rows


def qa_rows(n: int, seed: int, prefix: str = "qa", filler: int = 0) -> list[dict[str, Any]]:
    """SQuAD-format rows: where each coloured box is; ``filler`` pads the context with extra
    sentences so that long contexts need several windows."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        colors = rng.sample(COLORS, 3)
        rooms = rng.sample(ROOMS, 3)
        facts = [f"The {c} box is in the {r}." for c, r in zip(colors, rooms, strict=True)]
        extra = [
            f"The {rng.choice(ANIMALS)} sleeps in the {rng.choice(ROOMS)}." for _ in range(filler)
        ]
        sentences = facts + extra
        rng.shuffle(sentences)
        context = " ".join(sentences)
        k = rng.randrange(3)
        answer = rooms[k]
        fact = facts[k]
        start = context.index(fact) + fact.index(answer)
        rows.append(
            {
                "id": f"{prefix}{i}",
                "question": f"Where is the {colors[k]} box?",
                "context": context,
                "answers": {"text": [answer], "answer_start": [start]},
            }
        )
    return rows


def summarization_rows(n: int, seed: int, prefix: str = "sum") -> list[dict[str, Any]]:
    """``{id, input, output}``: a four-sentence farm report and its one-sentence summary."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        animal, food, day, weather = (
            rng.choice(ANIMALS),
            rng.choice(FOODS),
            rng.choice(DAYS),
            rng.choice(WEATHER),
        )
        count = rng.randint(2, 9)
        report = (
            f"Farm report for {day}. The weather was {weather} all day. "
            f"The {animal} ate {count} portions of {food}. Nothing else happened."
        )
        rows.append(
            {"id": f"{prefix}{i}", "input": report, "output": f"On {day} the {animal} ate {food}."}
        )
    return rows


def similarity_rows(n: int, seed: int, prefix: str = "sts") -> list[dict[str, Any]]:
    """``{id, sentence1, sentence2, score}``: six nouns, then k of them replaced; the score is
    the share kept on a 0-5 scale (5: same words, 0: none in common)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        words = rng.sample(WORDS, 6)
        k = rng.randint(0, 6)
        others = [w for w in WORDS if w not in words]
        changed = list(words)
        for j in rng.sample(range(6), k):
            changed[j] = others.pop(rng.randrange(len(others)))
        rows.append(
            {
                "id": f"{prefix}{i}",
                "sentence1": "the " + " and the ".join(words),
                "sentence2": "the " + " and the ".join(changed),
                "score": round(5 * (6 - k) / 6, 3),
            }
        )
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def _qa_long(n: int, seed: int, prefix: str = "qa") -> list[dict[str, Any]]:
    return qa_rows(n, seed, prefix, filler=6)  # ~80 tokens: several windows at max_length 64


GENERATORS = {
    "ner": ner_rows,
    "qa": _qa_long,
    "summarization": summarization_rows,
    "similarity": similarity_rows,
}
SIZES = {"train": (48, 1), "validation": (16, 2), "test": (16, 3)}  # rows, seed


def write_examples(folder: str | Path) -> list[Path]:
    """``<folder>/<task>/{train,validation,test}.jsonl`` for every generator."""
    folder = Path(folder)
    written = []
    for task, make in GENERATORS.items():
        for split, (n, seed) in SIZES.items():
            rows = make(n, seed, prefix=f"{split[:2]}")
            written.append(write_jsonl(folder / task / f"{split}.jsonl", rows))
    return written


if __name__ == "__main__":  # python -m tuneproof.data.synthetic examples/data
    for p in write_examples(sys.argv[1] if len(sys.argv) > 1 else "examples/data"):
        print(p)
