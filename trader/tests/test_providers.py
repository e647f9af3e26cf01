"""Instruments from the registry, with each venue's precision, from schema/ or from the API's route."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest
from nautilus_trader.model.identifiers import InstrumentId

from tapewire_trader.providers import RegistryError
from tapewire_trader.providers import TapewireInstrumentProvider
from tapewire_trader.providers import build_specs
from tapewire_trader.schema import schema_export


def test_every_venue_listing_becomes_an_instrument_with_its_precision(provider, registry):
    listings = [(e, v) for e in registry for v in e["venues"].values()]
    assert provider.count == len(listings)
    for entry in registry:
        for exchange, listing in entry["venues"].items():
            iid = InstrumentId.from_str(f"{listing['symbol']}.{exchange.upper()}")
            inst = provider.find(iid)
            assert inst is not None, iid
            assert (inst.price_precision, inst.size_precision) == (listing["pricePrecision"], listing["qtyPrecision"])
            assert inst.price_increment.as_decimal() == Decimal(1).scaleb(-listing["pricePrecision"])
            assert str(inst.base_currency) == entry["base"] and str(inst.quote_currency) == entry["quote"]
            assert inst.info["tapewire_id"] == entry["id"]
            assert inst.max_price.as_decimal() == min(entry["maxPrice"], 17014118346046)


def test_mantissas_convert_exactly_at_venue_precision(provider):
    shib = provider.spec_for(InstrumentId.from_str("SHIBUSDT.BINANCE"))  # frames: 9 price decimals, venue 8
    assert shib is not None
    assert shib.price(12345670).as_decimal() == Decimal("0.01234567")
    assert shib.price(12345671) is None  # a digit the venue does not have: refused, never rounded
    assert shib.quantity(1234500000).as_decimal() == Decimal("12345")  # frames: 5 size decimals, venue 0
    assert shib.quantity(1234500001) is None
    # The wire allows mantissas to 2^53; Nautilus' Price stops near 1.7e13 (its core would abort): refused.
    btc = provider.spec_for(InstrumentId.from_str("BTC-USD.COINBASE"))
    assert btc.price(2**53 - 1) is None and btc.quantity(2**53 - 1).as_decimal() == Decimal(2**53 - 1).scaleb(-8)
    assert btc.price(1_701_411_834_604_600).as_decimal() == Decimal("17014118346046.00")


def test_the_registry_file_in_tapewire_instruments_is_honoured(tmp_path):
    custom = [
        {
            "id": 42,
            "symbol": "DOGE-USD",
            "base": "DOGE",
            "quote": "USD",
            "priceDecimals": 6,
            "sizeDecimals": 2,
            "maxPrice": 1000,
            "maxSize": 1_000_000_000,
            "venues": {"coinbase": {"symbol": "DOGE-USD", "pricePrecision": 5, "qtyPrecision": 1}},
        },
    ]
    path = tmp_path / "instruments.json"
    path.write_text(json.dumps(custom))
    exported = schema_export(env=dict(os.environ) | {"TAPEWIRE_INSTRUMENTS": str(path)})["instruments"]
    (spec,) = build_specs(exported)
    assert str(spec.instrument.id) == "DOGE-USD.COINBASE" and spec.price_div == 10 and spec.size_div == 10
    assert spec.instrument.max_price.as_decimal() == Decimal("1000.00000")
    assert spec.instrument.max_quantity.as_decimal() == Decimal("1000000000.0")


def test_provider_loads_from_the_api_route(registry):
    body = json.dumps([dict(e, exchanges=list(e["venues"])) for e in registry]).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status = 200 if self.path == "/api/market/instruments" else 404
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body if status == 200 else b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/api/market/instruments"
        p = TapewireInstrumentProvider(instruments_url=url)
        asyncio.run(p.initialize())
        assert p.count == sum(len(e["venues"]) for e in registry)
        assert p.spec(3, 4).instrument.id == InstrumentId.from_str("BTCUSDT.BINANCE")
    finally:
        server.shutdown()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"id": 0}, "id must be an integer 1..65535"),
        ({"priceDecimals": "2"}, "priceDecimals must be an integer 0..18"),
        ({"venues": {"kraken": {"symbol": "X/Y", "pricePrecision": 9, "qtyPrecision": 1}}}, "pricePrecision"),
        ({"venues": {"bitmex": {"symbol": "XY", "pricePrecision": 1, "qtyPrecision": 1}}}, "bad listing"),
    ],
)
def test_a_bad_registry_is_refused_with_what_is_wrong(registry, entry, message):
    with pytest.raises(RegistryError, match=message):
        build_specs([dict(registry[0], **entry)])


def test_filters_select_venues_and_symbols(registry):
    p = TapewireInstrumentProvider()
    p.load_registry(registry, {"venues": ["KRAKEN"], "symbols": ["BTC-USD", "ETH-USD"]})
    assert sorted(str(i.id) for i in p.list_all()) == ["BTC/USD.KRAKEN", "ETH/USD.KRAKEN"]
