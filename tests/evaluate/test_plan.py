"""`evalplan`: examples per slice from the binomial, planned slices, coverage, YAML round trip."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest
import yaml
from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.errors import UserError
from tuneproof.evaluate.plan import build_plan, check_plan, load_plan, min_examples

runner = CliRunner()


def write_csv(path, rows):
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def half_width(n: int, p: float, confidence: float = 0.95) -> float:
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    return z * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize(
    ("width", "p", "confidence", "expected"),
    [(0.1, 0.5, 0.95, 97), (0.05, 0.5, 0.95, 385), (0.05, 0.9, 0.95, 139), (0.1, 0.5, 0.99, 166)],
)
def test_min_examples_is_the_smallest_n_reaching_the_width(width, p, confidence, expected):
    n = min_examples(width, confidence=confidence, p=p)
    assert n == expected
    assert half_width(n, p, confidence) <= width < half_width(n - 1, p, confidence)


def test_min_examples_never_below_30_and_rejects_bad_widths():
    assert min_examples(0.4) == 30
    with pytest.raises(UserError, match="--width"):
        min_examples(1.5)


def test_plan_slices_scripts_and_code_switching_cases():
    plan = build_plan(["en", "fr", "ar", "hi", "zh"], "sentiment", half_width=0.1)
    keys = [s.key for s in plan.slices]
    assert keys[:5] == ["language=en", "language=fr", "language=ar", "language=hi", "language=zh"]
    assert {"script=Latin", "script=Arabic", "script=Devanagari", "script=Han"} <= set(keys)
    assert {"code_switching=yes", "negation=yes", "truncated=yes"} <= set(keys)
    assert all(s.min_examples == 97 and s.current is None for s in plan.slices)
    assert len(plan.code_switching) == 2 * 4  # both directions, each language with English
    fr = plan.code_switching[0]
    assert fr.languages == ["en", "fr"] and fr.expected == "positive"
    assert "c'était merveilleux" in fr.text
    names = {s.name for s in plan.stress_tests}
    assert {"arabic", "bidi", "devanagari", "chinese", "nfd", "negation", "diacritics"} <= names
    assert {f.name for f in plan.failure_modes} >= {"language_gap", "code_switching"}


def test_plan_errors_are_one_line_user_errors():
    with pytest.raises(UserError, match=r"--task 'sentimnet': unknown \(did you mean 'sentiment'"):
        build_plan(["en"], "sentimnet")
    with pytest.raises(UserError, match="'xx' is not an ISO 639-1 code"):
        build_plan(["en", "xx"], "sentiment")


def test_coverage_from_data_and_plan_round_trip(tmp_path):
    rows = [{"text": f"the film was not good {i}", "lang": "en"} for i in range(40)]
    rows += [{"text": f"le film était superbe {i}", "lang": "fr"} for i in range(100)]
    data = write_csv(tmp_path / "d.csv", rows)
    out = tmp_path / "plan.yaml"
    result = runner.invoke(
        app,
        ["evalplan", "--languages", "en,fr", "--data", str(data), "--lang-column", "lang",
         "--width", "0.1", "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    raw = yaml.safe_load(out.read_text(encoding="utf-8"))
    by_key = {s["key"]: s for s in raw["slices"]}
    assert by_key["language=en"]["current"] == 40 and by_key["language=en"]["covered"] is False
    assert by_key["language=fr"]["current"] == 100 and by_key["language=fr"]["covered"] is True
    assert by_key["negation=yes"]["current"] == 40
    plan = load_plan(out)
    assert plan.languages == ["en", "fr"] and plan.min_examples == 97
    checks = {c.key: c for c in check_plan(plan, {"language=fr": 120, "language=en": 5})}
    assert checks["language=fr"].met and not checks["language=en"].met
    assert checks["script=Latin"].n == 0


def test_load_plan_refuses_other_yaml(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("name: not a plan\n", encoding="utf-8")
    with pytest.raises(UserError, match="not an evaluation plan"):
        load_plan(path)
