"""Timing helpers shared by the benchmark scripts (imported as ``from _timing import ...``)."""

from __future__ import annotations

import os
import platform
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


def machine_line(device: torch.device) -> str:
    """torch, device, threads, processor and load average: the line every benchmark prints first."""
    load = " / ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads, "
            f"{platform.processor() or platform.machine()}, load average {load} (1/5/15 min)")
