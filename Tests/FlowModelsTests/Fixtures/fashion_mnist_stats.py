"""Statistics of Debian's Fashion-MNIST files, independent of the Swift reader.

Run once: python3 fashion_mnist_stats.py [directory]
Writes fashion_mnist_stats.json beside this script.
"""
import gzip
import json
import os
import sys

import numpy as np

directory = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
stats = {}
for split, prefix in (("train", "train"), ("test", "t10k")):
    with gzip.open(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz")) as f:
        raw = f.read()
    magic, count, rows, cols = np.frombuffer(raw[:16], dtype=">u4")
    assert magic == 0x803
    images = np.frombuffer(raw[16:], dtype=np.uint8).reshape(count, rows, cols)
    with gzip.open(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz")) as f:
        raw = f.read()
    assert np.frombuffer(raw[:4], dtype=">u4")[0] == 0x801
    labels = np.frombuffer(raw[8:], dtype=np.uint8)
    stats[split] = {
        "shape": [int(count), 1, int(rows), int(cols)],
        "meanPixel": float(images.astype(np.float64).mean()),
        "pixelSum": int(images.astype(np.int64).sum()),
        "labelCounts": np.bincount(labels, minlength=10).astype(int).tolist(),
        "firstLabels": labels[:10].astype(int).tolist(),
        "firstImagePixelSum": int(images[0].astype(np.int64).sum()),
        "lastImagePixelSum": int(images[-1].astype(np.int64).sum()),
    }

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fashion_mnist_stats.json"), "w") as f:
    json.dump(stats, f, indent=2)
    f.write("\n")
