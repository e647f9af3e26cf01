"""
The TradingNode: the tapewire data client on the relay, and per venue either NautilusTrader's sandbox
execution client (paper, TRADER_MODE=paper) or its own live execution adapter (Binance, Kraken; keys from
the environment, TRADER_MODE=live), with the RiskEngine limits from TraderSettings.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nautilus_trader.adapters.sandbox.config import SandboxExecutionClientConfig
from nautilus_trader.adapters.sandbox.factory import SandboxLiveExecClientFactory
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LiveRiskEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

from tapewire_trader.config import TapewireDataClientConfig
from tapewire_trader.core import TAPEWIRE
from tapewire_trader.factories import TapewireLiveDataClientFactory
from tapewire_trader.providers import build_specs
from tapewire_trader.recording import ExecutionRecorder
from tapewire_trader.recording import ExecutionRecorderConfig
from tapewire_trader.settings import TraderSettings
from tapewire_trader.strategies import CrossVenueSpread
from tapewire_trader.strategies import CrossVenueSpreadConfig
from tapewire_trader.strategies import InventoryMarketMaker
from tapewire_trader.strategies import InventoryMarketMakerConfig
from tapewire_trader.tap import TradeTap
from tapewire_trader.tap import TradeTapConfig


class NodeSetupError(ValueError):
    """The settings name something the registry does not have (an instrument on a venue)."""


def traded_instruments(settings: TraderSettings, registry: list[dict[str, Any]]) -> list[InstrumentId]:
    """The Nautilus ids of the settings' canonical instrument on each venue it trades, in venue order."""
    by_venue = {
        spec.instrument.id.venue.value: spec.instrument.id
        for spec in build_specs(registry)
        if spec.instrument.info.get("tapewire_symbol") == settings.instrument
    }
    ids: list[InstrumentId] = []
    venues = settings.venues if settings.strategy == "spread" else settings.venues[:1]
    for venue in venues[:2]:
        if venue not in by_venue:
            listed = ", ".join(sorted(by_venue)) or "no venue"
            raise NodeSetupError(f"{settings.instrument} is not listed on {venue} in the registry (listed: {listed})")
        ids.append(by_venue[venue])
    return ids


def make_strategy(settings: TraderSettings, ids: list[InstrumentId]) -> Strategy:
    if settings.strategy == "spread":
        return CrossVenueSpread(
            CrossVenueSpreadConfig(
                instrument_a=ids[0],
                instrument_b=ids[1],
                trade_size=settings.trade_size,
                max_inventory=settings.max_inventory,
                entry_bps=settings.entry_bps,
            ),
        )
    return InventoryMarketMaker(
        InventoryMarketMakerConfig(
            instrument_id=ids[0],
            trade_size=settings.trade_size,
            max_inventory=settings.max_inventory,
            half_spread_bps=settings.half_spread_bps,
        ),
    )


