#!/usr/bin/env python3
"""numpy and PyTorch peers of `bin/jacobian train`: the same 784-256-128-10 ReLU MLP on the shipped Fashion-MNIST,
for the epoch benchmark (benchmarks/run-epochs.sh, which runs this through peers/mlp_peers.py).

What an epoch does, as the Jacobian run does it: 55,000 training samples (the first 55,000 of the training file; the
Jacobian run holds 5,000 out for validation), shuffled each epoch, batches of --batch rows (the last partial batch is
dropped), each gathered from the pixels kept as bytes and scaled to [0, 1] as float32, then forward, mean softmax
cross-entropy, backward and an SGD step (He-initialized weights, zero biases, lr 0.05, heavy-ball momentum
--momentum: v = m v + g, w -= lr v, as torch.optim.SGD and Jacobian's Sgd), reading the loss back every step.
Only the steps are timed; no validation runs.

    OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell /usr/bin/python3 benchmarks/peers/mlp_train.py --framework numpy

Prints JSON lines: {"ready": ...} once the data is loaded and the model built, then one {"epoch", "seconds",
"loss"} per epoch, then {"threads": ...} (what the framework reports). The numpy peer is written as a careful numpy
user would: preallocated buffers and in-place updates (np.matmul(out=...)), every product through OpenBLAS. Its
thread count is OPENBLAS_NUM_THREADS, read once at import (set by the caller); PyTorch's is --threads
(torch.set_num_threads), with OMP_WAIT_POLICY from the caller.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np

TRAIN = 55000


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def he(rng, n_in, n_out):
    return (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(np.float32)


def emit(**fields):
    print(json.dumps(fields), flush=True)


def numpy_run(images, labels, args):
    rng = np.random.default_rng(args.seed)
    sizes = [784, 256, 128, 10]
    w = [he(rng, a, b) for a, b in zip(sizes, sizes[1:])]
    b = [np.zeros(n, np.float32) for n in sizes[1:]]
    vw = [np.zeros_like(x) for x in w]
    vb = [np.zeros_like(x) for x in b]
    bs = args.batch
    x = np.empty((bs, 784), np.float32)
    z = [np.empty((bs, n), np.float32) for n in sizes[1:]]
    g = [np.empty((bs, n), np.float32) for n in sizes[1:]]
    dw = [np.empty_like(x) for x in w]
    rows = np.arange(bs)
    lr, m = np.float32(args.lr), np.float32(args.momentum)
    scale = np.float32(1 / 255)
    emit(ready=time.time())
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(TRAIN)
        loss_sum = 0.0
        steps = TRAIN // bs
        for s in range(steps):
            idx = order[s * bs:(s + 1) * bs]
            np.multiply(images[idx], scale, out=x, casting="unsafe")
            y = labels[idx]
            h = x
            for i in range(3):
                np.matmul(h, w[i], out=z[i])
                z[i] += b[i]
                if i < 2:
                    np.maximum(z[i], 0, out=z[i])
                h = z[i]
            logits = z[2]
            mx = logits.max(axis=1, keepdims=True)
            p = g[2]
            np.subtract(logits, mx, out=p)
            np.exp(p, out=p)
            total = p.sum(axis=1, keepdims=True)
            loss = float(np.mean(np.log(total[:, 0]) + mx[:, 0] - logits[rows, y]))
            p /= total
            p[rows, y] -= 1
            p *= np.float32(1 / bs)
            for i in (2, 1, 0):
                below = x if i == 0 else z[i - 1]
                np.matmul(below.T, g[i], out=dw[i])
                db = g[i].sum(axis=0)
                if i > 0:
                    np.matmul(g[i], w[i].T, out=g[i - 1])
                    g[i - 1] *= z[i - 1] > 0
                for param, vel, grad in ((w[i], vw[i], dw[i]), (b[i], vb[i], db)):
                    if m != 0:
                        vel *= m
                        vel += grad
                        grad = vel
                    param -= lr * grad
            loss_sum += loss
        emit(epoch=epoch, seconds=time.perf_counter() - start, loss=loss_sum / steps)
    emit(threads=os.environ.get("OPENBLAS_NUM_THREADS", "default"))


def torch_run(images, labels, args):
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                              torch.nn.ReLU(), torch.nn.Linear(128, 10))
    for layer in net:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            torch.nn.init.zeros_(layer.bias)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=args.momentum)
    loss_fn = torch.nn.CrossEntropyLoss()
    x_all = torch.from_numpy(np.array(images))  # a writable copy
    y_all = torch.from_numpy(labels.astype(np.int64))
    gen = torch.Generator().manual_seed(args.seed)
    bs = args.batch
    emit(ready=time.time())
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(TRAIN, generator=gen)
        loss_sum = 0.0
        steps = TRAIN // bs
        for s in range(steps):
            idx = order[s * bs:(s + 1) * bs]
            x = x_all[idx].float().mul_(1 / 255)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y_all[idx])
            loss.backward()
            opt.step()
            loss_sum += loss.item()
        emit(epoch=epoch, seconds=time.perf_counter() - start, loss=loss_sum / steps)
    emit(threads=torch.get_num_threads(), torch=torch.__version__)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--framework", choices=("numpy", "torch"), required=True)
    p.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "samples", "data",
                                                  "fashion-mnist"))
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()
    images = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz")).reshape(-1, 784)[:TRAIN]
    labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"))[:TRAIN]
    (numpy_run if args.framework == "numpy" else torch_run)(images, labels, args)


if __name__ == "__main__":
    sys.exit(main())
