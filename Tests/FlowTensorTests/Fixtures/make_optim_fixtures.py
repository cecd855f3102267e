"""Writes optim_steps.json: multi-step sequences of SGD, Adam and AdamW on a
two-parameter model, replicating torch.optim's single-tensor formulas
(torch/optim/sgd.py `_single_tensor_sgd`, adam.py `_single_tensor_adam`,
AdamW = Adam with `param.mul_(1 - lr * weight_decay)` first) in float64.

A parameter whose gradient is None at a step is skipped, as torch skips
parameters with `p.grad is None`: it keeps its value, its state and its
step count.

Run from this directory: python3 make_optim_fixtures.py
"""
import json
import math

import numpy as np

rng = np.random.default_rng(20261129)
SHAPES = {"weight": (2, 3), "bias": (3,)}
STEPS = 4
initial = {name: rng.standard_normal(shape) for name, shape in SHAPES.items()}
gradients = []
for step in range(STEPS):
    # "bias" has no gradient at step 1 (0-based).
    gradients.append({name: rng.standard_normal(shape) for name, shape in SHAPES.items()
                      if not (name == "bias" and step == 1)})


def sgd(config):
    lr, momentum = config["learningRate"], config.get("momentum", 0.0)
    dampening, nesterov = config.get("dampening", 0.0), config.get("nesterov", False)
    weight_decay = config.get("weightDecay", 0.0)
    params = {k: v.copy() for k, v in initial.items()}
    state = {}
    history = []
    for grads in gradients:
        for name, grad in grads.items():
            p = params[name]
            g = grad.copy()
            if weight_decay != 0:
                g = g + weight_decay * p
            if momentum != 0:
                buf = state.get(name + ".momentum_buffer")
                if buf is None:
                    buf = g.copy()
                else:
                    buf = buf * momentum + (1 - dampening) * g
                state[name + ".momentum_buffer"] = buf
                g = g + momentum * buf if nesterov else buf
            params[name] = p + (-lr) * g
        history.append({k: v.copy() for k, v in params.items()})
    return history, state


def adam(config, decoupled):
    lr = config["learningRate"]
    beta1, beta2 = config.get("beta1", 0.9), config.get("beta2", 0.999)
    eps = config.get("epsilon", 1e-8)
    weight_decay = config.get("weightDecay", 1e-2 if decoupled else 0.0)
    params = {k: v.copy() for k, v in initial.items()}
    state = {}
    history = []
    for grads in gradients:
        for name, grad in grads.items():
            p = params[name]
            g = grad.copy()
            m = state.get(name + ".exp_avg", np.zeros_like(p))
            v = state.get(name + ".exp_avg_sq", np.zeros_like(p))
            t = state.get(name + ".step", 0) + 1
            if decoupled:
                p = p * (1 - lr * weight_decay)
            elif weight_decay != 0:
                g = g + weight_decay * p
            w = 1 - beta1  # torch.lerp's two branches
            m = m + w * (g - m) if abs(w) < 0.5 else g - (g - m) * (1 - w)
            v = v * beta2 + (1 - beta2) * g * g
            step_size = lr / (1 - beta1 ** t)
            denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps
            params[name] = p + (-step_size) * (m / denom)
            state[name + ".exp_avg"], state[name + ".exp_avg_sq"], state[name + ".step"] = m, v, t
        history.append({k: v.copy() for k, v in params.items()})
    return history, state


CASES = [
    ("sgd", "plain", {"learningRate": 0.1}),
    ("sgd", "momentum", {"learningRate": 0.1, "momentum": 0.9}),
    ("sgd", "dampening", {"learningRate": 0.05, "momentum": 0.8, "dampening": 0.3}),
    ("sgd", "nesterov", {"learningRate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("sgd", "weight decay", {"learningRate": 0.1, "weightDecay": 0.05}),
    ("sgd", "nesterov with weight decay", {"learningRate": 0.1, "momentum": 0.5, "nesterov": True,
                                           "weightDecay": 0.05}),
    ("adam", "defaults", {"learningRate": 0.01}),
    ("adam", "weight decay", {"learningRate": 0.01, "beta1": 0.8, "beta2": 0.99, "weightDecay": 0.1}),
    ("adam", "small beta1", {"learningRate": 0.02, "beta1": 0.3, "beta2": 0.9, "epsilon": 1e-3}),
    ("adamw", "defaults", {"learningRate": 0.01}),
    ("adamw", "strong decay", {"learningRate": 0.05, "beta1": 0.85, "weightDecay": 0.5}),
]


def tensor(array):
    array = np.asarray(array, dtype=np.float64)
    return {"shape": list(array.shape), "values": [float(x) for x in array.ravel()]}


cases = []
for optimizer, name, config in CASES:
    if optimizer == "sgd":
        history, state = sgd(config)
    else:
        history, state = adam(config, decoupled=optimizer == "adamw")
    cases.append({
        "optimizer": optimizer, "name": name, "config": config,
        "expected": [{k: tensor(v) for k, v in params.items()} for params in history],
        "state": {k: tensor(v) for k, v in state.items()},
    })

fixture = {
    "initial": {k: tensor(v) for k, v in initial.items()},
    "gradients": [{k: tensor(v) for k, v in grads.items()} for grads in gradients],
    "cases": cases,
}
with open("optim_steps.json", "w") as file:
    json.dump(fixture, file, indent=1)
