"""Timing helpers shared by the benchmark scripts (imported as ``from _timing import ...``)."""

from __future__ import annotations

import statistics
import time

import torch


def sync(device: torch.device) -> None:
    """Wait for the accelerator's queued work, so that wall-clock times are complete."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def timed(fn, device: torch.device, repeats: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of fn(), after one warm-up call."""
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        sync(device)
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        sync(device)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return 1000 * statistics.median(walls), 1000 * statistics.median(cpus)
