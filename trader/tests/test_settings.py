"""Settings from the environment: paper defaults, and live mode refusing to start without keys or limits."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

import pytest
from nautilus_trader.model.identifiers import InstrumentId

from tapewire_trader.core import REPO_ROOT
from tapewire_trader.node import NodeSetupError
from tapewire_trader.node import node_config
from tapewire_trader.node import traded_instruments
from tapewire_trader.settings import SettingsError
from tapewire_trader.settings import load_settings

LIVE_OK = {
    "TRADER_MODE": "live",
    "TRADER_VENUES": "BINANCE,KRAKEN",
    "TRADER_STRATEGY": "spread",
    "BINANCE_API_KEY": "k1",
    "BINANCE_API_SECRET": "s1",
    "KRAKEN_API_KEY": "k2",
    "KRAKEN_API_SECRET": "s2",
    "TRADER_MAX_ORDER_SIZE": "0.01",
    "TRADER_MAX_NOTIONAL": "1000",
    "TRADER_MAX_ORDER_RATE": "5/00:00:01",
}


def issues(env: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as e:
        load_settings(env)
    return e.value.issues


def test_paper_defaults():
    s = load_settings({})
    assert (s.mode, s.strategy, s.instrument, s.venues) == ("paper", "market_maker", "BTC-USDT", ("BINANCE", "KRAKEN"))
    assert s.trade_size == Decimal("0.001") and s.max_order_size is None and s.max_order_rate == "100/00:00:01"
    assert s.keys == {}


def test_live_with_keys_and_limits_builds_nautilus_adapters_and_risk_limits(registry):
    s = load_settings(LIVE_OK)
    assert set(s.keys) == {"BINANCE", "KRAKEN"}
    ids = traded_instruments(s, registry)
    assert ids == [InstrumentId.from_str("BTCUSDT.BINANCE"), InstrumentId.from_str("BTC/USDT.KRAKEN")]
    cfg = node_config(s, ids)
    assert set(cfg.exec_clients) == {"BINANCE", "KRAKEN"}
    assert type(cfg.exec_clients["BINANCE"]).__name__ == "BinanceExecClientConfig"
    assert type(cfg.exec_clients["KRAKEN"]).__name__ == "KrakenExecClientConfig"
    assert cfg.exec_clients["BINANCE"].api_key == "k1"
    assert cfg.risk_engine.max_order_submit_rate == "5/00:00:01"
    assert cfg.risk_engine.max_notional_per_order == {"BTCUSDT.BINANCE": 1000, "BTC/USDT.KRAKEN": 1000}
    assert cfg.data_clients["TAPEWIRE"].max_order_quantity == Decimal("0.01")


def test_paper_uses_a_sandbox_per_venue(registry):
    s = load_settings({"TRADER_STRATEGY": "spread"})
    cfg = node_config(s, traded_instruments(s, registry))
    assert sorted(cfg.exec_clients) == ["SANDBOX-BINANCE", "SANDBOX-KRAKEN"]
    assert cfg.exec_clients["SANDBOX-KRAKEN"].venue == "KRAKEN"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"BINANCE_API_KEY": ""}, "BINANCE_API_KEY and BINANCE_API_SECRET are required with TRADER_MODE=live"),
        ({"KRAKEN_API_SECRET": " "}, "KRAKEN_API_KEY and KRAKEN_API_SECRET are required with TRADER_MODE=live"),
        ({"TRADER_MAX_NOTIONAL": ""}, "TRADER_MAX_NOTIONAL is required with TRADER_MODE=live"),
        ({"TRADER_MAX_ORDER_SIZE": "-1"}, "TRADER_MAX_ORDER_SIZE='-1': expected a positive decimal number"),
        ({"TRADER_MAX_ORDER_SIZE": "lots"}, "TRADER_MAX_ORDER_SIZE='lots': expected a positive decimal number"),
        ({"TRADER_MAX_NOTIONAL": "1e3"}, "TRADER_MAX_NOTIONAL='1e3': expected an integer in 1..1000000000000000"),
        (
            {"TRADER_MAX_ORDER_RATE": "5 per second"},
            "TRADER_MAX_ORDER_RATE='5 per second': expected '<count>/HH:MM:SS'",
        ),
        ({"TRADER_MAX_ORDER_RATE": "5/00:00:00"}, "TRADER_MAX_ORDER_RATE='5/00:00:00': expected '<count>/HH:MM:SS'"),
        ({"TRADER_TRADE_SIZE": "0.5"}, "TRADER_TRADE_SIZE=0.5 exceeds TRADER_MAX_ORDER_SIZE=0.01"),
        ({"TRADER_VENUES": "BINANCE,COINBASE"}, "COINBASE has no NautilusTrader execution adapter"),
        ({"TRADER_MODE": "yolo"}, "TRADER_MODE='yolo': expected one of paper, live"),
    ],
)
def test_live_refuses_with_a_reason(change, expected):
    found = issues(LIVE_OK | change)
    assert any(expected in i for i in found), found


def test_every_bad_variable_is_reported_at_once():
    found = issues({"TRADER_MODE": "live", "TRADER_VENUES": "BINANCE"})
    assert len(found) == 4, found  # three limits and the keys


def test_an_instrument_the_venue_does_not_list_is_refused(registry):
    s = load_settings({"TRADER_INSTRUMENT": "BTC-USD", "TRADER_VENUES": "BINANCE"})
    with pytest.raises(NodeSetupError, match="BTC-USD is not listed on BINANCE"):
        traded_instruments(s, registry)


def run_trader(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TRADER_", "BINANCE_", "KRAKEN_"))}
    return subprocess.run(
        [sys.executable, "-m", "tapewire_trader"],
        cwd=REPO_ROOT / "trader",
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_trader_process_refuses_live_without_keys():
    done = run_trader({"TRADER_MODE": "live", "TRADER_VENUES": "BINANCE"})
    assert done.returncode == 78
    assert "refusing to start" in done.stderr
    assert "BINANCE_API_KEY and BINANCE_API_SECRET are required with TRADER_MODE=live" in done.stderr


def test_the_trader_process_refuses_a_bad_limit():
    done = run_trader(LIVE_OK | {"TRADER_MAX_ORDER_RATE": "fast"})
    assert done.returncode == 78
    assert "TRADER_MAX_ORDER_RATE='fast'" in done.stderr


def test_spool_dir_from_the_environment_or_the_default():
    import tapewire_trader.settings as settings

    assert load_settings({}).spool_dir == settings.DEFAULT_SPOOL_DIR
    assert load_settings({"TRADER_SPOOL_DIR": "/srv/spool"}).spool_dir == "/srv/spool"
    assert load_settings({"TRADER_TAP_TRADES": "/tmp/tap.txt"}).tap_trades == "/tmp/tap.txt"
    assert load_settings({}).tap_trades is None
