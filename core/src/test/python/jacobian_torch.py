#!/usr/bin/env python3
"""The PyTorch module equivalent to a Jacobian model file, and a check that PyTorch loads the file.

    from jacobian_torch import load
    module = load("model.safetensors")          # an nn.Sequential(OrderedDict) with the file's weights, eval mode

The file's tensors are named and laid out as the state dict of that module, so load() is
`module.load_state_dict(tensors, strict=True)`; `safetensors.torch.load_file(path)` gives the same dict where the
safetensors package is installed (this script reads the file itself, so it needs PyTorch only).

    python3 jacobian_torch.py DIR      # checks every DIR/*.safetensors against DIR/<name>.input.f32 / .logits.f32

Checks that PyTorch's load_state_dict(strict=True) takes each checked-in fixture model (core/src/test/resources/models,
written by Jacobian; ModelFileFixturesTest keeps them loading in Jacobian) and reproduces the logits Jacobian
computed, to 1e-5. Debian's python3-torch (PyTorch 1.13) runs it; the tests do not need PyTorch.
"""
import json
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "u1"}


def read(path):
    """The file's tensors (as torch tensors of their stored type) and metadata."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    tensors = OrderedDict()
    for name, t in header.items():
        begin, end = t["data_offsets"]
        arr = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
        tensors[name] = torch.from_numpy(arr.copy())
    return tensors, meta


class AnyBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm1d or 2d, whichever the input is (Jacobian's batch_norm takes [N, C] and [N, C, H, W])."""

    def _check_input_dim(self, x):
        pass


class Maxout(nn.Module):
    """The max over each group of `pieces` adjacent features (Jacobian's maxout)."""

    def __init__(self, pieces):
        super().__init__()
        self.pieces = pieces

    def forward(self, x):
        return x.reshape(x.shape[0], -1, self.pieces).max(dim=2).values


class Reshape(nn.Module):
    """Rows of flat values to samples of the model's shape."""

    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape([x.shape[0]] + self.shape)


def activation(name, leaky=0.01, alpha=1.0):
    return {"relu": lambda: nn.ReLU(), "leaky-relu": lambda: nn.LeakyReLU(leaky), "elu": lambda: nn.ELU(alpha),
            "gelu": lambda: nn.GELU(approximate="tanh"), "tanh": lambda: nn.Tanh(), "sigmoid": lambda: nn.Sigmoid(),
            "linear": lambda: nn.Identity()}[name]()


def leaves(m, out):
    """(name, module) pairs of a Jacobian module spec, flattened: named layers under their own names."""
    kind, o = m["type"], m["options"]
    unnamed = "_%d" % len(out)
    if kind == "sequential":
        for c in m["children"]:
            leaves(c, out)
    elif kind == "dense":
        out.append((o["name"], nn.Linear(o["in"], o["out"])))
        if "activation" in o:
            out.append((o["name"] + "_" + o["activation"], activation(o["activation"])))
    elif kind == "activation":
        out.append((unnamed, activation(o["name"])))
    elif kind == "prelu":
        out.append((o["name"], nn.PReLU(o["units"])))
    elif kind == "maxout":
        out.append((unnamed, Maxout(o["pieces"])))
    elif kind == "dropout":
        out.append((unnamed, nn.Dropout(o["p"])))
    elif kind == "batch_norm":
        out.append((o["name"], AnyBatchNorm(o["channels"])))
    elif kind == "layer_norm":
        out.append((o["name"], nn.LayerNorm(o["shape"])))
    elif kind == "flatten":
        out.append((unnamed, nn.Flatten()))
    elif kind == "conv2d":
        out.append((o["name"], nn.Conv2d(o["in"], o["out"], o["kernel"], o["stride"], o["padding"], o["dilation"],
                                         o["groups"], o["bias"])))
    elif kind == "pool2d":
        out.append((unnamed, nn.MaxPool2d(o["kernel"], o["stride"], o["padding"]) if o["kind"] == "max"
                    else nn.AvgPool2d(o["kernel"], o["stride"], o["padding"], count_include_pad=o["count_include_pad"])))
    elif kind == "global_avg_pool":
        out.append((unnamed, nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())))
    else:
        raise ValueError("module type " + kind)
    return out


def module(arch):
    """The nn.Sequential(OrderedDict) of an architecture (the metadata's "jacobian.architecture")."""
    o = arch["options"]
    if arch["type"] == "model":
        return nn.Sequential(OrderedDict([("_input", Reshape(o["sample_shape"]))] + leaves(arch["children"][0], [])))
    layers, n = [("_input", nn.Flatten())], o["input"]
    for k, h in enumerate(o["hidden"], start=1):
        a = h["activation"]
        width = h["units"] * o["maxout_pieces"] if a == "maxout" else h["units"]
        layers.append(("dense%d" % k, nn.Linear(n, width)))
        if o["norm"] == "bn":
            layers.append(("bn%d" % k, nn.BatchNorm1d(width)))
        elif o["norm"] == "ln":
            layers.append(("ln%d" % k, nn.LayerNorm(width)))
        if a == "maxout":
            layers.append(("maxout%d" % k, Maxout(o["maxout_pieces"])))
        elif a == "prelu":
            layers.append(("prelu%d" % k, nn.PReLU(width)))
        else:
            layers.append(("act%d" % k, activation(a, o["leaky_slope"], o["elu_alpha"])))
        if o["dropout"] > 0:
            layers.append(("dropout%d" % k, nn.Dropout(o["dropout"])))
        n = h["units"]
    layers.append(("dense%d" % (len(o["hidden"]) + 1), nn.Linear(n, o["outputs"])))
    return nn.Sequential(OrderedDict(layers))


def load(path):
    tensors, meta = read(path)
    m = module(json.loads(meta["jacobian.architecture"]))
    state = OrderedDict((k, v) for k, v in tensors.items() if not k.startswith(("optimizer.", "extra.")))
    m.load_state_dict(state, strict=True)
    return m.eval()


def check(directory):
    names = sorted(f[:-len(".safetensors")] for f in os.listdir(directory) if f.endswith(".safetensors"))
    if not names:
        raise SystemExit("no .safetensors files in " + directory)
    for name in names:
        base = os.path.join(directory, name)
        m = load(base + ".safetensors").double()
        want = np.fromfile(base + ".logits.f32", dtype="<f4").astype(np.float64)
        x = torch.from_numpy(np.fromfile(base + ".input.f32", dtype="<f4").astype(np.float64))
        rows = want.size // m[-1].out_features
        with torch.no_grad():
            got = m(x.reshape(rows, -1)).numpy().ravel()
        err = np.max(np.abs(got - want) / np.maximum(1, np.abs(want)))
        print("%-12s load_state_dict(strict=True) ok, %d logits, max relative error %.2e" % (name, want.size, err))
        if err > 1e-5:
            raise SystemExit(name + ": logits differ from Jacobian's by " + str(err))


if __name__ == "__main__":
    check(sys.argv[1])
