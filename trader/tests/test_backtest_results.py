"""Average-cost netting of a backtest's fills (archive_results._Book): adds, partial closes, crossing through flat."""

from __future__ import annotations

from decimal import Decimal as D

from tapewire_trader.archive_results import _Book
from tapewire_trader.archive_results import _pct


def test_average_cost_netting_through_flat_both_ways():
    b = _Book()
    b.fill(True, D("2"), D("100"), 1)
    b.fill(True, D("1"), D("103"), 2)
    assert (b.qty, b.cost, b.realized) == (D("3"), D("101"), D("0"))
    b.fill(False, D("4"), D("110"), 3)  # closes 3 at +9 each, opens a short of 1 at 110
    assert (b.qty, b.cost, b.realized, b.opened_ns) == (D("-1"), D("110"), D("27"), 3)
    b.fill(True, D("1"), D("105"), 4)  # the short closes at +5
    assert (b.qty, b.cost, b.realized) == (D("0"), D("0"), D("32"))
    # Cash: −200 −103 +440 −105 = +32: flat, so the cash flow is the realized PnL.
    assert b.cash == D("32") and b.fills == 4


def test_percentages_round_to_six_places_and_print_plainly():
    assert _pct(D("0.00001063499914973")) == "0.000011"
    assert _pct(D("12.5")) == "12.5"
    assert _pct(D("0")) == "0"
