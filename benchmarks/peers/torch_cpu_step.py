#!/usr/bin/env python3
"""PyTorch CPU peer of Jacobian's TrainingStepBenchmark, for same-run ratios (benchmarks/run-optimizers.sh).

One eager training step of the 784-256-128-10 ReLU MLP with mean softmax cross-entropy, global-norm clipping
at 5 and the optimizer of TrainingStepBenchmark's `optimizer` parameter -- SGD (lr 0.05, momentum 0.9), Adam
(lr 1e-3), AdamW (lr 1e-3, weight decay 0.01) or RMSprop (lr 1e-3) -- on seeded synthetic data (16 batches of
uniform [0, 1) pixels and random labels, used in turn), ending with one read of (loss, gradient norm), as
Jacobian's Trainer.step; --norm batch|layer and --dropout P add BatchNorm1d or LayerNorm before, and Dropout after,
each hidden ReLU, as TrainingStepBenchmark's norm and dropout parameters do; --net cnn steps the CLI's CNN instead
(three blocks of conv 3x3 without bias -- 32, 64, 128 channels -- BatchNorm2d, ReLU and 2x2 max pooling, then 1152-128-10). Prints one JSON object: steps/s per optimizer, the median of --rounds rounds of
--seconds each after a warm-up.

    OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=2 /usr/bin/python3 benchmarks/peers/torch_cpu_step.py \
        --threads 1,2 --batch 128 --optimizers sgd,adam

Peers run their best: Debian's PyTorch 1.13 calls OpenBLAS (BLAS_INFO=generic, the openblas-pthread alternative),
whose own threads fight ATen's OpenMP threads when both spin (2 ATen threads: ~70 steps/s against ~225 with one, on
2 cores); OMP_WAIT_POLICY=PASSIVE and trying each ATen thread count avoid it (run-optimizers.sh sets both).
"""
import argparse
import json
import os

import torch

from timing import rates


def make(name, params):
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.05, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=1e-3)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=1e-3)
    raise SystemExit("unknown optimizer " + name)


def hidden(n_in, n_out, norm, dropout):
    layers = [torch.nn.Linear(n_in, n_out)]
    if norm == "batch":
        layers.append(torch.nn.BatchNorm1d(n_out))
    elif norm == "layer":
        layers.append(torch.nn.LayerNorm(n_out))
    layers.append(torch.nn.ReLU())
    if dropout > 0:
        layers.append(torch.nn.Dropout(dropout))
    return layers


def cnn(norm, dropout):
    """The network of `bin/jacobian train --model cnn` (TrainingStepBenchmark's net=cnn)."""
    layers = []
    c = 1
    for out in (32, 64, 128):
        layers += [torch.nn.Conv2d(c, out, 3, 1, 1, bias=False), torch.nn.BatchNorm2d(out), torch.nn.ReLU(),
                   torch.nn.MaxPool2d(2, 2)]
        c = out
    layers.append(torch.nn.Flatten())
    if dropout > 0:
        layers.append(torch.nn.Dropout(dropout))
    return layers + hidden(128 * 3 * 3, 128, norm, dropout) + [torch.nn.Linear(128, 10)]


def rate(name, batch, seconds, rounds, norm="none", dropout=0.0, net="mlp"):
    torch.manual_seed(42)
    if net == "cnn":
        model = torch.nn.Sequential(*cnn(norm, dropout))
    else:
        model = torch.nn.Sequential(*hidden(784, 256, norm, dropout), *hidden(256, 128, norm, dropout),
                                    torch.nn.Linear(128, 10))
    model.train()
    opt = make(name, model.parameters())
    xs = torch.rand(16, batch, 1, 28, 28) if net == "cnn" else torch.rand(16, batch, 784)
    ys = torch.randint(0, 10, (16, batch))
    loss_fn = torch.nn.CrossEntropyLoss()
    state = {"i": 0}

    def step():
        i = state["i"] % 16
        state["i"] += 1
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xs[i]), ys[i])
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return torch.stack([loss.detach(), norm]).tolist()

    return rates(step, 50, seconds, rounds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="2",
                    help="ATen thread counts to try, comma-separated (e.g. 1,2); each optimizer reports its best")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--optimizers", default="sgd,adam")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--norm", default="none", choices=["none", "batch", "layer"])
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--net", default="mlp", choices=["mlp", "cnn"])
    a = ap.parse_args()
    env = {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE")}
    result = {"torch": torch.__version__, "threads": a.threads, "batch": a.batch, "norm": a.norm, "dropout": a.dropout, "net": a.net,
              "environment": env, "steps_per_s": {}, "best_threads": {}, "rounds": {}}
    for name in a.optimizers.split(","):
        for t in (int(x) for x in a.threads.split(",")):
            torch.set_num_threads(t)
            median, rounds = rate(name, a.batch, a.seconds, a.rounds, a.norm, a.dropout, a.net)
            result["rounds"][f"{name}@{t}"] = rounds
            if median > result["steps_per_s"].get(name, 0):
                result["steps_per_s"][name] = median
                result["best_threads"][name] = t
    print(json.dumps(result))


if __name__ == "__main__":
    main()
