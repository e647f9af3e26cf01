"""Custom data the client publishes besides ticks: feed status, so strategies see gaps and resyncs."""

# No `from __future__ import annotations`: customdataclass reads the real annotation types.
from nautilus_trader.core.data import Data
from nautilus_trader.model.custom import customdataclass
from nautilus_trader.model.data import DataType


@customdataclass
class TapewireStatus(Data):
    """
    One status frame from the stream (docs/wire-format.md, "Status codes"), or a status the client makes
    itself (``disconnected`` from the relay, code -1 ``relay_connection``).

    ``venue`` and ``instrument`` (an InstrumentId string) are empty for feed-wide events (instrument 0 on the wire).
    ``book_valid`` is the client's view of the affected book after this event: False from a gap, resync
    or lost connection until the next full snapshot.
    """

    code: int = 0
    name: str = ""
    venue: str = ""
    # Not `instrument_id`: the DataEngine treats that attribute as an InstrumentId on custom data.
    instrument: str = ""
    detail: int = 0
    count: int = 0
    book_valid: bool = True


TAPEWIRE_STATUS: DataType = DataType(TapewireStatus)
