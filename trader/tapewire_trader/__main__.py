"""
``python -m tapewire_trader``: the Procfile's ``trader`` process. Paper trading on the relay stream by
default; TRADER_MODE=live trades on the exchanges (keys and risk limits from the environment).
Exit code 78 (like every tapewire process) when the configuration is refused, with the reason.
"""

from __future__ import annotations

import os
import signal
import sys

from tapewire_trader.node import NodeSetupError
from tapewire_trader.node import build_node
from tapewire_trader.providers import RegistryError
from tapewire_trader.providers import fetch_registry_json
from tapewire_trader.schema import SchemaExportError
from tapewire_trader.schema import schema_export
from tapewire_trader.settings import SettingsError
from tapewire_trader.settings import load_settings

EXIT_CONFIG = 78


def main() -> int:
    try:
        settings = load_settings(os.environ)
        if settings.instruments_url:
            registry = fetch_registry_json(settings.instruments_url)
        else:
            registry = schema_export()["instruments"]
        node, strategy = build_node(settings, registry)
    except (SettingsError, NodeSetupError, RegistryError, SchemaExportError, OSError) as e:
        print(f"trader: refusing to start: {e}", file=sys.stderr)
        return EXIT_CONFIG
    where = "sandbox execution (paper)" if settings.mode == "paper" else "LIVE execution on the exchanges"
    print(f"trader: {settings.strategy} ({strategy.id}) with {where}", file=sys.stderr)
    stop_once_on_signals(node)
    try:
        node.run()
    finally:
        node.dispose()
    return 0


def stop_once_on_signals(node) -> None:
    """
    Nautilus stops the node on SIGTERM/SIGINT, then restores SIGTERM's default action, so a second SIGTERM
    kills it mid-shutdown (orders not canceled, the recorder's ``run.stopped`` never written). A terminal,
    ``timeout`` or systemd signal the whole process group and ``trader/main.ts`` forwards the signal too:
    the second is routine. Later signals are ignored; the parent's SIGKILL after its grace is the backstop.
    """
    loop = node.get_event_loop()
    first = node.kernel._loop_sig_handler

    def once(sig: signal.Signals) -> None:
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, lambda: None)
        first(sig)
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, lambda: None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, once, sig)


if __name__ == "__main__":
    sys.exit(main())
