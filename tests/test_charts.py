"""Server-rendered SVG charts: well-formed, accessible, escaped, and honest about missing data."""
import xml.etree.ElementTree as ET

import pytest

from retail import charts
from retail.boroughs import LONDON_BOROUGHS

NS = "{http://www.w3.org/2000/svg}"


def parse(svg) -> ET.Element:
    root = ET.fromstring(str(svg))
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None and title.text and desc is not None and desc.text
    labelled_by = root.get("aria-labelledby").split()
    assert labelled_by == [title.get("id"), desc.get("id")]
    return root


def texts(root) -> list[str]:
    return [t.text for t in root.iter(f"{NS}text")]


def groups(root, cls) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if g.get("class") == cls]


def test_bar_chart_labels_each_bar_and_marks_missing_data():
    root = parse(charts.bar_chart("c1", "Failure rate by type", "Bars", [
        ("Independent", 15.0, "15% (3 of 20)"), ("Multiple / chain", 0.0, "0% (0 of 8)"),
        ("Online only", None, "no data")]))
    assert "15% (3 of 20)" in texts(root)
    assert "0% (0 of 8)" in texts(root)
    assert "no data" in texts(root)
    bars = groups(root, "bar")
    assert [b.find(f"{NS}title").text for b in bars] == [
        "Independent: 15% (3 of 20)", "Multiple / chain: 0% (0 of 8)", "Online only: no data"]
    # The missing one is a dashed placeholder, not a zero-length bar.
    assert bars[2].find(f"{NS}rect").get("stroke-dasharray")


def test_all_text_is_escaped():
    nasty = '<script>alert("x")</script> & Sons'
    for svg in (charts.bar_chart("c2", nasty, nasty, [(nasty, 10.0, nasty)]),
                charts.stacked_bar_chart("c3", nasty, nasty, [nasty], [(nasty, [3])]),
                charts.line_chart("c4", nasty, nasty, [nasty], [(nasty, [10.0])]),
                charts.tile_map("c5", nasty, nasty, {"hackney": (10.0, nasty)})):
        root = parse(svg)
        assert root.find(f"{NS}title").text == nasty
        assert "<script>" not in str(svg)
        assert not list(root.iter("script")) and not list(root.iter(f"{NS}script"))


def test_stacked_bar_chart_one_bar_per_month_with_totals():
    root = parse(charts.stacked_bar_chart("m", "Tests by month", "Stacked", ["Jan 25", "Feb 25", "Mar 25"],
                                          [("In store", [10, 0, 4]), ("Online", [2, 0, 1])]))
    bars = groups(root, "bar")
    assert len(bars) == 3
    assert bars[0].find(f"{NS}title").text == "Jan 25: 12 (In store 10, Online 2)"
    assert len(bars[0].findall(f"{NS}rect")) == 2
    assert bars[1].findall(f"{NS}rect") == []  # nothing drawn for an empty month, but it is labelled
    assert "Feb 25" in texts(root)
    assert {"In store", "Online"} <= set(texts(root))  # legend


def test_line_chart_leaves_gaps_for_months_without_tests():
    root = parse(charts.line_chart("r", "Rates", "Lines", ["Jan", "Feb", "Mar", "Apr"],
                                   [("Underage, in store", [10.0, None, 20.0, 30.0]),
                                    ("Challenge 25, in store", [None, None, None, None])]))
    series = groups(root, "series")
    assert len(series) == 2
    lines = series[0].findall(f"{NS}polyline")
    assert len(lines) == 1 and len(lines[0].get("points").split()) == 2  # Mar–Apr; Jan stands alone
    markers = [m for m in series[0] if m.tag in (f"{NS}circle", f"{NS}rect")]
    assert [m.find(f"{NS}title").text for m in markers] == [
        "Underage, in store, Jan: 10%", "Underage, in store, Mar: 20%", "Underage, in store, Apr: 30%"]
    assert series[1].findall(f"{NS}polyline") == []  # all missing: nothing drawn, never a line at zero


def test_line_chart_with_no_values_says_so():
    root = parse(charts.line_chart("e", "Rates", "Lines", ["Jan"], [("Underage", [None])]))
    assert "No data in this period" in texts(root)


def test_tile_map_has_33_named_tiles_in_the_grid():
    values = {"hackney": (15.0, "15% (3 of 20)"), "sutton": (0.0, "0% (0 of 12)")}
    root = parse(charts.tile_map("map", "Failure rate by borough", "Tile map", values, selected="hackney"))
    tiles = groups(root, "tile")
    assert len(tiles) == 33
    assert {t.get("data-borough") for t in tiles} == {b.code for b in LONDON_BOROUGHS}
    by_code = {t.get("data-borough"): t for t in tiles}
    assert by_code["hackney"].find(f"{NS}title").text == "Hackney: 15% (3 of 20)"
    assert by_code["sutton"].find(f"{NS}title").text == "Sutton: 0% (0 of 12)"  # a real zero stays a zero
    assert by_code["camden"].find(f"{NS}title").text == "Camden: no data"  # missing is not 0%
    assert [t.text for t in by_code["camden"].findall(f"{NS}text")] == ["CMD", "no data"]
    assert [t.text for t in by_code["hackney"].findall(f"{NS}text")] == ["HCK", "15%"]
    assert by_code["hackney"].find(f"{NS}rect").get("stroke-width") == "3"  # the chosen borough is outlined
    # Positions follow the grid: Enfield top, Sutton bottom.
    assert float(by_code["enfield"].find(f"{NS}rect").get("y")) == 0
    assert float(by_code["sutton"].find(f"{NS}rect").get("y")) > float(by_code["croydon"].find(f"{NS}rect").get("y"))


def test_tile_map_legend_lists_every_bin_and_no_data():
    root = parse(charts.tile_map("map2", "RRA adoption", "Tile map", {}, bins=charts.COVERAGE_BINS))
    legend = texts(next(g for g in root.iter(f"{NS}g") if g.get("class") == "legend"))
    assert legend == [b.label for b in charts.COVERAGE_BINS] + ["no data"]


@pytest.mark.parametrize("value,expected", [(0.0, "#fef0d9"), (4.9, "#fef0d9"), (5.0, "#fdcc8a"), (15, "#fc8d59"),
                                            (29.9, "#e34a33"), (100, "#b30000")])
def test_failure_bins(value, expected):
    assert charts.bin_colour(value, charts.FAILURE_BINS) == expected


def test_tile_text_colour_contrasts_with_the_fill():
    root = parse(charts.tile_map("map3", "t", "d", {"hackney": (50.0, "50%"), "camden": (1.0, "1%")}))
    by_code = {t.get("data-borough"): t for t in groups(root, "tile")}
    assert by_code["hackney"].find(f"{NS}text").get("fill") == "#ffffff"  # dark red tile
    assert by_code["camden"].find(f"{NS}text").get("fill") == "#000000"  # pale tile


def test_empty_bar_chart_is_still_well_formed():
    root = parse(charts.bar_chart("none", "Nothing", "Nothing to show", []))
    assert "No data" in texts(root)
