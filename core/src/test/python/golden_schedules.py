#!/usr/bin/env python3
"""Golden learning rates of torch.optim.lr_scheduler, for Jacobian's dev.jacobian.optim.schedule.

Writes core/src/test/resources/golden/schedules.txt, read by LrScheduleGoldenTest (the test needs only that
file, never PyTorch). Regenerate with Debian's python3-torch:

    /usr/bin/python3 core/src/test/python/golden_schedules.py

Format: one record per line, `name|parameters|values`: parameters as `key=value` pairs separated by `;`
(what the Java test builds its schedule from), values as comma-separated Python floats (repr): the learning
rate in each of EPOCHS epochs, read from the optimizer before the epoch's scheduler.step(). A plateau case
also records its metrics (`name.metrics`), fed to step(metric) one per epoch.
"""
import os
import warnings

import torch
from torch.optim import lr_scheduler as L

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "golden", "schedules.txt")
EPOCHS = 12
BASE_LR = 0.1


def run(make, metrics=None):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE_LR)
    sched = make(opt)
    out = []
    for e in range(EPOCHS):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[e])
    return out


def record(name, params, values):
    p = ";".join(f"{k}={v}" for k, v in params.items())
    return f"{name}|{p}|{','.join(repr(float(v)) for v in values)}\n"


def main():
    lines = [f"# learning rates from PyTorch {torch.__version__} (core/src/test/python/golden_schedules.py), "
             f"base lr {BASE_LR}, {EPOCHS} epochs\n"]
    cases = [
        ("constant", {}, lambda o: L.LambdaLR(o, lambda e: 1.0)),
        ("step", {"step_size": 3, "gamma": 0.5}, lambda o: L.StepLR(o, step_size=3, gamma=0.5)),
        ("exponential", {"gamma": 0.8}, lambda o: L.ExponentialLR(o, gamma=0.8)),
        # T_max below EPOCHS: the cosine goes on past T_max (PyTorch's chainable form equals the closed form)
        ("cosine", {"T_max": 8, "eta_min": 0.001}, lambda o: L.CosineAnnealingLR(o, T_max=8, eta_min=0.001)),
        ("cosine_to_zero", {"T_max": 12, "eta_min": 0.0}, lambda o: L.CosineAnnealingLR(o, T_max=12, eta_min=0.0)),
        ("warmup_cosine", {"warmup": 3, "start_factor": 0.1, "T_max": 9, "eta_min": 0.0},
         lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=3),
                                      L.CosineAnnealingLR(o, T_max=9, eta_min=0.0)], milestones=[3])),
        ("warmup_step", {"warmup": 2, "start_factor": 0.25, "step_size": 4, "gamma": 0.1},
         lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.25, total_iters=2),
                                      L.StepLR(o, step_size=4, gamma=0.1)], milestones=[2])),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's internal step(0) deprecation warning
        for name, params, make in cases:
            lines.append(record(name, params, run(make)))
    plateaus = [
        ("plateau_min", {"mode": "min", "factor": 0.5, "patience": 1, "threshold": 0.01, "cooldown": 1, "min_lr": 0.02},
         [1.0, 0.9, 0.9, 0.95, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7]),
        ("plateau_max", {"mode": "max", "factor": 0.1, "patience": 2, "threshold": 0.001, "cooldown": 0, "min_lr": 0.0},
         [0.5, 0.6, 0.6005, 0.6, 0.59, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]),
        ("plateau_abs", {"mode": "min", "factor": 0.5, "patience": 1, "threshold": 0.05, "cooldown": 0, "min_lr": 0.0,
                         "threshold_mode": "abs"},
         [1.0, 0.96, 0.9, 0.86, 0.85, 0.8, 0.79, 0.78, 0.7, 0.69, 0.6, 0.6]),
    ]
    for name, p, metrics in plateaus:
        values = run(lambda o: L.ReduceLROnPlateau(o, mode=p["mode"], factor=p["factor"], patience=p["patience"],
                                                   threshold=p["threshold"], cooldown=p["cooldown"],
                                                   min_lr=p["min_lr"], threshold_mode=p.get("threshold_mode", "rel")),
                     metrics)
        lines.append(record(name, p, values))
        lines.append(record(name + ".metrics", {}, metrics))
    with open(OUT, "w") as fh:
        fh.writelines(lines)


if __name__ == "__main__":
    main()
