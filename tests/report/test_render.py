"""Escaping filters and chart geometry."""

from __future__ import annotations

import pytest

from tuneproof.report.bundle import Curve, CurvePoint
from tuneproof.report.charts import line_chart, nice_ticks, slice_chart
from tuneproof.report.render import Md, fence, md_escape, render
from tuneproof.report.sections import demote_headings, escape_raw_html
from tuneproof.rundir import MetricBlock


def test_md_escape_makes_data_inert() -> None:
    out = md_escape("<script>x</script> *bold* [link](http://e) a|b `code`\nnext_line _x_")
    assert "<" not in out and "&lt;script>" in out
    assert r"\*bold\*" in out and r"\[link\]" in out and r"a\|b" in out and r"\`code\`" in out
    assert "\n" not in out and "next_line" in out and r"\_x\_" in out
    assert md_escape(Md("**kept**")) == "**kept**"
    assert md_escape("&lt; stays literal") == "&amp;lt; stays literal"


def test_fence_outlasts_backticks_in_the_content() -> None:
    block = fence("echo ```oops```", "bash")
    assert block.startswith("````bash\n") and block.endswith("\n````")


def test_markdown_template_escapes_every_value_unless_marked() -> None:
    from tuneproof.report.render import environment

    tpl = environment("md").from_string("{{ a }} {{ b|md }} {{ c|num }} {{ d|code }}")
    out = tpl.render(a="<i>x</i>", b="**b**", c=0.5, d="x|y")
    assert out == r"&lt;i>x&lt;/i> **b** 0.5000 `x\|y`"
    with pytest.raises(Exception, match="undefined"):
        render("pr.md.jinja")  # StrictUndefined: a missing context key is a bug, not blank text


def test_embedded_markdown_nests_and_loses_raw_html() -> None:
    doc = "# Title\n\n```\n# not a heading <b>\n```\n\n## Sub <b>x</b> `<kept>`"
    out = escape_raw_html(demote_headings(doc, 2))
    assert out.splitlines()[0] == "### Title"
    assert "# not a heading <b>" in out  # code is literal
    assert "#### Sub &lt;b>x&lt;/b> `<kept>`" in out


def test_nice_ticks() -> None:
    assert nice_ticks(0, 1) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(3, 117) == [20, 40, 60, 80, 100]
    assert nice_ticks(0.52, 0.61) == pytest.approx([0.52, 0.54, 0.56, 0.58, 0.6])


def test_line_chart_maps_points_into_the_plot_box() -> None:
    chart = line_chart(
        "loss", [Curve("loss", (CurvePoint(10, None, 0.7), CurvePoint(20, None, 0.5)))]
    )
    assert chart is not None
    (x0, y0), (x1, y1) = chart.series[0].markers
    assert chart.left <= x0 < x1 <= chart.right
    assert chart.top <= y0 < y1 <= chart.bottom  # higher loss is drawn higher up
    assert line_chart("empty", [Curve("loss", ())]) is None


def test_slice_chart_marks_regressions_and_draws_whiskers() -> None:
    slices = {
        "language=en": MetricBlock(n=40, accuracy=0.9, accuracy_ci=[0.8, 0.95]),
        "language=fr": MetricBlock(n=5, small_n=True, accuracy=0.4),
    }
    chart = slice_chart(slices, "accuracy", verdicts={"language=fr": "regressed"})
    assert chart is not None and [b.label for b in chart.bars] == ["language=en", "language=fr"]
    en, fr = chart.bars
    assert en.ci is not None and en.ci[0] < en.x1 < en.ci[1]
    assert fr.css == "bar regressed small" and fr.ci is None
    assert fr.x1 < en.x1
