"""Reference epoch permutations for BatchSampler, from an independent
Python implementation of the same algorithms: SplitMix64 seeding,
xoshiro256** (Blackman & Vigna 2018), Lemire's bounded integers (2019) and
the Fisher-Yates shuffle from the last position down.

Run once: python3 shuffle_reference.py  (writes shuffle_reference.json)
"""
import json
import os

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def seeded_state(seed):
    state = []
    for _ in range(4):
        seed = (seed + GOLDEN) & MASK
        z = seed
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        state.append(z ^ (z >> 31))
    return state


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


def next_word(s):
    result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
    t = (s[1] << 17) & MASK
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 45)
    return result


def uniform_below(s, bound):
    product = next_word(s) * bound
    low = product & MASK
    if low < bound:
        threshold = ((1 << 64) - bound) % bound
        while low < threshold:
            product = next_word(s) * bound
            low = product & MASK
    return product >> 64


def permutation(count, seed, epoch):
    s = seeded_state((seed + epoch * GOLDEN) & MASK)
    order = list(range(count))
    for i in range(count - 1, 0, -1):
        j = uniform_below(s, i + 1)
        order[i], order[j] = order[j], order[i]
    return order


cases = [
    {"count": count, "seed": seed, "epoch": epoch, "permutation": permutation(count, seed, epoch)}
    for count, seed, epoch in [(10, 42, 0), (10, 42, 3), (10, 7, 0), (1, 5, 0), (37, 2026, 11)]
]
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "shuffle_reference.json"), "w") as f:
    json.dump(cases, f, indent=1)
    f.write("\n")
