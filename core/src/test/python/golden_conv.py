#!/usr/bin/env python3
"""Golden values for convolution and pooling, computed with PyTorch.

Writes core/src/test/resources/golden/conv.txt, read by GradientCheckSuite.convolutionGoldenValuesFromPyTorch on
every backend (the tests need only that file, never PyTorch). Regenerate with Debian's python3-torch:

    /usr/bin/python3 core/src/test/python/golden_conv.py

Format: see golden_format.py. Inputs are drawn in float32 and the results computed in float64 from them (then
rounded to float32), so the records are the exact answers for the float32 inputs, not one library's roundings.
Every case records its inputs, a weighting `r`, the output `y` and the gradients of `sum(y * r)`:
conv2d (torch.nn.functional.conv2d: x, w, b, dx, dw, db), max_pool2d / avg_pool2d (x, dx) and global average
pooling (adaptive_avg_pool2d(x, 1) flattened: x, dx).
"""
import os
import torch
import torch.nn.functional as F

from golden_format import fmt

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "golden", "conv.txt")

# name, x shape, out channels, kernel (h, w), stride, padding, dilation, groups, bias
CONVS = [
    ("conv_basic", (2, 3, 6, 5), 4, (3, 3), (1, 1), (0, 0), (1, 1), 1, True),
    ("conv_pad_stride", (2, 3, 7, 7), 5, (3, 3), (2, 2), (1, 1), (1, 1), 1, True),
    ("conv_rect", (1, 2, 5, 8), 3, (2, 3), (1, 2), (1, 0), (1, 1), 1, False),
    ("conv_dilated", (2, 2, 9, 8), 3, (3, 2), (1, 1), (2, 1), (2, 3), 1, True),
    ("conv_groups", (2, 4, 5, 5), 6, (3, 3), (1, 1), (1, 1), (1, 1), 2, True),
    ("conv_depthwise", (2, 3, 6, 6), 3, (3, 3), (1, 1), (1, 1), (1, 1), 3, True),
    ("conv_1x1", (3, 5, 2, 3), 4, (1, 1), (1, 1), (0, 0), (1, 1), 1, True),
    ("conv_kernel_is_image", (2, 2, 4, 4), 3, (4, 4), (1, 1), (0, 0), (1, 1), 1, True),
]

# drawn after every case above (so theirs stay as they were): 3x3 stride-1 layers of 8 or more channels, the CPU
# backend's Winograd path -- odd sizes (partial 2x2 tiles), padding 0, 1, 2 and unequal
WINOGRAD = [
    ("conv_winograd", (2, 9, 7, 6), 10, (3, 3), (1, 1), (1, 1), (1, 1), 1, True),
    ("conv_winograd_pad0_odd", (3, 8, 7, 5), 8, (3, 3), (1, 1), (0, 0), (1, 1), 1, False),
    ("conv_winograd_pad2_rect", (1, 12, 4, 9), 9, (3, 3), (1, 1), (2, 1), (1, 1), 1, True),
]

# name, x shape, kind, kernel, stride, padding, count_include_pad
POOLS = [
    ("max_2x2", (2, 3, 6, 6), "max", (2, 2), (2, 2), (0, 0), True),
    ("max_3s2p1", (2, 2, 7, 9), "max", (3, 3), (2, 2), (1, 1), True),
    ("max_overlap", (1, 2, 5, 5), "max", (3, 2), (1, 1), (1, 0), True),
    ("avg_2x2", (2, 3, 6, 6), "avg", (2, 2), (2, 2), (0, 0), True),
    ("avg_pad_counted", (2, 2, 7, 9), "avg", (3, 3), (2, 2), (1, 1), True),
    ("avg_pad_not_counted", (2, 2, 7, 9), "avg", (3, 3), (2, 2), (1, 1), False),
    ("avg_stride_gt_kernel", (1, 3, 7, 8), "avg", (2, 2), (3, 3), (0, 0), True),
]


def f64(t):
    return t.detach().to(torch.float64).requires_grad_(True)


def convs(cases, lines):
    for name, xs, oc, k, s, p, d, g, bias in cases:
        x = torch.randn(xs)
        w = torch.randn(oc, xs[1] // g, *k) * 0.5
        b = torch.randn(oc)
        x_, w_, b_ = f64(x), f64(w), f64(b)
        y = F.conv2d(x_, w_, b_ if bias else None, stride=s, padding=p, dilation=d, groups=g)
        r = torch.randn(y.shape)
        (y * r.to(torch.float64)).sum().backward()
        lines += [fmt(name + ".x", x), fmt(name + ".w", w), fmt(name + ".r", r), fmt(name + ".y", y),
                  fmt(name + ".dx", x_.grad), fmt(name + ".dw", w_.grad)]
        if bias:
            lines += [fmt(name + ".b", b), fmt(name + ".db", b_.grad)]


def main():
    lines = ["# golden values from PyTorch " + torch.__version__ + " (core/src/test/python/golden_conv.py)\n"]
    convs(CONVS, lines)
    for name, xs, kind, k, s, p, cip in POOLS:
        # distinct values a grid step apart, so no window holds a tie (the gradient of a max is then unambiguous)
        n = 1
        for v in xs:
            n *= v
        x = (torch.randperm(n).to(torch.float32) * 0.01 - n * 0.005).reshape(xs)
        x_ = f64(x)
        if kind == "max":
            y = F.max_pool2d(x_, k, s, p)
        else:
            y = F.avg_pool2d(x_, k, s, p, count_include_pad=cip)
        r = torch.randn(y.shape)
        (y * r.to(torch.float64)).sum().backward()
        lines += [fmt(name + ".x", x), fmt(name + ".r", r), fmt(name + ".y", y), fmt(name + ".dx", x_.grad)]
    x = torch.randn(3, 4, 5, 6)
    x_ = f64(x)
    y = F.adaptive_avg_pool2d(x_, 1).flatten(1)
    r = torch.randn(y.shape)
    (y * r.to(torch.float64)).sum().backward()
    lines += [fmt("global_avg.x", x), fmt("global_avg.r", r), fmt("global_avg.y", y), fmt("global_avg.dx", x_.grad)]
    convs(WINOGRAD, lines)
    with open(OUT, "w") as fh:
        fh.writelines(lines)
    print("wrote", os.path.normpath(OUT), len(lines), "lines")


if __name__ == "__main__":
    main()
