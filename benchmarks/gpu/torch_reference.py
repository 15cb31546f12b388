#!/usr/bin/env python3
"""PyTorch reference for Jacobian's OpenCL benchmarks, for the GPU machine (needs torch with CUDA).

NOT RUN in the session that wrote it: that session had no GPU. It prints (and with --out writes) JSON
that benchmarks/report.py reads next to the JMH results of ClVsCpuGemmBenchmark and
TrainingStepBenchmark (run by benchmarks/gpu/run-on-device.sh) to print OpenCL/cuBLAS and
Jacobian/PyTorch ratios:

- gemm: cuBLAS SGEMM through torch.mm into a preallocated C, FP32 (TF32 off), at the square sizes and
  the MLP shapes of ClVsCpuGemmBenchmark ("MxNxK:TT": C [M, N], inner K, A and B used transposed or as
  stored, transposes are views, as in Jacobian); GFLOP/s = 2 M N K / time.
- train: one training step of the 784-256-128-10 ReLU MLP of TrainingStepBenchmark in eager mode:
  upload the batch from host memory, forward, mean softmax cross-entropy, backward, global-norm clipping
  at 5, SGD (lr 0.05, momentum 0.9), and one blocking copy of (loss, gradient norm) back to the host --
  the same work and the same transfers as Jacobian's Trainer.step. Seeded synthetic data, 16 batches
  used in turn.

Both are timed with CUDA events around a loop of calls after a warm-up, then torch.cuda.synchronize().

    python3 benchmarks/gpu/torch_reference.py [--sizes 256,...,4096] [--batches 32,128,512] [--out f.json]
"""
import argparse
import json
import sys

import torch

MLP_SHAPES = ["128x256x784:NN", "128x128x256:NN", "784x256x128:TN", "256x128x128:TN", "128x256x128:NT",
              "128x784x256:NT"]
BATCHES_IN_TURN = 16


def timed(fn, min_seconds, warmup):
    """Mean seconds per call of fn: warm-up calls, then a loop between two CUDA events, repeated with more
    calls until it lasts at least min_seconds."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    calls = 1
    while True:
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            fn()
        end.record()
        torch.cuda.synchronize()
        seconds = start.elapsed_time(end) / 1e3
        if seconds >= min_seconds:
            return seconds / calls
        calls = min(1 << 20, max(2 * calls, int(1.2 * calls * min_seconds / max(seconds, 1e-6))))


def gemm(shape, device, min_seconds):
    dims, ops = shape.split(":")
    m, n, k = (int(d) for d in dims.split("x"))
    gen = torch.Generator(device="cpu").manual_seed(1)
    a = (torch.rand((k, m) if ops[0] == "T" else (m, k), generator=gen) * 2 - 1).to(device)
    b = (torch.rand((n, k) if ops[1] == "T" else (k, n), generator=gen) * 2 - 1).to(device)
    a_op = a.t() if ops[0] == "T" else a
    b_op = b.t() if ops[1] == "T" else b
    c = torch.empty((m, n), device=device)
    seconds = timed(lambda: torch.mm(a_op, b_op, out=c), min_seconds, warmup=10)
    return {"shape": shape, "ms": seconds * 1e3, "gflops": 2.0 * m * n * k / seconds / 1e9}


def train(batch, device, min_seconds):
    torch.manual_seed(42)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                torch.nn.ReLU(), torch.nn.Linear(128, 10)).to(device)
    for layer in model:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            torch.nn.init.zeros_(layer.bias)
    params = list(model.parameters())
    opt = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator(device="cpu").manual_seed(7)
    images = torch.rand((BATCHES_IN_TURN, batch, 784), generator=gen)        # host memory, like float[]
    labels = torch.randint(0, 10, (BATCHES_IN_TURN, batch), generator=gen)
    state = {"next": 0}

    def step():
        i = state["next"]
        state["next"] = (i + 1) % BATCHES_IN_TURN
        x = images[i].to(device)
        y = labels[i].to(device)
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        return torch.stack([loss.detach(), norm]).cpu()          # the one blocking read, as in Trainer.step

    seconds = timed(step, min_seconds, warmup=50)
    return {"batch": batch, "ms_per_step": seconds * 1e3, "steps_per_s": 1.0 / seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="256,512,1024,2048,4096", help="square SGEMM sizes")
    parser.add_argument("--batches", default="32,128,512", help="training-step batch sizes")
    parser.add_argument("--min-seconds", type=float, default=0.5, help="shortest timed loop per case")
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("torch_reference.py: torch sees no CUDA device", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False      # FP32 SGEMM, as Jacobian computes it
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device("cuda")
    shapes = ["%sx%sx%s:NN" % (s, s, s) for s in args.sizes.split(",") if s] + MLP_SHAPES
    result = {
        "framework": "pytorch",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name(0),
        "tf32": torch.backends.cuda.matmul.allow_tf32,
        "gemm": [gemm(s, device, args.min_seconds) for s in shapes],
        "train": [train(int(b), device, args.min_seconds) for b in args.batches.split(",") if b],
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
