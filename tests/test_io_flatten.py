"""`tuneproof.io.flatten`: the one dotted-key view that config diffs (compare, report) and the
MLflow params share."""

from __future__ import annotations

from tuneproof.evaluate.compare import config_diff as compare_diff
from tuneproof.io import flatten
from tuneproof.report.baseline import config_diff as report_diff

DOC = {
    "model": {"name": "minilm", "lora": {"r": 8, "targets": ["q", "v"]}},
    "data": {"extra": {}, "max_length": None},
    "seed": 13,
    "note": "x",
}


def test_nested_keys_are_dotted_and_values_stay_as_they_are() -> None:
    assert flatten(DOC) == {
        "model.name": "minilm",
        "model.lora.r": 8,
        "model.lora.targets": ["q", "v"],  # lists are values, not flattened
        "data.max_length": None,
        "seed": 13,
        "note": "x",
    }


def test_empty_mappings_vanish_or_stay_as_values() -> None:
    assert "data.extra" not in flatten(DOC)
    kept = flatten(DOC, keep_empty=True)
    assert kept["data.extra"] == {} and list(kept) == [
        "model.name",
        "model.lora.r",
        "model.lora.targets",
        "data.extra",
        "data.max_length",
        "seed",
        "note",
    ]


def test_both_config_diffs_read_the_same_keys() -> None:
    other = {**DOC, "model": {"name": "minilm", "lora": {"r": 16, "targets": ["q", "v"]}}}
    assert [(c.key, c.a, c.b) for c in compare_diff(DOC, other)] == [("model.lora.r", 8, 16)]
    assert [(c.key, c.baseline, c.run) for c in report_diff(DOC, other)] == [
        ("model.lora.r", "8", "16")
    ]


def test_each_diff_keeps_its_rule_for_an_emptied_section() -> None:
    """compare ignores a section that is empty on one side and absent on the other; the report
    shows it (both as before the helpers were merged)."""
    assert compare_diff({"a": {}, "b": 1}, {"b": 1}) == []
    assert [(c.key, c.baseline, c.run) for c in report_diff({"a": {}, "b": 1}, {"b": 1})] == [
        ("a", "{}", "(absent)")
    ]
