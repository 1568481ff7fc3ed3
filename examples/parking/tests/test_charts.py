"""SVG charts: accessible, escaped, honest about missing data."""

from __future__ import annotations

import re

from lots.charts import Series, bar_chart, line_chart


def test_line_chart_when_values_then_svg_image_with_title_and_spoken_description() -> None:
    svg = str(line_chart("Success", ["09:00", "10:00"], [Series("rate", [50.0, 100.0], "#0a0")]))
    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert "<title>Success</title>" in svg
    assert "rate: 09:00 50, 10:00 100" in svg
    assert svg.count("<polyline") == 1


def test_line_chart_when_bucket_missing_then_line_breaks_instead_of_inventing_zero() -> None:
    svg = str(line_chart("t", list("abcde"), [Series("s", [1, 2, None, 3, 4], "#000")]))
    assert svg.count("<polyline") == 2
    assert svg.count("<circle") == 4


def test_charts_when_no_data_then_empty_state_message() -> None:
    assert "No data here" in str(
        line_chart("t", ["a"], [Series("s", [None], "#000")], empty_message="No data here")
    )
    assert "All quiet" in str(
        bar_chart("t", ["a"], [Series("s", [0], "#000")], empty_message="All quiet")
    )


def test_charts_when_text_is_hostile_then_escaped() -> None:
    svg = str(bar_chart("<b>", ["<script>"], [Series('x"><script>', [1], '"red')]))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_bar_chart_when_series_stack_then_axis_covers_the_total() -> None:
    svg = str(
        bar_chart("e", ["a", "b"], [Series("x", [3, 1], "#f00"), Series("y", [4, 0], "#00f")])
    )
    assert svg.count("<rect x=") - svg.count('width="10" height="10"') == 3  # two stacked + one
    ticks = [float(t) for t in re.findall(r'class="tick" text-anchor="end">([\d.]+)<', svg)]
    assert max(ticks) >= 7
