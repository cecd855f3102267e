"""FlowTensor's SeededGenerator and FlowModels' BatchSampler permutations in
plain Python (no numpy, no torch): SplitMix64 seeding, xoshiro256**
(Blackman & Vigna 2018), Lemire's bounded integers (2019) and the
Fisher-Yates shuffle from the last position down. Used by cdflow_model.py
and by the fixture scripts shuffle_reference.py,
make_rectangular_peer_fixtures.py and make_random_fixtures.py."""

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def seeded_state(seed):
    """xoshiro256**'s four words from SplitMix64 (SeededGenerator(seed:))."""
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
    """xoshiro256**'s next output; advances the state `s` in place."""
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
    """A uniform integer in [0, bound) by Lemire's multiply-and-reject."""
    product = next_word(s) * bound
    low = product & MASK
    if low < bound:
        threshold = ((1 << 64) - bound) % bound
        while low < threshold:
            product = next_word(s) * bound
            low = product & MASK
    return product >> 64


def epoch_permutation(count, seed, epoch):
    """BatchSampler.permutation(count:seed:epoch:)."""
    s = seeded_state((seed + epoch * GOLDEN) & MASK)
    order = list(range(count))
    for i in range(count - 1, 0, -1):
        j = uniform_below(s, i + 1)
        order[i], order[j] = order[j], order[i]
    return order
