"""model/README.md: Hugging Face front matter filled from the evidence, body against a golden
pattern (``<ANY>`` matches any text on a line; regenerate with TUNEPROOF_UPDATE_GOLDEN=1)."""

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

GOLDEN = Path(__file__).parent / "golden" / "model_card.md"


def _front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def _matches(pattern: str, text: str) -> bool:
    regex = "".join(
        ".*" if part == "<ANY>" else re.escape(part) for part in re.split(r"(<ANY>)", pattern)
    )
    return re.fullmatch(regex, text, flags=re.S) is not None


def test_card_matches_the_golden_pattern(run_dir: Path) -> None:
    build_report(run_dir)
    text = (run_dir / "model" / "README.md").read_text(encoding="utf-8")
    text = text.replace(str(run_dir), "<RUN>")
    if os.environ.get("TUNEPROOF_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    golden = GOLDEN.read_text(encoding="utf-8")
    if not _matches(golden, text):
        diff = difflib.unified_diff(golden.splitlines(), text.splitlines(), "golden", "card", n=1)
        pytest.fail("model card differs from the golden pattern:\n" + "\n".join(diff))


def test_front_matter_is_filled_from_the_evidence(run_dir: Path) -> None:
    from huggingface_hub import ModelCard

    build_report(run_dir)
    path = run_dir / "model" / "README.md"
    meta = _front_matter(path.read_text(encoding="utf-8"))
    assert meta["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert meta["pipeline_tag"] == "text-classification"
    assert meta["language"] == ["en", "fr", "de"]  # evaluated languages, largest slice first
    assert meta["license"] == "other"
    assert meta["datasets"] == ["test.csv", "train.csv"]
    assert meta["metrics"] == ["accuracy", "macro_f1"]
    assert meta["library_name"] == "transformers"
    result = meta["model-index"][0]["results"][0]
    assert result["metrics"][0] == {"type": "accuracy", "value": round(52 / 76, 4)}
    assert result["dataset"]["split"] == "test"
    card = ModelCard.load(path)  # what the Hub would parse
    assert (
        card.data.base_model == meta["base_model"]
        and card.data.pipeline_tag == meta["pipeline_tag"]
    )


def test_card_follows_metrics_json_and_options(run_dir: Path) -> None:
    path = run_dir / "metrics.json"
    raw = json.loads(path.read_text())
    raw["overall"]["accuracy"] = 0.9111
    raw["training"]["kind"] = "lora"
    path.write_text(json.dumps(raw))
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
