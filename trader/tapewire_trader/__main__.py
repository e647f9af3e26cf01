"""
``python -m tapewire_trader``: the Procfile's ``trader`` process. Paper trading on the relay stream by
default; TRADER_MODE=live trades on the exchanges (keys and risk limits from the environment).
Exit code 78 (like every tapewire process) when the configuration is refused, with the reason.
"""

from __future__ import annotations

import os
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
    try:
        node.run()
    finally:
        node.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
