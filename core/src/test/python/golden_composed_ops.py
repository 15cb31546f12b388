#!/usr/bin/env python3
"""Golden values for the composed operations of Jacobian's core, computed with PyTorch.

Writes core/src/test/resources/golden/composed_ops.txt, read by GradientCheckSuite.goldenValuesFromPyTorch
on every backend (the tests need only that file, never PyTorch). Regenerate with Debian's python3-torch:

    /usr/bin/python3 core/src/test/python/golden_composed_ops.py

Format: one record per line, `name|shape|values` with shape as comma-separated dimensions and values as
comma-separated float32 literals (repr of the float). For every case the script records the input `x`,
the output `y = f(x)` and `dx`, the gradient of `sum(y * r)` for a fixed weighting `r` (also recorded).
"""
import os
import torch

from golden_format import fmt

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "golden", "composed_ops.txt")


def case(lines, name, f, x, r):
    x = x.clone().requires_grad_(True)
    y = f(x)
    (y * r).sum().backward()
    lines += [fmt(name + ".x", x), fmt(name + ".r", r), fmt(name + ".y", y), fmt(name + ".dx", x.grad)]


def main():
    lines = ["# golden values from PyTorch " + torch.__version__ + " (core/src/test/python/golden_composed_ops.py)\n"]
    shape = (3, 4, 5)
    x = torch.randn(shape) * 2
    pos = torch.rand(shape) * 2.5 + 0.3
    r = torch.randn(shape)
    case(lines, "gelu_tanh", lambda t: torch.nn.functional.gelu(t, approximate="tanh"), x, r)
    case(lines, "exp", torch.exp, x, r)
    case(lines, "log", torch.log, pos, r)
    case(lines, "sqrt", torch.sqrt, pos, r)
    case(lines, "reciprocal", torch.reciprocal, pos, r)
    case(lines, "square", torch.square, x, r)
    case(lines, "abs", torch.abs, x, r)
    case(lines, "tanh", torch.tanh, x, r)
    case(lines, "sigmoid", torch.sigmoid, x, r)
    case(lines, "clamp", lambda t: torch.clamp(t, -0.55, 0.45), x, r)
    # broadcasting: a [3, 4, 5] * b [4, 1] and a + b; record db (the summed gradient)
    b = torch.randn(4, 1)
    for op, name in ((torch.mul, "mul"), (torch.add, "add"), (torch.maximum, "max")):
        a_ = x.clone().requires_grad_(True)
        b_ = b.clone().requires_grad_(True)
        y = op(a_, b_)
        (y * r).sum().backward()
        lines += [fmt("bcast_" + name + ".a", a_), fmt("bcast_" + name + ".b", b_), fmt("bcast_" + name + ".r", r),
                  fmt("bcast_" + name + ".y", y), fmt("bcast_" + name + ".da", a_.grad),
                  fmt("bcast_" + name + ".db", b_.grad)]
    with open(OUT, "w") as fh:
        fh.writelines(lines)
    print("wrote", os.path.normpath(OUT), len(lines), "lines")


if __name__ == "__main__":
    main()
