"""How values are shown: each series in the units people read and to its precision, the same in every table."""

from __future__ import annotations

from series import numbers


def test_an_index_from_a_float32_feed_shows_its_two_decimals():
    assert numbers.shown(5584.8701171875, "points") == 5584.87
    assert numbers.number(5584.8701171875, "points") == "5,584.87"


def test_exports_read_in_usd_billions_whatever_unit_they_are_stored_in():
    assert numbers.shown(67450000.0, "thousand USD") == 67.45
    assert numbers.with_units(67450000.0, "thousand USD") == "67.45 USD billion"
    assert numbers.with_units(19_450_000_000.0, "USD") == "19.45 USD billion"


def test_foreign_flows_read_in_trillion_won_and_dollars_at_the_days_rate():
    assert numbers.with_units(-34286.0, "100 million KRW") == "-3.43 trillion KRW"
    # -34,286 x 1e8 KRW / 1,500 KRW per USD = -2.2857e9 USD
    assert numbers.usd(-34286.0, "100 million KRW", 1500.0) == "-$2.29 billion"
    assert numbers.usd(-34286.0, "100 million KRW", None) == ""
    assert numbers.usd(1468.2, "KRW per USD", 1500.0) == ""  # not a won amount


def test_a_flows_change_has_no_percent_and_a_rates_change_is_in_points():
    # The report once read "-34,286.00 -> -38,385.56: -4,099.56 (+12.0%)": a sale that grew read as a rise.
    assert numbers.change(-34286.0, -38385.56, "100 million KRW") == "-0.41"
    assert numbers.change(3.75, 3.5, "%") == "-0.25 pp"
    assert numbers.change(1460.0, 1468.2, "KRW per USD") == "+8.20 (+0.6%)"
    assert numbers.change(2.5, 2.5, "%") == "unchanged"
    assert numbers.change(None, 2.5, "%") == "new"


def test_units_nobody_declared_keep_their_name_and_a_sensible_precision():
    assert numbers.with_units(0.012345, "ratio") == "0.0123 ratio"
    assert numbers.number(1234.5678, "ratio") == "1,234.57"
    assert numbers.number(float("nan"), "ratio") == ""
