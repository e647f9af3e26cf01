"""
Instruments from the tapewire registry (schema/instruments.ts): one CurrencyPair per (instrument, venue)
with the venue's own price and size precision, so every Price and Quantity is exact.

Frames carry mantissas at the registry's ``priceDecimals``/``sizeDecimals`` (the same on every venue);
``InstrumentSpec`` turns them into Nautilus values at the venue's precision and refuses, rather than
rounds, a value that has more digits than the venue allows.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nautilus_trader.common.providers import InstrumentProvider
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import FIXED_PRECISION
from nautilus_trader.model.objects import PRICE_MAX
from nautilus_trader.model.objects import QUANTITY_MAX
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from tapewire_trader.core import EXCHANGE_BY_VENUE
from tapewire_trader.core import VENUE_BY_EXCHANGE
from tapewire_trader.schema import schema_export
from tapewire_trader.wire import EXCHANGE_NAMES

# Largest raw values Nautilus takes (beyond them its Rust core aborts the process): checked before from_raw.
PRICE_RAW_MAX = int(PRICE_MAX) * 10**FIXED_PRECISION
QUANTITY_RAW_MAX = int(QUANTITY_MAX) * 10**FIXED_PRECISION


class RegistryError(ValueError):
    """The registry (API answer or export) is not what schema/instruments.ts describes."""


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """How one venue's listing of one registry instrument reads frame mantissas."""

    instrument: CurrencyPair
    exchange: int
    wire_id: int
    price_precision: int
    size_precision: int
    # Frame mantissa // div = mantissa at the venue's precision (exact only when m % div == 0).
    price_div: int
    size_div: int
    # Venue-precision mantissa * mul = Nautilus raw fixed-point value.
    price_mul: int
    size_mul: int

    def price(self, mantissa: int) -> Price | None:
        """The exact Price, or None when the venue's precision or Nautilus' range cannot hold it."""
        if mantissa % self.price_div:
            return None
        raw = mantissa // self.price_div * self.price_mul
        if not -PRICE_RAW_MAX <= raw <= PRICE_RAW_MAX:
            return None
        return Price.from_raw(raw, self.price_precision)

    def quantity(self, mantissa: int) -> Quantity | None:
        """The exact Quantity, or None (negative, finer than the venue, or beyond Nautilus' range)."""
        if mantissa < 0 or mantissa % self.size_div:
            return None
        raw = mantissa // self.size_div * self.size_mul
        if raw > QUANTITY_RAW_MAX:
            return None
        return Quantity.from_raw(raw, self.size_precision)


def _int(entry: dict[str, Any], key: str, where: str, lo: int, hi: int) -> int:
    value = entry.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise RegistryError(f"{where}: {key} must be an integer {lo}..{hi}, got {value!r}")
    return value


def _optional_max(entry: dict[str, Any], key: str, where: str, nautilus_max: int) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise RegistryError(f"{where}: {key} must be a positive whole number, got {value!r}")
    return min(value, nautilus_max)


