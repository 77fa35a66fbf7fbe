"""Reads a safetensors file with numpy alone (no `safetensors` package): the
models the Burn parts export in PyTorch's layout. Imported by the parts'
PyTorch reference scripts for their `evaluate` modes (needs torch, numpy).

The format: 8 bytes, the header's length (a little-endian u64); the header,
JSON naming each tensor's dtype, shape and byte range in the data, with
free-form text under `__metadata__`; then the data."""
import json
import struct

import numpy as np
import torch

DTYPES = {"F32": "<f4"}


def read_safetensors(path):
    """The tensors of the file at `path`, by name, and its metadata."""
    try:
        raw = open(path, "rb").read()
        (length,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8:8 + length])
    except (OSError, struct.error, ValueError) as e:
        raise SystemExit(f"error: {path}: not a readable safetensors file: {e}")
    data = raw[8 + length:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        values = np.frombuffer(data[begin:end], DTYPES[entry["dtype"]])
        tensors[name] = torch.from_numpy(values.reshape(entry["shape"]).astype(np.float32))
    return tensors, metadata


def load_exported(path, build):
    """The exported model at `path` in the module `build(config)` makes for
    its configuration (the metadata's `model`: model.json's content, as a
    dict); `build` returns a sentence saying what is wrong instead when the
    script has no module for that configuration."""
    tensors, metadata = read_safetensors(path)
    if "model" not in metadata:
        raise SystemExit(f"error: {path}: no model configuration in its metadata")
    model = build(json.loads(metadata["model"]))
    if isinstance(model, str):
        raise SystemExit(f"error: {path}: {model}")
    model.load_state_dict(tensors)
    return model
