"""Reading safetensors files into torch tensors, shared by the torch peers
(the callers import torch first, with their own message when it is missing)."""
import json
import struct

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64}


def read_safetensors(path):
    """(tensors by name, in their stored precision, metadata) of a safetensors
    file with F32/F64 tensors, read directly: an 8-byte little-endian header
    size, a JSON header, then the raw data."""
    with open(path, "rb") as file:
        content = file.read()
    (size,) = struct.unpack("<Q", content[:8])
    header = json.loads(content[8:8 + size])
    metadata = header.pop("__metadata__", None) or {}
    data = content[8 + size:]
    tensors = {}
    for name, info in header.items():
        if info["dtype"] not in DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}; only F32 and F64 are read")
        start, end = info["data_offsets"]
        flat = torch.frombuffer(bytearray(data[start:end]), dtype=DTYPES[info["dtype"]])
        tensors[name] = flat.reshape(info["shape"])
    return tensors, metadata


def load_safetensors(path):
    """The tensors of a safetensors file (F32 or F64), without its metadata."""
    return read_safetensors(path)[0]