def build_specs(
    registry: list[dict[str, Any]],
    ts_init: int = 0,
    max_quantity: Decimal | None = None,
) -> list[InstrumentSpec]:
    """
    One spec per (instrument, venue). ``max_quantity`` caps every instrument's max order quantity, which
    NautilusTrader's RiskEngine checks on every order (TRADER_MAX_ORDER_SIZE).
    """
    specs: list[InstrumentSpec] = []
    for entry in registry:
        where = f"instrument {entry.get('symbol', entry.get('id'))!r}"
        wire_id = _int(entry, "id", where, 1, 65535)
        price_decimals = _int(entry, "priceDecimals", where, 0, 18)
        size_decimals = _int(entry, "sizeDecimals", where, 0, 18)
        base = Currency.from_str(str(entry.get("base")))
        quote = Currency.from_str(str(entry.get("quote")))
        venues = entry.get("venues")
        if not isinstance(venues, dict):
            raise RegistryError(f"{where}: venues must be an object")
        for exchange_name, listing in venues.items():
            code = next((c for c, n in EXCHANGE_NAMES.items() if n == exchange_name), None)
            if code is None or not isinstance(listing, dict) or not listing.get("symbol"):
                raise RegistryError(f"{where}: bad listing for {exchange_name!r}")
            pp = _int(listing, "pricePrecision", f"{where} on {exchange_name}", 0, price_decimals)
            qp = _int(listing, "qtyPrecision", f"{where} on {exchange_name}", 0, size_decimals)
            symbol = Symbol(str(listing["symbol"]))
            # The registry's maxPrice/maxSize (whole units the venues may send) bound the instrument; a risk
            # limit on order size, when set, is the tighter max_quantity.
            max_price = _optional_max(entry, "maxPrice", where, int(PRICE_MAX))
            max_size = _optional_max(entry, "maxSize", where, int(QUANTITY_MAX))
            cap_size = max_quantity if max_quantity is not None else max_size
            instrument = CurrencyPair(
                instrument_id=InstrumentId(symbol, VENUE_BY_EXCHANGE[code]),
                raw_symbol=symbol,
                base_currency=base,
                quote_currency=quote,
                price_precision=pp,
                size_precision=qp,
                price_increment=Price(Decimal(1).scaleb(-pp), pp),
                size_increment=Quantity(Decimal(1).scaleb(-qp), qp),
                ts_event=ts_init,
                ts_init=ts_init,
                max_quantity=Quantity(cap_size, qp) if cap_size is not None else None,
                max_price=Price(max_price, pp) if max_price is not None else None,
                info={"tapewire_id": wire_id, "tapewire_symbol": entry.get("symbol")},
            )
            specs.append(
                InstrumentSpec(
                    instrument=instrument,
                    exchange=code,
                    wire_id=wire_id,
                    price_precision=pp,
                    size_precision=qp,
                    price_div=10 ** (price_decimals - pp),
                    size_div=10 ** (size_decimals - qp),
                    price_mul=10 ** (FIXED_PRECISION - pp),
                    size_mul=10 ** (FIXED_PRECISION - qp),
                ),
            )
    return specs


def fetch_registry_json(url: str, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """GET the API's /api/market/instruments (same shape as the registry, plus `exchanges`)."""
    with urllib.request.urlopen(url, timeout=timeout_s) as res:  # noqa: S310 (a configured http URL)
        parsed = json.loads(res.read())
    if not isinstance(parsed, list):
        raise RegistryError(f"{url}: expected a JSON array of instruments")
    return parsed


class TapewireInstrumentProvider(InstrumentProvider):
    """
    Loads the registry from the API's instruments route when ``instruments_url`` is set, else from
    schema/ through Bun (which reads TAPEWIRE_INSTRUMENTS like every other process).

    ``filters`` may hold ``venues`` (e.g. ["KRAKEN"]) and ``symbols`` (canonical, e.g. ["BTC-USD"]).
    """

    def __init__(
        self,
        config: InstrumentProviderConfig | None = None,
        instruments_url: str | None = None,
        max_quantity: Decimal | None = None,
    ) -> None:
        super().__init__(config=config or InstrumentProviderConfig(load_all=True))
        self._instruments_url = instruments_url
        self._max_quantity = max_quantity
        self._specs: dict[tuple[int, int], InstrumentSpec] = {}
        self._specs_by_id: dict[InstrumentId, InstrumentSpec] = {}

    async def load_all_async(self, filters: dict | None = None) -> None:
        if self._instruments_url:
            registry = await asyncio.to_thread(fetch_registry_json, self._instruments_url)
        else:
            registry = (await asyncio.to_thread(schema_export))["instruments"]
        self.load_registry(registry, filters)

    def load_registry(self, registry: list[dict[str, Any]], filters: dict | None = None) -> None:
        venues = set((filters or {}).get("venues") or [])
        symbols = set((filters or {}).get("symbols") or [])
        for spec in build_specs(registry, max_quantity=self._max_quantity):
            inst = spec.instrument
            if venues and inst.id.venue.value not in venues:
                continue
            if symbols and inst.info.get("tapewire_symbol") not in symbols:
                continue
            self._specs[(spec.exchange, spec.wire_id)] = spec
            self._specs_by_id[inst.id] = spec
            self.add(inst)
            self.add_currency(inst.base_currency)
            self.add_currency(inst.quote_currency)

    def spec(self, exchange: int, wire_id: int) -> InstrumentSpec | None:
        return self._specs.get((exchange, wire_id))

    def spec_for(self, instrument_id: InstrumentId) -> InstrumentSpec | None:
        return self._specs_by_id.get(instrument_id)

    def specs(self) -> list[InstrumentSpec]:
        return list(self._specs.values())

    @staticmethod
    def exchange_of(instrument_id: InstrumentId) -> int | None:
        return EXCHANGE_BY_VENUE.get(instrument_id.venue.value)
