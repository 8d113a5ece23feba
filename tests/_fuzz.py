"""A small seeded mutator for the fuzz tests: truncations, bit flips, header edits, splices.

Why not Hypothesis: these tests mutate real files of fixed formats, and what matters is a
reproducible corpus of known size whose counts can be reported (inputs tried, correct
results, course errors, anything else), in bounded time. A seeded NumPy generator gives
exactly that; a failing case is already minimal to read (its kind, offset and bytes are in
its label), so Hypothesis's shrinking would add little.

Each mutation is ``(label, kind, data)``; ``kind`` is one of

* ``"truncate"``: the file cut at an offset (a download or copy that stopped);
* ``"flip"``: one to four bits flipped anywhere (a bad disk, a bad transfer);
* ``"header"``: a bit flip, or a 1-, 2- or 4-byte field set to a special value (0, 1,
  all ones, a large value, the value +-1, doubled, halved, random), inside the header,
  i.e. the bytes that describe the image rather than hold its pixels;
* ``"splice"``: bytes inserted or deleted at a random offset.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

Region = tuple[int, int]


def _field_values(old: int, nbytes: int, rng: np.random.Generator) -> list[int]:
    top = 2 ** (8 * nbytes) - 1
    return [0, 1, top, top // 2 + 1, (old + 1) & top, (old - 1) & top, (old * 2) & top, old // 2,
            int(rng.integers(0, top + 1, dtype=np.uint64))]


def mutations(data: bytes, header: Sequence[Region], rng: np.random.Generator, *, truncations: int = 40,
              flips: int = 60, header_edits: int = 80, splices: int = 20) -> Iterator[tuple[str, str, bytes]]:
    """Mutated copies of ``data``; ``header`` lists the ``[start, end)`` byte ranges of its header."""
    n = len(data)
    head = [i for a, b in header for i in range(max(a, 0), min(b, n))] or list(range(min(n, 64)))
    cuts = sorted(set(rng.choice(head, size=min(truncations // 2, len(head)), replace=False).tolist())
                  | set(rng.integers(1, n, size=truncations - truncations // 2).tolist()))
    for cut in cuts:
        yield f"truncate@{cut}", "truncate", data[:cut]
    for _ in range(flips):
        b = bytearray(data)
        for pos in rng.integers(0, n, size=int(rng.integers(1, 5))):
            b[pos] ^= 1 << int(rng.integers(0, 8))
        where = ",".join(str(i) for i, (x, y) in enumerate(zip(b, data, strict=True)) if x != y)
        yield f"flip@{where}", "flip", bytes(b)
    for _ in range(header_edits):
        b = bytearray(data)
        pos = int(rng.choice(head))
        if rng.random() < 0.3:
            b[pos] ^= 1 << int(rng.integers(0, 8))
            yield f"header-flip@{pos}", "header", bytes(b)
            continue
        nbytes = int(rng.choice([1, 2, 4]))
        pos = min(pos, n - nbytes)
        order = "big" if rng.random() < 0.5 else "little"
        old = int.from_bytes(b[pos:pos + nbytes], order)
        values = _field_values(old, nbytes, rng)
        new = values[int(rng.integers(0, len(values)))]
        b[pos:pos + nbytes] = new.to_bytes(nbytes, order)
        if b != data:
            yield f"header-set@{pos}:{nbytes}{order[0]}={new}", "header", bytes(b)
    for _ in range(splices):
        pos = int(rng.integers(0, n))
        if rng.random() < 0.5:
            k = int(rng.integers(1, 17))
            yield f"insert@{pos}+{k}", "splice", data[:pos] + rng.bytes(k) + data[pos:]
        else:
            k = int(rng.integers(1, 17))
            yield f"delete@{pos}-{k}", "splice", data[:pos] + data[pos + k:]


class Timeout(Exception):
    """A call ran past its time limit."""


@contextmanager
def time_limit(seconds: float):
    """Raise :class:`Timeout` in the main thread after ``seconds`` (Python code only; a C call that
    never returns is caught by the test's overall wall-clock check)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Timeout(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Tally:
    """Outcomes of a fuzz run: ``correct``, ``course_error`` and everything else, by format."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    slowest: float = 0.0

    def add(self, group: str, outcome: str, label: str = "", detail: str = "") -> None:
        c = self.counts.setdefault(group, {})
        c[outcome] = c.get(outcome, 0) + 1
        if outcome not in ("correct", "course_error"):
            self.failures.append(f"{group} {label}: {outcome} {detail}")

    def run(self, group: str, label: str, call: Callable[[], object], judge: Callable[[object], str],
            course_error: type[Exception], limit_s: float) -> None:
        """Call ``call()`` under a time limit; ``judge(result)`` says "correct" or what is wrong."""
        t0 = time.perf_counter()
        try:
            with time_limit(limit_s):
                result = call()
        except Timeout as err:
            self.add(group, "hang", label, str(err))
        except course_error:
            self.add(group, "course_error")
        except Exception as err:  # noqa: BLE001 - this is what the test counts
            self.add(group, "raw_exception", label, f"{type(err).__name__}: {err}"[:200])
        else:
            verdict = judge(result)
            self.add(group, "correct" if verdict == "correct" else "wrong_result", label, verdict)
        self.slowest = max(self.slowest, time.perf_counter() - t0)

    def total(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.counts.values():
            for k, v in c.items():
                out[k] = out.get(k, 0) + v
        return out

    def report(self) -> str:
        lines = [f"  {g}: {sum(c.values())} inputs, " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
                 for g, c in self.counts.items()]
        t = self.total()
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(t.items()))
        lines.append(f"  all: {sum(t.values())} inputs, {outcomes}"
                     + f"; slowest call {self.slowest:.2f} s")
        return "\n".join(lines)
