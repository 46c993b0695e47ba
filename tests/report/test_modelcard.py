"""model/README.md: Hugging Face front matter filled from the evidence, body against a golden
pattern.

The card of the real tiny run is compared with ``golden/model_card.md`` after the parts that vary
with a random-init model or the machine (numbers, digests, temporary paths) are replaced by
``<ANY>``; an ``<ANY>`` in the golden file matches any text on its line. Regenerate the golden file
with ``TUNEPROOF_UPDATE_GOLDEN=1`` (never in CI): that run rewrites it and fails, so an update is
never a pass and the diff is reviewed before the next run.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from tuneproof.report import build_report
from tuneproof.report.bundle import load_evidence
from tuneproof.report.limitations import draft_limitations
from tuneproof.report.modelcard import base_model_id, render_model_card

from .conftest import edit_json, metrics

GOLDEN = Path(__file__).parent / "golden" / "model_card.md"
ANY = "<ANY>"
_SHA = re.compile(r"\b[0-9a-f]{64}\b")
# a number on its own (not the 1 of macro_f1 or the 95 of "95 % CI")
_NUMBER = re.compile(r"(?<![A-Za-z_\d.])\d(?:[\d,.]*\d)?(?![A-Za-z_\d])(?! % CI)")
_VERSION_ROW = re.compile(r"^(\| (?:python|tuneproof|torch|transformers|peft) \| ).*( \|)$", re.M)


def _train_rows(manifest: dict) -> list[dict]:
    import csv

    with open(manifest["data"]["train"]["path"], encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def as_pattern(text: str, tmp_root: Path) -> str:
    """The card with what a random-init model or the machine changes replaced by ``<ANY>``."""
    text = _VERSION_ROW.sub(rf"\1{ANY}\2", text.replace(str(tmp_root), "<TMP>"))
    return _NUMBER.sub(ANY, _SHA.sub(ANY, text))


def matches(pattern: str, text: str) -> bool:
    regex = "".join(
        r"[^\n]*" if part == ANY else re.escape(part) for part in re.split(f"({ANY})", pattern)
    )
    return re.fullmatch(regex, text) is not None


def test_pattern_keeps_what_does_not_vary() -> None:
    text = "| macro_f1 | 0.8750 | 0.75 – 0.9 | 95 % CI | fp32 | n=48 | 1,234 |\n| torch | 2.1+cu1 |"
    assert as_pattern(text, Path("/nowhere")) == (
        "| macro_f1 | <ANY> | <ANY> – <ANY> | 95 % CI | fp32 | n=<ANY> | <ANY> |\n| torch | <ANY> |"
    )


def test_pattern_matching_is_per_line() -> None:
    assert matches("a <ANY> c\nd", "a b b c\nd")
    assert not matches("a <ANY>\nd", "a b\nx\nd")  # <ANY> never swallows a line
    assert not matches("a 1", "a 2")


def test_card_matches_the_golden_pattern(
    run_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # the checkout and the machine the tests run on are not the run's: a clean CPU run's card
    edit_json(run_dir / "manifest.json", git__dirty=False, hardware__cuda=False, hardware__gpus=[])
    build_report(run_dir)
    text = (run_dir / "model" / "README.md").read_text(encoding="utf-8")
    text = as_pattern(text.replace(str(run_dir), "<RUN>"), tmp_path_factory.getbasetemp())
    if os.environ.get("TUNEPROOF_UPDATE_GOLDEN"):
        if os.environ.get("CI"):
            pytest.fail(
                "TUNEPROOF_UPDATE_GOLDEN is set in CI: the golden file is never rewritten there; "
                "unset it and regenerate it locally"
            )
        GOLDEN.write_text(text, encoding="utf-8")
        pytest.fail(
            f"{GOLDEN} rewritten (TUNEPROOF_UPDATE_GOLDEN): review `git diff` and rerun without it"
        )
    golden = GOLDEN.read_text(encoding="utf-8")
    if not matches(golden, text):
        diff = difflib.unified_diff(golden.splitlines(), text.splitlines(), "golden", "card", n=1)
        pytest.fail("model card differs from the golden pattern:\n" + "\n".join(diff))


def test_front_matter_is_filled_from_the_evidence(run_dir: Path) -> None:
    from huggingface_hub import ModelCard

    build_report(run_dir)
    path = run_dir / "model" / "README.md"
    meta = _front_matter(path.read_text(encoding="utf-8"))
    m = metrics(run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert "base_model" not in meta  # a local folder is no Hub id
    assert meta["pipeline_tag"] == "text-classification"
    # trained on English only: the French file was evaluated (out-of-distribution), not trained on
    assert {r["lang"] for r in _train_rows(manifest)} == {"en"}
    assert meta["language"] == ["en"]
    assert meta["license"] == "other"
    assert meta["datasets"] == sorted(Path(d["path"]).name for d in manifest["data"].values())
    bookkeeping = ("n", "small_n", "majority", "n_classes")
    metric_names = [k for k, v in m["overall"].items() if k not in bookkeeping]
    metric_names = [k for k in metric_names if not k.endswith("_ci")]
    assert meta["metrics"] == metric_names
    assert meta["library_name"] == "transformers"
    result = meta["model-index"][0]["results"][0]
    assert result["metrics"][0] == {
        "type": m["main_metric"],
        "value": round(m["overall"][m["main_metric"]], 4),
    }
    assert result["dataset"]["split"] == m["split"]
    card = ModelCard.load(path)  # what the Hub would parse
    assert card.data.pipeline_tag == meta["pipeline_tag"]


def test_card_follows_metrics_json_and_options(run_dir: Path) -> None:
    edit_json(run_dir / "metrics.json", overall__accuracy=0.9111, training__kind="lora")
    ev = load_evidence(run_dir)
    card = render_model_card(ev, draft_limitations(ev), license="apache-2.0", language=["en"])
    meta = _front_matter(card.text)
    assert meta["license"] == "apache-2.0" and meta["language"] == ["en"]
    assert meta["library_name"] == "peft" and "lora" in meta["tags"]
    assert meta["model-index"][0]["results"][0]["metrics"][0]["value"] == 0.9111
    assert "UNFILLED" not in card.text and "AutoPeftModel" in card.text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("minilm-l6", "sentence-transformers/all-MiniLM-L6-v2"),
        ("/opt/models/x", None),
        ("org/m", "org/m"),
    ],
)
def test_base_model_id(name: str, expected: str | None) -> None:
    assert base_model_id(name) == expected
