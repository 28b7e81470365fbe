#!/usr/bin/env python3
"""Checks that a safetensors file written by `atoll export` loads in Python unchanged.

Usage: python3 scripts/check_safetensors_roundtrip.py FILE.safetensors GENOME.npy

Loads FILE with the `safetensors` package (numpy backend), rebuilds the PyTorch nn.Sequential
parameter names and shapes from the spec Atoll stores in __metadata__["atoll.network"] (an
independent re-implementation of the layout), and checks: the names and shapes match, every tensor
is float32, and concatenating the tensors in state_dict order gives GENOME.npy bit for bit.
Exits non-zero on the first mismatch. Not run by the Swift tests (they must not need Python).
"""
import json
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file


def layout(spec):
    """[(name, shape)] in nn.Sequential state_dict order."""
    shape = list(spec["input"])
    tensors = []
    for index, layer in enumerate(spec["layers"]):
        if isinstance(layer, dict) and "linear" in layer:
            cfg = layer["linear"]
            out, bias = (cfg, True) if isinstance(cfg, int) else (cfg["out"], cfg.get("bias", True))
            tensors.append((f"{index}.weight", (out, shape[0])))
            if bias:
                tensors.append((f"{index}.bias", (out,)))
            shape = [out]
        elif isinstance(layer, dict) and "conv2d" in layer:
            c = layer["conv2d"]
            k, s, p = c["kernel"], c.get("stride", 1), c.get("padding", 0)
            tensors.append((f"{index}.weight", (c["out_channels"], shape[0], k, k)))
            tensors.append((f"{index}.bias", (c["out_channels"],)))
            shape = [c["out_channels"], (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1]
        elif layer == "flatten":
            shape = [int(np.prod(shape))]
    return tensors


def main(path, genome_path):
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata() or {}
    spec = json.loads(metadata["atoll.network"])
    loaded = load_file(path)
    genome = np.load(genome_path)
    expected = layout(spec)
    assert sorted(loaded) == sorted(n for n, _ in expected), f"names {sorted(loaded)} != {expected}"
    for name, shape in expected:
        assert loaded[name].dtype == np.float32, f"{name} is {loaded[name].dtype}"
        assert loaded[name].shape == shape, f"{name} has shape {loaded[name].shape}, expected {shape}"
    flat = np.concatenate([loaded[n].reshape(-1) for n, _ in expected])
    assert flat.shape == genome.shape and genome.dtype == np.float32, f"{flat.shape} vs {genome.shape} {genome.dtype}"
    assert np.array_equal(flat.view(np.uint32), genome.view(np.uint32)), "values differ"
    print(f"OK: {path} loads with safetensors {__import__('safetensors').__version__}: "
          f"{len(expected)} float32 tensors, {flat.size} values identical to {genome_path}; "
          f"metadata keys {sorted(metadata)}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