def exec_clients(settings: TraderSettings, ids: list[InstrumentId]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(exec client configs, factories by name) for the venues traded."""
    venues = [iid.venue.value for iid in ids]
    if settings.mode == "paper":
        configs = {
            f"SANDBOX-{venue}": SandboxExecutionClientConfig(
                venue=venue,
                starting_balances=list(settings.starting_balances),
                oms_type="NETTING",
                account_type="MARGIN",
                book_type="L1_MBP",
            )
            for venue in venues
        }
        return configs, {"SANDBOX": SandboxLiveExecClientFactory}
    configs: dict[str, Any] = {}
    factories: dict[str, Any] = {}
    for venue, iid in zip(venues, ids, strict=True):
        keys = settings.keys[venue]
        provider = InstrumentProviderConfig(load_ids=frozenset({iid}))
        if venue == "BINANCE":
            from nautilus_trader.adapters.binance import BinanceAccountType
            from nautilus_trader.adapters.binance import BinanceExecClientConfig
            from nautilus_trader.adapters.binance import BinanceLiveExecClientFactory

            configs[venue] = BinanceExecClientConfig(
                api_key=keys.api_key,
                api_secret=keys.api_secret,
                account_type=BinanceAccountType.SPOT,
                instrument_provider=provider,
            )
            factories[venue] = BinanceLiveExecClientFactory
        elif venue == "KRAKEN":
            from nautilus_trader.adapters.kraken import KrakenExecClientConfig
            from nautilus_trader.adapters.kraken import KrakenLiveExecClientFactory

            configs[venue] = KrakenExecClientConfig(
                api_key=keys.api_key,
                api_secret=keys.api_secret,
                instrument_provider=provider,
            )
            factories[venue] = KrakenLiveExecClientFactory
    return configs, factories


def node_config(settings: TraderSettings, ids: list[InstrumentId]) -> TradingNodeConfig:
    notional = {iid.value: settings.max_notional for iid in ids} if settings.max_notional else {}
    execs, _ = exec_clients(settings, ids)
    return TradingNodeConfig(
        trader_id=settings.trader_id,
        logging=LoggingConfig(log_level=settings.log_level),
        data_clients={
            TAPEWIRE: TapewireDataClientConfig(
                instruments_url=settings.instruments_url,
                max_order_quantity=settings.max_order_size,
            ),
        },
        exec_clients=execs,
        risk_engine=LiveRiskEngineConfig(
            max_order_submit_rate=settings.max_order_rate,
            max_order_modify_rate=settings.max_order_rate,
            max_notional_per_order=notional,
        ),
        # The sandbox has no venue state to reconcile with; live adapters do.
        exec_engine=LiveExecEngineConfig(reconciliation=settings.mode == "live"),
        # Paper stops in about a second (the dev runner's Ctrl-C); live keeps Nautilus' margins for venues.
        timeout_post_stop=1.0 if settings.mode == "paper" else 10.0,
        timeout_disconnection=2.0 if settings.mode == "paper" else 10.0,
    )


def build_node(
    settings: TraderSettings,
    registry: list[dict[str, Any]],
    loop: asyncio.AbstractEventLoop | None = None,
) -> tuple[TradingNode, Strategy]:
    """The node on ``loop``, or on a new event loop (a disposed node closes its loop: never share one)."""
    ids = traded_instruments(settings, registry)
    loop = loop or asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = TradingNode(config=node_config(settings, ids), loop=loop)
    node.add_data_client_factory(TAPEWIRE, TapewireLiveDataClientFactory)
    _, factories = exec_clients(settings, ids)
    for name, factory in factories.items():
        node.add_exec_client_factory(name, factory)
    if settings.mode == "paper":
        # The sandbox venues load their instruments from the cache when they connect: put them there first.
        for spec in build_specs(registry, max_quantity=settings.max_order_size):
            if spec.instrument.id in ids:
                node.cache.add_instrument(spec.instrument)
    strategy = make_strategy(settings, ids)
    node.trader.add_strategy(strategy)  # gives the strategy its id
    # Actors start before strategies whatever the order added: the recorder sees the first order.
    node.trader.add_actor(make_recorder(settings, ids, strategy))
    if settings.tap_trades:
        node.trader.add_actor(TradeTap(TradeTapConfig(path=settings.tap_trades, instrument_ids=_names(ids))))
    node.build()
    return node, strategy


def _names(ids: list[InstrumentId]) -> tuple[str, ...]:
    return tuple(iid.value for iid in ids)


def make_recorder(settings: TraderSettings, ids: list[InstrumentId], strategy: Strategy) -> ExecutionRecorder:
    """The actor that spools the engine's events for Postgres (trader/recorder/ writes them)."""
    params = {
        "trade_size": str(settings.trade_size),
        "max_inventory": str(settings.max_inventory),
        "venues": ",".join(settings.venues),
        "instrument": settings.instrument,
    }
    if settings.strategy == "spread":
        params["entry_bps"] = str(settings.entry_bps)
    else:
        params["half_spread_bps"] = str(settings.half_spread_bps)
    return ExecutionRecorder(
        ExecutionRecorderConfig(
            spool_dir=settings.spool_dir,
            strategy=settings.strategy,
            strategy_id=strategy.id.value,
            mode=settings.mode,
            instruments=_names(ids),
            strategy_config=params,
        ),
    )
