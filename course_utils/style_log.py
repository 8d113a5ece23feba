"""The bookkeeping of an optimisation of pixels: loss history, progress bar, callback, NaN guard.

Infrastructure for notebook 02's ``optimise_pixels`` (``course_utils.style``, generated from
the notebook). The closure there calls :meth:`EvaluationLog.check_finite` and
:meth:`EvaluationLog.record` once per loss evaluation; everything it remembers is here.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping

import torch

from .progress import progress


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite during optimisation.

    ``last_good_image`` holds the last image (``[3, H, W]`` in [0, 1]) whose loss was finite.
    """

    def __init__(self, message: str, last_good_image: torch.Tensor | None):
        super().__init__(message)
        self.last_good_image = last_good_image


class EvaluationLog:
    """One entry per loss evaluation, shared by the scales of a coarse-to-fine run.

    Attributes:
        history: ``{term: [value, ...]}`` for every term the loss returns (``"total"``,
            ``"content"``, ...), plus ``"time_s"`` (seconds since the log was made) and
            ``"scale"`` (the value of :attr:`scale` at each evaluation).
        scale: the index of the current scale, coarse to fine (set by the caller).

    Args:
        progress_bar: draw a bar with the losses while :meth:`running`.
        callback: ``callback(evaluation, image)`` with the current image ``[3, H, W]``
            clipped to [0, 1], on the CPU, every ``callback_every`` evaluations.
    """

    def __init__(self, progress_bar: bool = True, callback: Callable[[int, torch.Tensor], None] | None = None,
                 callback_every: int = 10):
        self.history: dict[str, list[float]] = {}
        self.scale = 0
        self.progress_bar, self.callback, self.callback_every = progress_bar, callback, callback_every
        self._start = time.perf_counter()
        self._bar = None
        self._lr: float | None = None
        self._last_good: torch.Tensor | None = None

    @property
    def seconds(self) -> float:
        """Seconds from the log's creation to the last recorded evaluation."""
        return self.history["time_s"][-1] if self.history.get("time_s") else 0.0

    @property
    def evaluations(self) -> int:
        return len(self.history.get("time_s", []))

    @contextlib.contextmanager
    def running(self, max_evaluations: int, desc: str, lr: float) -> Iterator[None]:
        """Show a progress bar of ``max_evaluations`` while one optimisation runs."""
        self._lr, self._last_good = lr, None
        self._bar = progress(total=max_evaluations, desc=desc, enabled=self.progress_bar, leave=True,
                             unit="eval")
        try:
            yield
            self._bar.total = self._bar.n  # L-BFGS may need fewer evaluations than allowed
        finally:
            self._bar.close()
            self._bar = None

    def check_finite(self, losses: Mapping[str, torch.Tensor], x: torch.Tensor) -> None:
        """Remember ``x`` if the total loss is finite; otherwise raise :class:`NonFiniteLossError`."""
        total = losses["total"]
        if torch.isfinite(total):
            self._last_good = x.detach().clone()
            return
        bad = ", ".join(f"{k}={float(v.detach()):.3g}" for k, v in losses.items())
        n = self.evaluations
        lr = "" if self._lr is None else f" (lr is {self._lr:g})"
        why = ("at the start: the loss weights are too large for float32 numbers, or the images are broken"
               if n == 0 else f"after {n} evaluations: the optimisation diverged. Try a smaller learning "
               f"rate{lr} or smaller loss weights")
        last = (self._last_good if self._last_good is not None else x.detach()).clamp(0, 1)[0].cpu()
        raise NonFiniteLossError(f"The loss is {float(total.detach())} ({bad}) {why}. The last image with a "
                                 "finite loss is in the exception's last_good_image.", last)

    def record(self, losses: Mapping[str, torch.Tensor], x: torch.Tensor | None = None) -> None:
        """Append one evaluation's losses; update the bar; call the callback with ``x`` when it is due."""
        for name, value in losses.items():
            self.history.setdefault(name, []).append(float(value.detach()))
        self.history.setdefault("time_s", []).append(time.perf_counter() - self._start)
        self.history.setdefault("scale", []).append(self.scale)
        n = self.evaluations
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix({k: f"{v[-1]:.3g}" for k, v in self.history.items()
                                   if k in losses and (v[-1] or k == "total")}, refresh=False)
        if x is not None and self.callback is not None and n % self.callback_every == 0:
            self.callback(n, x.detach().clamp(0, 1)[0].cpu())
