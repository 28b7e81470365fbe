#!/usr/bin/env python3
"""An external evaluator for Atoll, in Python with numpy.

Atoll starts this program, writes the header (the genome's layout) to its stdin, and then sends
batches of genomes; this program answers each batch with one float32 fitness per genome (higher
is better). The protocol is described in docs/external-protocol.md.

The task here: fit y = sin(pi x) on 32 points evenly spaced in [-1, 1], fitness = -MSE. The
network is rebuilt from the header: the spec (JSON) gives the layers, the tensor table gives where
each parameter sits in the genome (PyTorch names: "0.weight" [out, in], "0.bias", "2.weight", ...).
This example handles linear layers, flatten and the activations; use it with a network of one
input and one output, e.g.

    atoll evaluate --task "external:python3 examples/external_evaluator.py" \
        --network mlp:1-16-1:tanh --weights net.safetensors

Everything written to stdout is protocol; log to stderr.
"""

import json
import math
import struct
import sys

import numpy as np

MAGIC = b"ATOLLEV1"
VERSION = 1


def read_exactly(stream, n):
    data = stream.read(n)
    if data is None or len(data) < n:
        return None  # Atoll closed our stdin: the session is over
    return data


def read_u32(stream):
    data = read_exactly(stream, 4)
    return None if data is None else struct.unpack("<I", data)[0]


def read_header(stream):
    """Returns (parameter_count, spec_json, tensors), tensors a list of (name, shape, offset)."""
    if read_exactly(stream, 8) != MAGIC:
        sys.exit("external_evaluator: the input does not start with the ATOLLEV1 header")
    version = read_u32(stream)
    if version != VERSION:
        sys.exit(f"external_evaluator: protocol version {version}, this program speaks {VERSION}")
    parameter_count = read_u32(stream)
    spec_json = read_exactly(stream, read_u32(stream)).decode("utf-8")
    tensors = []
    for _ in range(read_u32(stream)):
        name = read_exactly(stream, read_u32(stream)).decode("utf-8")
        rank = read_u32(stream)
        shape = struct.unpack(f"<{rank}I", read_exactly(stream, 4 * rank)) if rank else ()
        offset = read_u32(stream)
        tensors.append((name, tuple(shape), offset))
    return parameter_count, spec_json, tensors


def build_forward(spec, tensors):
    """A function (genome, x [B, in]) -> outputs [B, out] for a spec of linear layers, flatten and
    activations, using the tensor offsets from the header (PyTorch names: "<layer>.weight")."""
    where = {name: (shape, offset) for name, shape, offset in tensors}
    steps = []
    for index, layer in enumerate(spec["layers"]):
        if isinstance(layer, dict) and "linear" in layer:
            w_shape, w_offset = where[f"{index}.weight"]
            weight = (slice(w_offset, w_offset + w_shape[0] * w_shape[1]), w_shape)
            b = where.get(f"{index}.bias")
            bias = slice(b[1], b[1] + b[0][0]) if b else None
            steps.append(("linear", weight, bias))
        elif layer in ACTIVATIONS or layer == "flatten":
            steps.append((layer, None, None))
        else:
            sys.exit(f"external_evaluator: layer {index} ({layer}) is not supported by this example")

    def forward(genome, x):
        h = x
        for kind, weight, bias in steps:
            if kind == "linear":
                h = h @ genome[weight[0]].reshape(weight[1]).T
                if bias is not None:
                    h = h + genome[bias]
            elif kind != "flatten":
                h = ACTIVATIONS[kind](h)
        return h

    return forward


def log_softmax(h):
    shifted = h - h.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


ACTIVATIONS = {
    "relu": lambda h: np.maximum(h, 0),
    "tanh": np.tanh,
    "sigmoid": lambda h: 1 / (1 + np.exp(-h)),
    "gelu": lambda h: 0.5 * h * (1 + np.vectorize(math.erf)(h / math.sqrt(2))),
    "softmax": lambda h: np.exp(log_softmax(h)),
    "log_softmax": log_softmax,
}


def fitness(forward, genome, x, y):
    """-MSE of the network's first output against y."""
    return -float(np.mean((forward(genome, x)[:, 0] - y) ** 2))


def main():
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    parameter_count, spec_json, tensors = read_header(stdin)
    forward = build_forward(json.loads(spec_json), tensors)
    x = np.linspace(-1.0, 1.0, 32, dtype=np.float32).reshape(-1, 1)
    y = np.sin(np.pi * x[:, 0]).astype(np.float32)
    stdout.write(MAGIC + struct.pack("<I", VERSION))
    stdout.flush()
    while True:
        prefix = read_exactly(stdin, 16)
        if prefix is None:
            return
        count, _generation, _seed = struct.unpack("<IIQ", prefix)
        genomes = np.frombuffer(read_exactly(stdin, 4 * count * parameter_count), dtype="<f4")
        genomes = genomes.reshape(count, parameter_count)
        scores = np.array([fitness(forward, g, x, y) for g in genomes], dtype="<f4")
        stdout.write(struct.pack("<I", count) + scores.tobytes())
        stdout.flush()


if __name__ == "__main__":
    main()
