"""Run notebooks top to bottom and record how long each took, with the machine's load.

The README's run-time table comes from this script's output, so that its figures say
where they were measured (date, machine, torch, threads, load) instead of going stale:

    COURSE_DATA_DIR=/path/to/full/data python benchmarks/notebook_times.py --mode full \\
        --checkpoints /tmp/full-ckpt --out build/notebook_times_full.json 01 02 03

Notebooks run in the order given, in one checkpoint folder (so later notebooks load what
earlier ones trained, as a learner's run does). Each executed notebook is saved next to
the JSON file (``<out folder>/executed/``) so that its figures can be looked at. The load
average is read before and after each notebook; a figure measured while other programs
ran says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent


def notebook_paths(prefixes: list[str]) -> list[Path]:
    paths = sorted((REPO / "notebooks").glob("*.ipynb"))
    if not prefixes:
        return paths
    chosen = [p for prefix in prefixes for p in paths if p.name.startswith(prefix)]
    missing = [p for p in prefixes if not any(c.name.startswith(p) for c in chosen)]
    if missing:
        raise SystemExit(f"no notebook starts with {', '.join(missing)}")
    return chosen


def machine() -> dict:
    import torch

    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "cuda": torch.cuda.is_available()}


def run(path: Path, out_dir: Path, timeout_s: int) -> dict:
    nb = nbformat.read(path, as_version=4)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    error = None
    try:
        NotebookClient(nb, timeout=timeout_s, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except Exception as err:  # noqa: BLE001 - recorded, and the run goes on with the next notebook
        error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1][:300] if str(err) else ''}"
    seconds = time.perf_counter() - t0
    (out_dir / "executed").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_dir / "executed" / path.name)
    return {"notebook": path.name, "seconds": round(seconds, 1), "load_before": load_before,
            "load_after": os.getloadavg(), "error": error}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="number prefixes such as 01 02 (default: all)")
    parser.add_argument("--mode", choices=("smoke", "full"), required=True)
    parser.add_argument("--checkpoints", type=Path, required=True, help="checkpoint folder for this run")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write (appended per notebook)")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds per cell")
    args = parser.parse_args(argv)
    os.environ["COURSE_SMOKE"] = "1" if args.mode == "smoke" else "0"
    os.environ["COURSE_CHECKPOINT_DIR"] = str(args.checkpoints.resolve())
    record = {"mode": args.mode, "data_dir": os.environ.get("COURSE_DATA_DIR", "data/"), **machine(),
              "notebooks": []}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for path in notebook_paths(args.notebooks):
        print(f"{path.name} ...", flush=True)
        result = run(path, args.out.parent, args.timeout)
        record["notebooks"].append(result)
        args.out.write_text(json.dumps(record, indent=2))
        load = "/".join(f"{x:.1f}" for x in result["load_before"])
        print(f"{path.name}: {result['seconds']:.0f} s (load before {load})"
              + (f"  FAILED: {result['error']}" if result["error"] else ""), flush=True)
    return 1 if any(r["error"] for r in record["notebooks"]) else 0


if __name__ == "__main__":
    sys.exit(main())
