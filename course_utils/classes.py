"""Writing a class over several notebook cells (d2l's ``add_to_class``).

A long class reads better in steps: its layers in one cell, ``forward`` in the next,
each after the text that explains it. :func:`add_to_class` attaches a function written in
a later cell to a class defined earlier::

    class Generator(nn.Module):
        def __init__(self, ...):
            ...                      # the layers

    @add_to_class(Generator)
    def forward(self, z):
        ...                          # the forward pass, in its own cell

Re-run the cells in order after editing the class cell: re-defining the class makes a
new class without the methods added later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def add_to_class(cls: type) -> Callable[[F], F]:
    """A decorator that sets the decorated function as an attribute (a method) of ``cls``."""

    def attach(fn: F) -> F:
        setattr(cls, fn.__name__, fn)
        return fn

    return attach
