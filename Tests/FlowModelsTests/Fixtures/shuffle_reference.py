"""Reference epoch permutations for BatchSampler, from an independent
Python implementation of the same algorithms (Benchmarks/peers/seeded_random.py):
SplitMix64 seeding, xoshiro256** (Blackman & Vigna 2018), Lemire's bounded
integers (2019) and the Fisher-Yates shuffle from the last position down.

Run once: python3 shuffle_reference.py  (writes shuffle_reference.json)
"""
import json
import os
import sys

# The algorithms live in one place for the fixtures and the PyTorch peers.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../Benchmarks/peers"))
from seeded_random import epoch_permutation  # noqa: E402

cases = [
    {"count": count, "seed": seed, "epoch": epoch, "permutation": epoch_permutation(count, seed, epoch)}
    for count, seed, epoch in [(10, 42, 0), (10, 42, 3), (10, 7, 0), (1, 5, 0), (37, 2026, 11)]
]
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "shuffle_reference.json"), "w") as f:
    json.dump(cases, f, indent=1)
    f.write("\n")
