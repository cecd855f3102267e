"""Reference stream of SeededGenerator (xoshiro256** seeded by SplitMix64).

An independent implementation in Python integers, so the Swift generator's
stream is checked against something other than itself. Writes
random_stream.json. Run: python3 make_random_fixtures.py
"""
import json
import math
import os

MASK = (1 << 64) - 1


def splitmix_states(seed):
    state = seed
    words = []
    for _ in range(4):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        words.append(z ^ (z >> 31))
    return words


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


def xoshiro(seed, count):
    s = splitmix_states(seed)
    out = []
    for _ in range(count):
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        out.append(result)
    return out


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
