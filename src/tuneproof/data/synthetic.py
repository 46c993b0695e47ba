"""Tiny, clearly synthetic datasets for every task: the examples' data and the tests' fixtures.

Each generator is seeded and learnable (the answer is determined by the text), so a few dozen
training steps show the loss going down. Nothing here is real language data; ``examples/data``
holds the output of ``python -m tuneproof.data.synthetic examples/data``.

The generators draw from a :class:`Vocabulary`: :data:`SMALL` (few words, what the tests' tiny
models are built over) or :data:`WIDE`. Template rows from a small vocabulary nearly always
near-duplicate each other, so the built-in datasets and ``examples/data`` are made by
:func:`distinct_splits`: ``WIDE`` rows, where a validation/test row is kept only if it is no near
duplicate of a row of an earlier split. The data tuneproof ships then passes its own leakage check.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneproof.io import atomic_path


@dataclass(frozen=True)
class Vocabulary:
    """The words and sentence templates the generators fill in."""

    people: tuple[tuple[str, str], ...]
    orgs: tuple[str, ...]
    cities: tuple[str, ...]
    colors: tuple[str, ...]
    rooms: tuple[str, ...]
    animals: tuple[str, ...]
    foods: tuple[str, ...]
    days: tuple[str, ...]
    weather: tuple[str, ...]
    words: tuple[str, ...]
    ner_templates: tuple[str, ...]  # {p} person (two words), {o} organisation, {c} city
    qa_facts: tuple[str, ...]  # {c} colour, {r} room: the answer
    qa_fillers: tuple[str, ...]  # {a} animal, {r} room
    # a report is one line of each, in this order; {d} day, {w} weather, {a} animal,
    # {n} count, {f} food
    report_lines: tuple[tuple[str, ...], ...]
    objects: tuple[str, ...] = ("box",)  # what the QA facts place ({o})


SMALL = Vocabulary(
    people=(("Ada", "Lovelace"), ("Alan", "Turing"), ("Grace", "Hopper"), ("Edsger", "Dijkstra"),
            ("Barbara", "Liskov"), ("Donald", "Knuth"), ("Frances", "Allen"), ("John", "Backus")),
    orgs=("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Wonka", "Stark"),
    cities=("Springfield", "Shelbyville", "Ogdenville", "Brockway", "Gotham", "Metropolis"),
    colors=("red", "blue", "green", "yellow", "black", "white"),
    rooms=("kitchen", "garden", "attic", "cellar", "garage", "library"),
    animals=("cat", "dog", "fox", "owl", "goat", "horse"),
    foods=("apples", "carrots", "bread", "cheese", "grapes", "rice"),
    days=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
    weather=("sunny", "rainy", "windy", "foggy", "cold", "warm"),
    words=("river", "stone", "cloud", "lamp", "chair", "bridge", "road", "tree", "bell", "coin",
           "door", "ship", "cup", "hill", "book", "song", "clock", "wheel", "rope", "map"),
    ner_templates=("{p} works for {o} in {c} .", "Yesterday {p} visited {c} .",
                   "{o} hired {p} last year .", "The office of {o} is in {c} ."),
    qa_facts=("The {c} {o} is in the {r}.",),
    qa_fillers=("The {a} sleeps in the {r}.",),
    report_lines=(("Farm report for {d}.",), ("The weather was {w} all day.",),
                  ("The {a} ate {n} portions of {f}.",), ("Nothing else happened.",)),
)  # fmt: skip

WIDE = Vocabulary(
    people=tuple(
        (f, last)
        for f in ("Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John",
                  "Radia", "Ken", "Margaret", "Dennis", "Shafi", "Niklaus", "Leslie", "Tim")
        for last in ("Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen",
                     "Backus", "Perlman", "Thompson", "Hamilton", "Ritchie", "Goldwasser",
                     "Wirth", "Lamport", "Berners")
    ),
    orgs=("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Wonka", "Stark",
          "Cyberdyne", "Tyrell", "Soylent", "Oscorp", "Wayne", "Gringotts", "Monarch", "Aperture",
          "Massive", "Duff", "Krusty", "Virtucon"),
    cities=("Springfield", "Shelbyville", "Ogdenville", "Brockway", "Gotham", "Metropolis",
            "Rivendell", "Atlantis", "Bedrock", "Emerald", "Hogsmeade", "Smallville", "Zenith",
            "Arkham", "Quahog", "Pawnee", "Sunnydale", "Twinpeaks", "Lilliput", "Eldorado"),
    colors=("red", "blue", "green", "yellow", "black", "white", "purple", "orange", "silver",
            "golden", "pink", "brown"),
    rooms=("kitchen", "garden", "attic", "cellar", "garage", "library", "hallway", "bathroom",
           "bedroom", "pantry", "studio", "office", "porch", "shed", "nursery", "workshop",
           "basement", "balcony", "loft", "conservatory"),
    animals=("cat", "dog", "fox", "owl", "goat", "horse", "sheep", "duck", "pig", "rabbit",
             "donkey", "hen", "cow", "mouse", "badger", "llama"),
    foods=("apples", "carrots", "bread", "cheese", "grapes", "rice", "oats", "barley", "pears",
           "beans", "turnips", "hay", "corn", "plums", "peas", "clover"),
    days=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    weather=("sunny", "rainy", "windy", "foggy", "cold", "warm", "stormy", "humid", "frosty",
             "cloudy", "snowy", "mild"),
    words=(*SMALL.words, "kettle", "window", "garden", "pillow", "candle", "basket", "ladder",
                         "mirror", "anchor", "barrel", "bucket", "carpet", "feather", "hammer",
                         "jacket", "needle", "pepper", "saddle", "tunnel", "violin"),
    ner_templates=(*SMALL.ner_templates,
        "{p} moved from {c} to work at {o} .", "According to {o} , {p} will speak in {c} .",
        "{p} opened a branch of {o} .", "Reporters in {c} met {p} on Friday .",
        "Shares of {o} rose after {p} spoke .", "{p} was born in {c} .",
        "A spokesperson for {o} declined to comment .", "{c} welcomed {p} warmly .",
    ),
    qa_facts=("The {c} {o} is in the {r}.", "Someone left the {c} {o} in the {r}.",
              "You will find the {c} {o} in the {r}.", "In the {r} there is the {c} {o}.",
              "The {c} {o} was moved to the {r}."),
    qa_fillers=("The {a} sleeps in the {r}.", "A {a} was seen near the {r}.",
                "Nobody fed the {a} in the {r}.", "The {a} likes the {r} best.",
                "Every morning the {a} walks to the {r}.", "The old {a} hides in the {r}.",
                "A young {a} chewed a rug in the {r}.", "The {a} and its friend nap by the {r}."),
    report_lines=(
        ("Farm report for {d}.", "Notes from the farm, {d}.", "{d} at the farm, as logged.",
         "Keeper's diary entry for {d}.", "Daily log of the farm on {d}."),
        ("The weather was {w} all day.", "It stayed {w} from dawn to dusk.",
         "Conditions were {w} throughout.", "A {w} day kept everyone indoors.",
         "Skies were {w} over the fields."),
        ("The {a} ate {n} portions of {f}.", "Feeding went well: the {a} had {n} bowls of {f}.",
         "We gave the {a} {n} helpings of {f}.", "The {a} finished {n} servings of {f} quickly.",
         "For lunch the {a} chewed through {n} heaps of {f}."),
        ("Nothing else happened.", "The rest of the day was quiet.", "No other news to report.",
         "The gate was locked at night.", "All tools were put away."),
    ),
    objects=("box", "bag", "key", "ball", "hat", "scarf", "cup", "book"),
)  # fmt: skip

# The small vocabulary's lists, as the tests name them.
PEOPLE, ORGS, CITIES = list(SMALL.people), list(SMALL.orgs), list(SMALL.cities)
COLORS, ROOMS, ANIMALS, FOODS = (
    list(SMALL.colors),
    list(SMALL.rooms),
    list(SMALL.animals),
    list(SMALL.foods),
)
DAYS, WEATHER, WORDS = list(SMALL.days), list(SMALL.weather), list(SMALL.words)


def _pick(rng: random.Random, options: tuple[str, ...]) -> str:
    """``rng.choice``, but a single option draws nothing: ``SMALL`` rows stay as they were."""
    return options[0] if len(options) == 1 else rng.choice(options)


def ner_rows(
    n: int, seed: int, prefix: str = "ner", vocab: Vocabulary = SMALL
) -> list[dict[str, Any]]:
    """``{id, tokens, tags}`` with BIO tags: "<First> <Last> works for <Org> in <City> ."."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        template = rng.choice(vocab.ner_templates)
        first, last = rng.choice(vocab.people)
        tokens: list[str] = []
        tags: list[str] = []
        for word in template.split():
            if word.startswith("{p}"):
                tokens += [first, last]
                tags += ["B-PER", "I-PER"]
            elif word.startswith("{o}"):
                tokens.append(rng.choice(vocab.orgs))
                tags.append("B-ORG")
            elif word.startswith("{c}"):
                tokens.append(rng.choice(vocab.cities))
                tags.append("B-LOC")
            else:
                tokens.append(word)
                tags.append("O")
        rows.append({"id": f"{prefix}{i}", "tokens": tokens, "tags": tags})
    return rows


