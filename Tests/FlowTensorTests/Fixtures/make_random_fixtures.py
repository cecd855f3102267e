"""Reference stream of SeededGenerator (xoshiro256** seeded by SplitMix64).

An independent implementation in Python integers, so the Swift generator's
stream is checked against something other than itself. Writes
random_stream.json. Run: python3 make_random_fixtures.py
"""
import json
import math
import os
import sys

# The generator lives in one place for the fixtures and the PyTorch peers.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../Benchmarks/peers"))
from seeded_random import next_word, seeded_state  # noqa: E402


def xoshiro(seed, count):
    s = seeded_state(seed)
    return [next_word(s) for _ in range(count)]


def normals(seed, count):
    """Box-Muller exactly as Tensor.randomNormal computes it, in doubles."""
    words = xoshiro(seed, count + 1)
    values = []
    i = 0
    while len(values) < count:
        u_open = ((words[i] >> 11) + 1) * 2.0**-53
        u = (words[i + 1] >> 11) * 2.0**-53
        radius = math.sqrt(-2.0 * math.log(u_open))
        angle = 2.0 * math.pi * u
        values.append(radius * math.cos(angle))
        values.append(radius * math.sin(angle))
        i += 2
    return values[:count]


fixture = {
    "seeds": {
        str(seed): {
            # JSON numbers lose precision past 2^53: store words as strings.
            "words": [str(w) for w in xoshiro(seed, 8)],
            "normals": normals(seed, 6),
        }
        for seed in (0, 1, 42, 2**64 - 1)
    }
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "random_stream.json")
with open(path, "w") as f:
    json.dump(fixture, f, indent=1)
print("wrote", path)
