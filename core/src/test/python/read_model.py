#!/usr/bin/env python3
"""An independent reader of Jacobian model files, written from the safetensors spec and numpy only.

    read_model.py MODEL.safetensors INPUT.f32 ROWS OUTPUT.f32

Parses the safetensors file by hand (8-byte little-endian header length, JSON header, raw little-endian data),
rebuilds the network from the architecture in the metadata ("jacobian.architecture"), runs it in evaluation mode on
ROWS samples read from INPUT.f32 (raw little-endian float32, row-major) and writes the logits to OUTPUT.f32. It
shares no code with Jacobian: ModelFileTest runs it (when python3 with numpy is present) to check that a saved model
means the same thing to an outside reader, in PyTorch's layouts (Linear weight [out, in]).
"""
import json
import math
import struct
import sys

import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1",
          "BOOL": "u1"}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        arr = np.frombuffer(data[base + begin:base + end], dtype=DTYPES[t["dtype"]]).astype(np.float64)
        tensors[name] = arr.reshape(t["shape"])
    return tensors, meta


def act(x, name, leaky=0.01, alpha=1.0):
    if name == "relu":
        return np.maximum(x, 0)
    if name == "leaky-relu":
        return np.where(x > 0, x, leaky * x)
    if name == "elu":
        return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))
    if name == "gelu":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "linear":
        return x
    raise ValueError("activation " + name)


def linear(x, t, name):
    return x @ t[name + ".weight"].T + t[name + ".bias"]


def batch_norm(x, t, name, eps=1e-5):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = t[name + ".running_mean"].reshape(shape)
    var = t[name + ".running_var"].reshape(shape)
    return (x - mean) / np.sqrt(var + eps) * t[name + ".weight"].reshape(shape) + t[name + ".bias"].reshape(shape)


def layer_norm(x, t, name, dims, eps=1e-5):
    axes = tuple(range(x.ndim - dims, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * t[name + ".weight"] + t[name + ".bias"]


def conv2d(x, w, b, stride, pad, dil, groups):
    n, c, h, wd = x.shape
    out, cin, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    oh = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, out, oh, ow))
    per = out // groups
    for g in range(groups):
        xs = x[:, g * cin:(g + 1) * cin]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dil[0]:i * dil[0] + stride[0] * oh:stride[0],
                           j * dil[1]:j * dil[1] + stride[1] * ow:stride[1]]
                y[:, g * per:(g + 1) * per] += np.einsum("nchw,oc->nohw", patch, w[g * per:(g + 1) * per, :, i, j])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def pool2d(x, kind, k, s, p, include_pad):
    n, c, h, w = x.shape
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=fill)
    ones = np.pad(np.ones((h, w)), ((p[0], p[0]), (p[1], p[1])))
    oh = (h + 2 * p[0] - k[0]) // s[0] + 1
    ow = (w + 2 * p[1] - k[1]) // s[1] + 1
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
            if kind == "max":
                y[:, :, i, j] = win.max(axis=(2, 3))
            else:
                count = k[0] * k[1] if include_pad else ones[i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]].sum()
                y[:, :, i, j] = win.sum(axis=(2, 3)) / count
    return y


def module(x, m, t):
    kind, o = m["type"], m["options"]
    if kind == "sequential":
        for c in m["children"]:
            x = module(x, c, t)
        return x
    if kind == "dense":
        return act(linear(x, t, o["name"]), o.get("activation", "linear"))
    if kind == "activation":
        return act(x, o["name"])
    if kind == "prelu":
        a = t[o["name"] + ".weight"]
        return np.where(x > 0, x, a * x)
    if kind == "maxout":
        return x.reshape(x.shape[0], -1, o["pieces"]).max(axis=2)
    if kind == "dropout":
        return x
    if kind == "batch_norm":
        return batch_norm(x, t, o["name"])
    if kind == "layer_norm":
        return layer_norm(x, t, o["name"], len(o["shape"]))
    if kind == "flatten":
        return x.reshape(x.shape[0], -1)
    if kind == "conv2d":
        b = t[o["name"] + ".bias"] if o["bias"] else None
        return conv2d(x, t[o["name"] + ".weight"], b, o["stride"], o["padding"], o["dilation"], o["groups"])
    if kind == "pool2d":
        return pool2d(x, o["kind"], o["kernel"], o["stride"], o["padding"], o["count_include_pad"])
    if kind == "global_avg_pool":
        return x.mean(axis=(2, 3))
    raise ValueError("module type " + kind)


def mlp(x, o, t):
    x = x.reshape(x.shape[0], -1)
    for k, h in enumerate(o["hidden"], start=1):
        z = linear(x, t, "dense%d" % k)
        if o["norm"] == "bn":
            z = batch_norm(z, t, "bn%d" % k)
        elif o["norm"] == "ln":
            z = layer_norm(z, t, "ln%d" % k, 1)
        a = h["activation"]
        if a == "maxout":
            x = z.reshape(z.shape[0], -1, o["maxout_pieces"]).max(axis=2)
        elif a == "prelu":
            x = np.where(z > 0, z, t["prelu%d.weight" % k] * z)
        else:
            x = act(z, a, o["leaky_slope"], o["elu_alpha"])
    return linear(x, t, "dense%d" % (len(o["hidden"]) + 1))


def logits(path, x):
    t, meta = read_safetensors(path)
    arch = json.loads(meta["jacobian.architecture"])
    if arch["type"] == "mlp":
        return mlp(x, arch["options"], t)
    shape = arch["options"]["sample_shape"]
    return module(x.reshape([x.shape[0]] + shape), arch["children"][0], t)


def main():
    path, inputs, rows, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    x = np.fromfile(inputs, dtype="<f4").astype(np.float64).reshape(rows, -1)
    logits(path, x).astype("<f4").tofile(out)


if __name__ == "__main__":
    main()
