"""
The trader's settings, read once from the environment into a frozen object. Every bad variable is
reported at once, by name; live mode refuses to start without keys and explicit risk limits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation

from tapewire_trader.core import REPO_ROOT

# The recorder's default (trader/recorder/config.ts): under the repository, whatever the working directory.
DEFAULT_SPOOL_DIR = str(REPO_ROOT / ".data" / "trader-spool")
MODES = ("paper", "live")
STRATEGIES = ("market_maker", "spread")
# Venues NautilusTrader 1.231 has execution adapters for; COINBASE is data-only here.
LIVE_VENUES = ("BINANCE", "KRAKEN")
KNOWN_VENUES = ("KRAKEN", "COINBASE", "BINANCE")
_RATE = re.compile(r"^([1-9][0-9]*)/([0-9]{2}):([0-5][0-9]):([0-5][0-9])$")
_SYMBOL = re.compile(r"^[A-Z0-9]+-[A-Z0-9]+$")


class SettingsError(ValueError):
    """One message naming every variable that is wrong and what was expected."""

    def __init__(self, issues: list[str]) -> None:
        self.issues = issues
        super().__init__("trader configuration: " + "; ".join(issues))


@dataclass(frozen=True, slots=True)
class VenueKeys:
    api_key: str
    api_secret: str


@dataclass(frozen=True, slots=True)
class TraderSettings:
    mode: str
    strategy: str
    instrument: str  # canonical registry symbol, e.g. BTC-USDT
    venues: tuple[str, ...]
    trade_size: Decimal
    max_inventory: Decimal
    half_spread_bps: int
    entry_bps: int
    starting_balances: tuple[str, ...]
    max_order_size: Decimal | None
    max_notional: int | None
    max_order_rate: str
    keys: Mapping[str, VenueKeys]
    trader_id: str
    instruments_url: str | None
    log_level: str
    # Where the recorder spools the engine's events for trader/recorder (Bun) to write to Postgres.
    spool_dir: str = ""
    # A file the trade ticks the strategy receives are copied to (the same-data test); unset: none.
    tap_trades: str | None = None


def load_settings(env: Mapping[str, str]) -> TraderSettings:  # noqa: C901 (one check per variable)
    issues: list[str] = []

    def get(name: str, default: str | None = None) -> str | None:
        raw = env.get(name)
        return default if raw is None or raw.strip() == "" else raw.strip()

    def choice(name: str, values: tuple[str, ...], default: str) -> str:
        raw = get(name, default)
        if raw not in values:
            issues.append(f"{name}={raw!r}: expected one of {', '.join(values)}")
            return default
        return raw

    def decimal(name: str, default: str | None) -> Decimal | None:
        raw = get(name, default)
        if raw is None:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal(-1)
        if not value.is_finite() or value <= 0:
            issues.append(f"{name}={raw!r}: expected a positive decimal number")
            return None
        return value

    def integer(name: str, default: str | None, lo: int, hi: int) -> int | None:
        raw = get(name, default)
        if raw is None:
            return None
        if not re.fullmatch(r"[0-9]+", raw) or not lo <= int(raw) <= hi:
            issues.append(f"{name}={raw!r}: expected an integer in {lo}..{hi}")
            return None
        return int(raw)

    mode = choice("TRADER_MODE", MODES, "paper")
    live = mode == "live"
    strategy = choice("TRADER_STRATEGY", STRATEGIES, "market_maker")
    instrument = get("TRADER_INSTRUMENT", "BTC-USDT") or "BTC-USDT"
    if not _SYMBOL.match(instrument):
        issues.append(f"TRADER_INSTRUMENT={instrument!r}: expected a registry symbol like BTC-USDT")
    venues = tuple(v.strip().upper() for v in (get("TRADER_VENUES", "BINANCE,KRAKEN") or "").split(",") if v.strip())
    bad = [v for v in venues if v not in KNOWN_VENUES]
    if bad or not venues:
        issues.append(f"TRADER_VENUES={get('TRADER_VENUES')!r}: expected a comma list of {', '.join(KNOWN_VENUES)}")
    elif strategy == "spread" and len(venues) < 2:
        issues.append("TRADER_VENUES: the spread strategy needs two venues, e.g. BINANCE,KRAKEN")
    trade_size = decimal("TRADER_TRADE_SIZE", "0.001")
    max_inventory = decimal("TRADER_MAX_INVENTORY", "0.01")
    half_spread = integer("TRADER_HALF_SPREAD_BPS", "2", 1, 10_000)
    entry = integer("TRADER_ENTRY_BPS", "5", 1, 10_000)
    balances = tuple(
        b.strip() for b in (get("TRADER_STARTING_BALANCES", "100000 USDT,100000 USD,1 BTC") or "").split(",")
    )
    for b in balances:
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)? [A-Z0-9]+", b):
            issues.append(f"TRADER_STARTING_BALANCES: {b!r}: expected '<amount> <CURRENCY>' items, comma separated")

    # Risk limits: NautilusTrader's RiskEngine enforces them on every order. Optional on paper (order rate
    # defaults to Nautilus' 100/s); live requires all three.
    max_order_size = decimal("TRADER_MAX_ORDER_SIZE", None)
    max_notional = integer("TRADER_MAX_NOTIONAL", None, 1, 10**15)
    rate = get("TRADER_MAX_ORDER_RATE", None if live else "100/00:00:01")
    if rate is None:
        pass
    elif not (m := _RATE.match(rate)) or int(m[2]) * 3600 + int(m[3]) * 60 + int(m[4]) == 0:
        issues.append(f"TRADER_MAX_ORDER_RATE={rate!r}: expected '<count>/HH:MM:SS', e.g. 10/00:00:01")
    if live:
        for name, value in (
            ("TRADER_MAX_ORDER_SIZE", env.get("TRADER_MAX_ORDER_SIZE")),
            ("TRADER_MAX_NOTIONAL", env.get("TRADER_MAX_NOTIONAL")),
            ("TRADER_MAX_ORDER_RATE", env.get("TRADER_MAX_ORDER_RATE")),
        ):
            if not value or not value.strip():
                issues.append(f"{name} is required with TRADER_MODE=live (a risk limit for every order)")
    if trade_size is not None and max_order_size is not None and trade_size > max_order_size:
        issues.append(f"TRADER_TRADE_SIZE={trade_size} exceeds TRADER_MAX_ORDER_SIZE={max_order_size}")

    keys: dict[str, VenueKeys] = {}
    if live:
        for venue in venues:
            if venue not in LIVE_VENUES:
                issues.append(
                    f"TRADER_VENUES: {venue} has no NautilusTrader execution adapter; live trading supports "
                    f"{', '.join(LIVE_VENUES)}",
                )
                continue
            key, secret = get(f"{venue}_API_KEY"), get(f"{venue}_API_SECRET")
            if not key or not secret:
                issues.append(f"{venue}_API_KEY and {venue}_API_SECRET are required with TRADER_MODE=live")
                continue
            keys[venue] = VenueKeys(key, secret)

    if issues:
        raise SettingsError(issues)
    return TraderSettings(
        mode=mode,
        strategy=strategy,
        instrument=instrument,
        venues=venues,
        trade_size=trade_size,  # type: ignore[arg-type]  (None only with an issue)
        max_inventory=max_inventory,  # type: ignore[arg-type]
        half_spread_bps=half_spread,  # type: ignore[arg-type]
        entry_bps=entry,  # type: ignore[arg-type]
        starting_balances=balances,
        max_order_size=max_order_size,
        max_notional=max_notional,
        max_order_rate=rate or "100/00:00:01",
        keys=keys,
        trader_id=get("TRADER_ID", "TAPEWIRE-001") or "TAPEWIRE-001",
        instruments_url=get("TRADER_INSTRUMENTS_URL"),
        log_level=get("TRADER_LOG_LEVEL", "INFO") or "INFO",
        spool_dir=get("TRADER_SPOOL_DIR") or DEFAULT_SPOOL_DIR,
        tap_trades=get("TRADER_TAP_TRADES"),
    )
