"""Fixtures cdflow_peer_<case>.safetensors for CDFlowPeerTests: small CDFlow
models built by the PyTorch peer (Benchmarks/peers/cdflow_model.py, an
independent implementation of the same architecture), every parameter
perturbed away from its initial value, with a batch of dequantised images
and what PyTorch computes for them, all in float64:

  <Swift parameter names>              the parameters
  <….diagonals.j.sign, ….circulants.j.sign, ….permutation, ….sign>
                                       the fixed signs and permutations
  input.x                              [3, channels, height, width], in [−½, ½)
  expected.logProbability              [3], log p(x) in nats
  expected.gradient.<name>             ∂ mean(−log p(x)) / ∂ parameter
  expected.initialized.<ActNorm name>  ActNorm's data-dependent initialisation on x
  expected.initializedLogProbability   [3], log p(x) after it
  metadata: configuration (CDFlowConfiguration JSON), dtype

Run with a Python that has torch (the peers' venv):
    .venv-peers/bin/python Tests/FlowModelsTests/Fixtures/make_cdflow_peer_fixtures.py
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "Benchmarks", "peers"))
import cdflow_model as cdflow  # noqa: E402

CASES = {
    # Three levels, so a MultiScale nests inside another (16 channels at 1×1 last).
    "cd2": dict(channels=1, height=8, width=8, levels=3, stepsPerLevel=2, hiddenChannels=4, mixer="cd:2",
                couplingScale="sigmoid", learnedSplitPrior=True, seed=11),
    # Three diagonal factors, three image channels (12 and 24 mixed), the soft clamp.
    "cd3": dict(channels=3, height=4, width=4, levels=2, stepsPerLevel=1, hiddenChannels=4, mixer="cd:3",
                couplingScale="softClamp:2.0", learnedSplitPrior=True, seed=12),
    "lu": dict(channels=1, height=8, width=8, levels=2, stepsPerLevel=2, hiddenChannels=4, mixer="lu",
               couplingScale="sigmoid", learnedSplitPrior=True, seed=13),
    # The N(0, I) split (no split parameters).
    "dense": dict(channels=1, height=8, width=8, levels=2, stepsPerLevel=2, hiddenChannels=4, mixer="dense",
                  couplingScale="sigmoid", learnedSplitPrior=False, seed=14),
    "reverse": dict(channels=1, height=8, width=8, levels=2, stepsPerLevel=2, hiddenChannels=4, mixer="reverse",
                    couplingScale="softClamp:3.0", learnedSplitPrior=True, seed=15),
}


def make(name, configuration):
    torch.manual_seed(configuration["seed"])
    model = cdflow.CDFlow(configuration).double()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.2)
    pixels = torch.randint(0, 256, (3, configuration["channels"], configuration["height"], configuration["width"]))
    x = cdflow.dequantize(pixels.double())
    tensors = {key: value.clone() for key, value in model.state_dict().items()}
    tensors["input.x"] = x
    log_probability = model.log_probability(x)
    tensors["expected.logProbability"] = log_probability.detach()
    model.negative_log_likelihood(x).backward()
    for key, parameter in model.named_parameters():
        tensors[f"expected.gradient.{key}"] = parameter.grad
    model.initialize(x)
    state = model.state_dict()
    for key in state:
        if key.endswith((".logScale", ".bias")) and isinstance(model.get_submodule(key.rsplit(".", 1)[0]), cdflow.ActNorm):
            tensors[f"expected.initialized.{key}"] = state[key].clone()
    tensors["expected.initializedLogProbability"] = model.log_probability(x).detach()
    metadata = {"configuration": json.dumps(configuration, sort_keys=True, separators=(",", ":")), "dtype": "float64"}
    cdflow.write_safetensors(os.path.join(HERE, f"cdflow_peer_{name}.safetensors"), tensors, metadata)
    print(name, f"{sum(p.numel() for p in model.parameters())} parameters, log p = {log_probability.tolist()}")


for name, configuration in CASES.items():
    make(name, configuration)
