"""Writes markov_entropy_rate.json: Markov chains with their stationary
distributions and entropy rates, computed independently of the Swift code.

Each chain's transition table is drawn here with numpy (softmax of scaled
normal logits); the Swift test rebuilds `MarkovSource` from the table. The
stationary distribution solves π(T − I) = 0, Σπ = 1 over the full
state-to-state matrix T (a least-squares solve of the stacked system, not a
power iteration), and the entropy rate is
H = −Σ_s π_s Σ_t P(t|s) log₂ P(t|s) (Cover & Thomas, Theorem 4.2.4).

Run: python3 markov_entropy_rate.py   (numpy 2.x)
"""

import json
import os

import numpy as np

CASES = [
    # (order, alphabet size, sharpness, numpy seed)
    (0, 27, 1.0, 1),
    (1, 27, 1.5, 2),
    (2, 5, 2.0, 3),
    (3, 3, 3.0, 4),
]


def chain(order, alphabet, sharpness, seed):
    rng = np.random.default_rng(seed)
    states = alphabet ** order
    logits = sharpness * rng.standard_normal((states, alphabet))
    logits -= logits.max(axis=1, keepdims=True)
    table = np.exp(logits)
    table /= table.sum(axis=1, keepdims=True)
    return table


def stationary(table, order, alphabet):
    states = table.shape[0]
    full = np.zeros((states, states))
    for state in range(states):
        for symbol in range(alphabet):
            following = (state * alphabet + symbol) % states if order > 0 else 0
            full[state, following] += table[state, symbol]
    system = np.vstack([(full - np.eye(states)).T, np.ones((1, states))])
    right = np.zeros(states + 1)
    right[-1] = 1
    solution, *_ = np.linalg.lstsq(system, right, rcond=None)
    return solution


def main():
    cases = []
    for order, alphabet, sharpness, seed in CASES:
        table = chain(order, alphabet, sharpness, seed)
        pi = stationary(table, order, alphabet)
        rate = float(-(pi[:, None] * table * np.log2(table)).sum())
        cases.append({
            "order": order,
            "alphabetSize": alphabet,
            "transitions": [float(value) for value in table.ravel()],
            "stationary": [float(value) for value in pi],
            "entropyRate": rate,
        })
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "markov_entropy_rate.json")
    with open(path, "w") as handle:
        json.dump(cases, handle)
        handle.write("\n")


if __name__ == "__main__":
    main()
