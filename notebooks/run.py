"""Execute notebooks with nbclient and print each one's summary (the last JSON line printed by the cell
tagged "summary") as {"<notebook>": {...}} on stdout. Used by notebooks.test.ts in CI and by hand:

    notebooks/.venv/bin/python notebooks/run.py OUT_DIR notebooks/01-archive-research.ipynb ...
"""

import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def summary_of(nb) -> dict:
    for cell in nb.cells:
        if "summary" in cell.get("metadata", {}).get("tags", []):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stdout":
                    lines = [line for line in output["text"].splitlines() if line.startswith("{")]
                    if lines:
                        return json.loads(lines[-1])
    raise SystemExit("no summary cell output")


def main() -> None:
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in sys.argv[2:]:
        path = Path(name)
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(out_dir)}}).execute()
        nbformat.write(nb, out_dir / path.name)
        results[path.stem] = summary_of(nb)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
