#!/usr/bin/env python3
"""Golden values for Jacobian's batch norm and layer norm, computed with PyTorch.

Writes core/src/test/resources/golden/norm.txt, read by NormalizationSuite.goldenBatchNorm / goldenLayerNorm on
every backend (the tests need only that file, never PyTorch). Regenerate with Debian's python3-torch:

    /usr/bin/python3 core/src/test/python/golden_norm.py

Format: as golden_composed_ops.py, one record per line, `name|shape|values` (shape comma-separated, values the
repr of each float32).

Batch norm (cases bn1d on [4, 3] and bn2d on [2, 3, 2, 3], eps 1e-5, momentum 0.1): the weight `w` and bias
`b`, then three passes, each recording its input `xK`, output `yK` and the gradients `dxK`, `dwK`, `dbK` of
`sum(yK * rK)` for a fixed weighting `rK`: passes 1 and 2 in training mode (batch statistics; after them the
running statistics `running_mean`, `running_var` and `num_batches_tracked` are recorded), pass 3 in evaluation
mode (running statistics). Gradients do not accumulate across passes (zeroed before each).

Layer norm (cases ln_last on [4, 5] over the last dimension, ln_2d on [2, 3, 4] over [3, 4]): `w`, `b`, `x`,
`r`, the output `y` and the gradients `dx`, `dw`, `db` of `sum(y * r)`.
"""
import os
import torch

from golden_format import fmt

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "golden", "norm.txt")


def batch_norm(lines, name, module, shape):
    c = shape[1]
    with torch.no_grad():
        module.weight.copy_(torch.rand(c) + 0.5)
        module.bias.copy_(torch.randn(c))
    lines += [fmt(name + ".w", module.weight), fmt(name + ".b", module.bias)]
    for k, training in ((1, True), (2, True), (3, False)):
        module.train(training)
        x = (torch.randn(shape) * 2 + 0.5).requires_grad_(True)
        r = torch.randn(shape)
        module.zero_grad()
        y = module(x)
        (y * r).sum().backward()
        lines += [fmt(f"{name}.x{k}", x), fmt(f"{name}.r{k}", r), fmt(f"{name}.y{k}", y), fmt(f"{name}.dx{k}", x.grad),
                  fmt(f"{name}.dw{k}", module.weight.grad), fmt(f"{name}.db{k}", module.bias.grad)]
        if k == 2:
            lines += [fmt(name + ".running_mean", module.running_mean), fmt(name + ".running_var", module.running_var),
                      fmt(name + ".num_batches_tracked", module.num_batches_tracked.to(torch.float32))]


def layer_norm(lines, name, normalized, shape):
    module = torch.nn.LayerNorm(normalized)
    with torch.no_grad():
        module.weight.copy_(torch.rand(normalized) + 0.5)
        module.bias.copy_(torch.randn(normalized))
    x = (torch.randn(shape) * 2 - 0.3).requires_grad_(True)
    r = torch.randn(shape)
    y = module(x)
    (y * r).sum().backward()
    lines += [fmt(name + ".w", module.weight), fmt(name + ".b", module.bias), fmt(name + ".x", x), fmt(name + ".r", r),
              fmt(name + ".y", y), fmt(name + ".dx", x.grad), fmt(name + ".dw", module.weight.grad),
              fmt(name + ".db", module.bias.grad)]


def main():
    lines = ["# golden values from PyTorch " + torch.__version__ + " (core/src/test/python/golden_norm.py)\n"]
    batch_norm(lines, "bn1d", torch.nn.BatchNorm1d(3), (4, 3))
    batch_norm(lines, "bn2d", torch.nn.BatchNorm2d(3), (2, 3, 2, 3))
    layer_norm(lines, "ln_last", [5], (4, 5))
    layer_norm(lines, "ln_2d", [3, 4], (2, 3, 4))
    with open(OUT, "w") as fh:
        fh.writelines(lines)
    print("wrote", os.path.normpath(OUT), len(lines), "lines")


if __name__ == "__main__":
    main()