def qa_rows(
    n: int, seed: int, prefix: str = "qa", filler: int = 0, vocab: Vocabulary = SMALL
) -> list[dict[str, Any]]:
    """SQuAD-format rows: where each coloured box is; ``filler`` pads the context with extra
    sentences so that long contexts need several windows."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        colors = rng.sample(vocab.colors, 3)
        rooms = rng.sample(vocab.rooms, 3)
        obj = _pick(rng, vocab.objects)
        facts = [
            _pick(rng, vocab.qa_facts).format(c=c, o=obj, r=r)
            for c, r in zip(colors, rooms, strict=True)
        ]
        extra = [
            _pick(rng, vocab.qa_fillers).format(
                a=rng.choice(vocab.animals), r=rng.choice(vocab.rooms)
            )
            for _ in range(filler)
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
                "question": f"Where is the {colors[k]} {obj}?",
                "context": context,
                "answers": {"text": [answer], "answer_start": [start]},
            }
        )
    return rows


def summarization_rows(
    n: int, seed: int, prefix: str = "sum", vocab: Vocabulary = SMALL
) -> list[dict[str, Any]]:
    """``{id, input, output}``: a four-sentence farm report and its one-sentence summary."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        animal, food, day, weather = (
            rng.choice(vocab.animals),
            rng.choice(vocab.foods),
            rng.choice(vocab.days),
            rng.choice(vocab.weather),
        )
        count = rng.randint(2, 9)
        lines = [_pick(rng, options) for options in vocab.report_lines]
        report = " ".join(lines).format(d=day, w=weather, a=animal, n=count, f=food)
        rows.append(
            {"id": f"{prefix}{i}", "input": report, "output": f"On {day} the {animal} ate {food}."}
        )
    return rows


