"""``python -m course_utils [--check]``: print the environment report.

With ``--check`` it exits with status 1 if torch and torchvision do not work
together (for example a CPU-only torch next to a torchvision built for CUDA).
"""

import sys

from . import get_device, get_settings, print_environment

print_environment(get_settings(), get_device(verbose=False))
if "--check" in sys.argv[1:]:
    try:
        import torch
        import torchvision

        torchvision.ops.nms(torch.zeros(1, 4), torch.zeros(1), 0.5)  # needs torchvision's C++ ops
    except Exception as err:  # report any failure as an install problem
        print(f"\ntorchvision does not work with this torch: {type(err).__name__}: {err}\n"
              "Reinstall both together: python -m pip install --force-reinstall torch torchvision",
              file=sys.stderr)
        sys.exit(1)
    print("torch and torchvision work together.")
