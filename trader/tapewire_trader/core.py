"""Names shared by the adapter: the client id, and how tapewire exchanges map to Nautilus venues."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import Venue

from tapewire_trader.wire import EXCHANGE_NAMES

TAPEWIRE: Final[str] = "TAPEWIRE"
TAPEWIRE_CLIENT_ID: Final[ClientId] = ClientId(TAPEWIRE)

# The repository root (trader/ sits in it): relative socket paths and `bun` scripts resolve from here.
REPO_ROOT: Final[Path] = Path(__file__).resolve().parents[2]

# Venue names are the exchange names upper-cased, as NautilusTrader's own adapters spell them
# (BINANCE, KRAKEN, COINBASE), so instrument ids line up with its live execution clients.
VENUE_BY_EXCHANGE: Final[dict[int, Venue]] = {code: Venue(name.upper()) for code, name in EXCHANGE_NAMES.items()}
EXCHANGE_BY_VENUE: Final[dict[str, int]] = {v.value: code for code, v in VENUE_BY_EXCHANGE.items()}
