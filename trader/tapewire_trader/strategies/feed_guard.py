"""
Which instruments a strategy may trade on right now, from the TapewireStatus stream.

Sticky halts last until the feed says it recovered: ``stale`` until ``fresh``, ``book_resync`` until
``book_synced``, ``disconnected`` until ``connected``, a lost relay link until data flows again. Losses
with no recovery message (``gap``, ``relay_gap``, ``buffer_overflow``, ``slow_consumer``) halt for a
cooldown, so the strategy sits out the moments where it may have missed the market.
"""

from __future__ import annotations

from tapewire_trader.types import TapewireStatus

STICKY = {"stale": "fresh", "book_resync": "book_synced", "disconnected": "connected"}
TRANSIENT = frozenset({"gap", "relay_gap", "buffer_overflow", "slow_consumer", "collector_start"})
RELAY_LINK = "*"


class FeedGuard:
    def __init__(self, cooldown_ns: int = 2_000_000_000) -> None:
        self._cooldown_ns = cooldown_ns
        # key (instrument id value, venue name, or RELAY_LINK) -> (reason, halted until ns; 0 = until resumed)
        self._halts: dict[str, tuple[str, int]] = {}
        self.events = 0

    def on_status(self, status: TapewireStatus) -> None:
        self.events += 1
        name = status.name
        if name == "relay_disconnected":
            self._halts[RELAY_LINK] = (name, 0)
            return
        key = status.instrument or status.venue
        if name in STICKY:
            self._halts[key] = (name, 0)
        elif name in TRANSIENT:
            self._halts[key] = (name, status.ts_init + self._cooldown_ns)
        else:
            halt = self._halts.get(key)
            if halt is not None and STICKY.get(halt[0]) == name:
                del self._halts[key]

    def on_market_data(self) -> None:
        """Data flowing again lifts the relay-link halt (the connection is back)."""
        self._halts.pop(RELAY_LINK, None)

    def halted(self, instrument_id: str, venue: str, now_ns: int) -> str | None:
        """The reason trading this instrument is halted at ``now_ns``, or None when it may trade."""
        for key in (RELAY_LINK, instrument_id, venue):
            halt = self._halts.get(key)
            if halt is None:
                continue
            reason, until = halt
            if until == 0 or now_ns < until:
                return reason
            del self._halts[key]
        return None
