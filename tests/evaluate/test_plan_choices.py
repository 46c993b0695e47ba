"""``build_plan``'s choices (extra scripts, code-switching, failure modes) and the Markdown
export; the YAML export round-trips through ``load_plan`` (what ``eval --plan`` reads)."""

from __future__ import annotations

import pytest

from tuneproof.errors import UserError
from tuneproof.evaluate.plan import build_plan, load_plan, plan_markdown, plan_yaml


def test_choices_shape_the_plan(tmp_path) -> None:  # type: ignore[no-untyped-def]
    plan = build_plan(
        ["en", "hi"],
        scripts=["latin", "Devanagari", "Arabic"],
        code_switching=False,
        failure_modes=["truncation", "language_gap"],
    )
    keys = [s.key for s in plan.slices]
    assert keys.count("script=Latin") == 1 and keys.count("script=Devanagari") == 1
    assert "script=Arabic" in keys and "code_switching=yes" not in keys
    assert plan.code_switching == []
    assert [f.name for f in plan.failure_modes] == ["language_gap", "truncation"]
    path = tmp_path / "plan.yaml"
    path.write_text(plan_yaml(plan), encoding="utf-8")
    assert [s.key for s in load_plan(path).slices] == keys
    md = plan_markdown(plan)
    assert "| `script=Arabic` | 97 | – |" in md and "## Code-switching" not in md


def test_bad_choices_are_one_line_errors() -> None:
    with pytest.raises(UserError, match=r"not a script name.*did you mean 'Latin'"):
        build_plan(["en"], scripts=["Latn"])
    with pytest.raises(UserError, match="failure-modes: 'truncate' is unknown"):
        build_plan(["en"], failure_modes=["truncate"])