def similarity_rows(
    n: int, seed: int, prefix: str = "sts", vocab: Vocabulary = SMALL
) -> list[dict[str, Any]]:
    """``{id, sentence1, sentence2, score}``: six nouns, then k of them replaced; the score is
    the share kept on a 0-5 scale (5: same words, 0: none in common)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        words = rng.sample(vocab.words, 6)
        k = rng.randint(0, 6)
        others = [w for w in vocab.words if w not in words]
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


def _qa_long(
    n: int, seed: int, prefix: str = "qa", vocab: Vocabulary = SMALL
) -> list[dict[str, Any]]:
    return qa_rows(n, seed, prefix, filler=6, vocab=vocab)  # ~80 tokens: several windows at 64


Generator = Callable[..., list[dict[str, Any]]]
GENERATORS: dict[str, Generator] = {
    "ner": ner_rows,
    "qa": _qa_long,
    "summarization": summarization_rows,
    "similarity": similarity_rows,
}
#: The text of a row the data checks compare (``Prepared.check_texts`` of each task adapter).
CHECK_TEXT: dict[str, Callable[[dict[str, Any]], str]] = {
    "ner": lambda r: " ".join(r["tokens"]),
    "qa": lambda r: f"{r['question']} {r['context']}",
    "summarization": lambda r: str(r["input"]),
    "similarity": lambda r: str(r["sentence1"]),
}
SIZES = {"train": (48, 1), "validation": (16, 2), "test": (16, 3)}  # rows, seed
#: Highest word uni+bigram Jaccard allowed between rows of different splits; the leakage check
#: flags from 0.5 (``CheckOptions.near_threshold``), this keeps a margin below it.
MAX_JACCARD = 0.4
_WORD = re.compile(r"[A-Za-z0-9_]+|[^\x00-\x7f]+")


def shingles(text: str) -> frozenset[str]:
    """Words and word bigrams of a casefolded text, as the near-duplicate check compares them."""
    words = _WORD.findall(text.casefold())
    return frozenset(words) | frozenset(f"{a} {b}" for a, b in itertools.pairwise(words))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def distinct_splits(
    task: str, sizes: dict[str, tuple[int, int]] = SIZES, *, max_jaccard: float = MAX_JACCARD
) -> dict[str, list[dict[str, Any]]]:
    """Splits of ``WIDE`` rows where no row near-duplicates (``max_jaccard``) a row of another
    split, and no split repeats a text: the data passes ``leakage`` and ``exact_duplicate``.

    Splits are filled in order, each from its own seeded stream of candidates; a candidate too
    close to a row of an earlier split is skipped. Deterministic for given ``sizes``.
    """
    make, text_of = GENERATORS[task], CHECK_TEXT[task]
    out: dict[str, list[dict[str, Any]]] = {}
    earlier: list[frozenset[str]] = []
    for split, (n, seed) in sizes.items():
        tries = 60 * n
        candidates = make(tries, seed, prefix="cand", vocab=WIDE)
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        mine: list[frozenset[str]] = []
        for row in candidates:
            text = " ".join(text_of(row).casefold().split())
            sh = shingles(text)
            if text in seen or any(jaccard(sh, e) >= max_jaccard for e in earlier):
                continue
            seen.add(text)
            mine.append(sh)
            rows.append({**row, "id": f"{split[:2]}{len(rows)}"})
            if len(rows) == n:
                break
        if len(rows) < n:
            raise RuntimeError(f"{task}/{split}: only {len(rows)} of {n} distinct rows")
        earlier += mine
        out[split] = rows
    return out


def write_examples(folder: str | Path) -> list[Path]:
    """``<folder>/<task>/{train,validation,test}.jsonl`` for every generator."""
    folder = Path(folder)
    written = []
    for task in GENERATORS:
        for split, rows in distinct_splits(task).items():
            written.append(write_jsonl(folder / task / f"{split}.jsonl", rows))
    return written


if __name__ == "__main__":  # python -m tuneproof.data.synthetic examples/data
    for p in write_examples(sys.argv[1] if len(sys.argv) > 1 else "examples/data"):
        print(p)
