#!/usr/bin/env python3
"""Golden trajectories of Jacobian's optimizers, computed with PyTorch's torch.optim.

Writes core/src/test/resources/golden/optimizers.txt, read by TrainingSuite.optimizersMatchPyTorch on every
backend (the tests need only that file, never PyTorch). Regenerate with Debian's python3-torch:

    /usr/bin/python3 core/src/test/python/golden_optimizers.py

The model is a 6-5-4 MLP (tanh hidden layer, softmax cross-entropy averaged over a batch of 8). Weights are
written in Jacobian's layout ([in, out], i.e. nn.Linear's weight transposed) and weight decay applies to the
weights only (a parameter group with weight_decay=0 for the biases), as Jacobian's arena does. Every case runs
5 steps from the same initial parameters and records the loss before each step and the parameters after the
last one; clipping is clip_grad_norm_ (0.5) and/or clip_grad_value_ (0.05) before each step. Four more cases
run an optimizer under a learning-rate scheduler stepped after every step (StepLR, CosineAnnealingLR, LinearLR
warmup then cosine through SequentialLR, ExponentialLR), without and with norm clipping; their weight decay, where
they have one, also spares the biases.

Format: one record per line, `name|shape|values` (float32 literals), as golden_composed_ops.py writes.
"""
import os
import torch

from golden_format import fmt

torch.manual_seed(7)
OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "golden", "optimizers.txt")
STEPS = 5


OPTIMIZERS = {
    "sgd": lambda w, b: torch.optim.SGD([{"params": w}, {"params": b, "weight_decay": 0.0}], lr=0.1),
    "sgd_nesterov_wd": lambda w, b: torch.optim.SGD([{"params": w}, {"params": b, "weight_decay": 0.0}], lr=0.1,
                                                    momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda w, b: torch.optim.Adam([{"params": w}, {"params": b, "weight_decay": 0.0}], lr=0.01),
    "adam_wd": lambda w, b: torch.optim.Adam([{"params": w}, {"params": b, "weight_decay": 0.0}], lr=0.01,
                                             betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
    "adamw": lambda w, b: torch.optim.AdamW([{"params": w}, {"params": b, "weight_decay": 0.0}], lr=0.01,
                                            weight_decay=0.1),
    "rmsprop": lambda w, b: torch.optim.RMSprop([{"params": w}, {"params": b, "weight_decay": 0.0}], lr=0.01),
    "rmsprop_momentum_wd": lambda w, b: torch.optim.RMSprop([{"params": w}, {"params": b, "weight_decay": 0.0}],
                                                            lr=0.005, alpha=0.9, momentum=0.9, weight_decay=0.01),
}
CLIPS = {"none": (0.0, 0.0), "norm": (0.5, 0.0), "value": (0.0, 0.05), "both": (0.5, 0.05)}
# optimizer, scheduler stepped after every optimizer step (so 5 steps see 5 rates)
SCHEDULED = {
    "sgd_momentum.step_lr": (
        lambda w, b: torch.optim.SGD([{"params": w}, {"params": b}], lr=0.1, momentum=0.9),
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    "adam.cosine": (
        lambda w, b: torch.optim.Adam([{"params": w}, {"params": b}], lr=0.01),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=0.001)),
    "adamw.warmup_cosine": (
        lambda w, b: torch.optim.AdamW([{"params": w}, {"params": b, "weight_decay": 0.0}], lr=0.01, weight_decay=0.1),
        lambda o: torch.optim.lr_scheduler.SequentialLR(o, [
            torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=2),
            torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=3)], milestones=[2])),
    "rmsprop.exponential": (
        lambda w, b: torch.optim.RMSprop([{"params": w}, {"params": b}], lr=0.01),
        lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8)),
}


def run(lines, case, init, x, y, make, schedule=None, clip_norm=0.0, clip_value=0.0):
    p = {k: v.clone().requires_grad_(True) for k, v in init.items()}
    opt = make([p["l1.weight"], p["l2.weight"]], [p["l1.bias"], p["l2.bias"]])
    scheduler = schedule(opt) if schedule else None
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        h = torch.tanh(x @ p["l1.weight"] + p["l1.bias"])
        loss = torch.nn.functional.cross_entropy(h @ p["l2.weight"] + p["l2.bias"], y)
        loss.backward()
        losses.append(loss.item())
        if clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(list(p.values()), clip_norm)
        if clip_value > 0:
            torch.nn.utils.clip_grad_value_(list(p.values()), clip_value)
        opt.step()
        if scheduler:
            scheduler.step()
    lines.append(fmt(case + ".loss", torch.tensor(losses)))
    for k, v in p.items():
        lines.append(fmt(case + "." + k, v))


def main():
    lines = ["# golden values from PyTorch " + torch.__version__ + " (core/src/test/python/golden_optimizers.py)\n"]
    x = torch.randn(8, 6)
    y = torch.randint(0, 4, (8,))
    init = {"l1.weight": torch.randn(6, 5) * 0.5, "l1.bias": torch.randn(5) * 0.1,
            "l2.weight": torch.randn(5, 4) * 0.5, "l2.bias": torch.randn(4) * 0.1}
    lines.append(fmt("x", x))
    lines.append(fmt("y", y.to(torch.float32)))
    for k, v in init.items():
        lines.append(fmt("init." + k, v))
    for oname, make in OPTIMIZERS.items():
        for cname, (clip_norm, clip_value) in CLIPS.items():
            run(lines, oname + "." + cname, init, x, y, make, None, clip_norm, clip_value)
    for sname, (make, schedule) in SCHEDULED.items():
        for cname in ("none", "norm"):
            clip_norm, clip_value = CLIPS[cname]
            run(lines, sname + "." + cname, init, x, y, make, schedule, clip_norm, clip_value)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.writelines(lines)


if __name__ == "__main__":
    main()
