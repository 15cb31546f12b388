#!/usr/bin/env python3
"""PyTorch CPU peer of Jacobian's ConvBenchmark, for same-run ratios (benchmarks/run-conv.sh).

One call: y = conv2d(x, w) (3x3, stride 1, padding 1, no bias), loss = y.sum(), loss.backward() to x and w, then a
read of one element of w.grad -- for the layers of `bin/jacobian train --model cnn` at batch --batch: conv1
(x [N, 1, 28, 28], 32 filters), conv2 (x [N, 32, 14, 14], 64 filters) and conv3 (x [N, 64, 7, 7], 128 filters). Prints one JSON object: calls/s per layer,
the median of --rounds rounds of --seconds each after a warm-up, at the best of the --threads ATen thread counts, and
which convolution PyTorch used (mkldnn, i.e. oneDNN, when torch.backends.mkldnn is on: Debian's 1.13 has it).

    OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=2 /usr/bin/python3 benchmarks/peers/torch_conv.py --threads 1,2
"""
import argparse
import json

import torch

from timing import rates

LAYERS = {"conv1": (1, 28, 28, 32), "conv2": (32, 14, 14, 64), "conv3": (64, 7, 7, 128)}


def rate(layer, batch, seconds, rounds):
    torch.manual_seed(42)
    c, h, w_, oc = LAYERS[layer]
    x = torch.randn(batch, c, h, w_, requires_grad=True)
    w = (torch.randn(oc, c, 3, 3) * (2.0 / (c * 9)) ** 0.5).requires_grad_(True)

    def call():
        x.grad = None
        w.grad = None
        torch.nn.functional.conv2d(x, w, None, 1, 1).sum().backward()
        return float(w.grad.view(-1)[0])

    return rates(call, 20, seconds, rounds)[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", default="1,2")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--layers", default="conv1,conv2,conv3")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    result = {"torch": torch.__version__, "mkldnn": torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
              "batch": a.batch, "calls_per_s": {}, "best_threads": {}, "by_threads": {}}
    for layer in a.layers.split(","):
        best, best_t = 0.0, None
        for t in [int(v) for v in a.threads.split(",")]:
            torch.set_num_threads(t)
            r = rate(layer, a.batch, a.seconds, a.rounds)
            result["by_threads"].setdefault(layer, {})[t] = r
            if r > best:
                best, best_t = r, t
        result["calls_per_s"][layer] = best
        result["best_threads"][layer] = best_t
    print(json.dumps(result))


if __name__ == "__main__":
    main()
