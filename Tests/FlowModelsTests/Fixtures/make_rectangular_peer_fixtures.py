"""Fixtures rectangular_peer_<case>.safetensors for RectangularPeerTests:
small rectangular flows built by the PyTorch peer
(Benchmarks/peers/torch_rectangular.py, an independent implementation of
the model of Sources/FlowModels/Rectangular/), every parameter perturbed
away from its initial value (so that g is no longer the padding), with a
batch, Hutchinson probes and what PyTorch computes for them, in float64:

  <Swift parameter names>               the parameters (Dense weights [in, out])
  input.x                               [4, D], uniform in [−½, ½)
  input.epsilon                         [K, 4, d]: the probes Swift's stochastic
                                        loss draws first from SeededGenerator(seed:
                                        probeSeed) (xoshiro256** seeded by SplitMix64,
                                        Box–Muller in Double, ported below)
  expected.<estimator>.loss             [], the loss at full likelihood weight
  expected.<estimator>.gradient.<name>  its gradient
  metadata: indices (the padding's permutation), latentSize, couplingLayers,
            hiddenSizes, priorCouplingLayers, priorHiddenSizes, probes,
            probeSeed, beta, tolerance, cgIterations

Run with a Python that has torch (the peers' venv):
    .venv-peers/bin/python Tests/FlowModelsTests/Fixtures/make_rectangular_peer_fixtures.py
"""
import json
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "Benchmarks", "peers"))
import torch_rectangular as peer  # noqa: E402
from cdflow_model import write_safetensors  # noqa: E402
from seeded_random import next_word, seeded_state  # noqa: E402

CASES = {
    # Three latent dimensions, two probes, couplings with one hidden layer.
    "d3": dict(ambient=12, latent=3, couplings=3, hidden=[8], prior_couplings=2, prior_hidden=[6], probes=2,
               seed=31, probe_seed=131),
    # d = 1: the prior is the learnable scalar affine map; two hidden layers, odd D.
    "d1": dict(ambient=7, latent=1, couplings=2, hidden=[5, 4], prior_couplings=3, prior_hidden=[4], probes=1,
               seed=32, probe_seed=132),
}
BETA = 50.0
TOLERANCE = 1e-3
BATCH = 4


class SeededGenerator:
    """FlowTensor's SeededGenerator: xoshiro256** seeded by four SplitMix64 outputs."""

    def __init__(self, seed):
        self.s = seeded_state(seed)

    def next(self):
        return next_word(self.s)

    def random_normal(self, count):
        """Tensor.randomNormal(shape:using:): Box–Muller on (open unit, unit) pairs."""
        values = []
        while len(values) < count:
            radius = math.sqrt(-2 * math.log(((self.next() >> 11) + 1) * 2.0 ** -53))
            angle = 2 * math.pi * ((self.next() >> 11) * 2.0 ** -53)
            values += [radius * math.cos(angle), radius * math.sin(angle)]
        return values[:count]


def make(name, case):
    torch.manual_seed(case["seed"])
    generator = torch.Generator().manual_seed(case["seed"])
    indices = torch.randperm(case["ambient"], generator=generator)
    model = peer.RectangularFlow(case["latent"], case["ambient"], case["couplings"], case["hidden"],
                                 case["prior_couplings"], case["prior_hidden"], indices).double()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator, dtype=torch.float64))
    x = torch.rand(BATCH, case["ambient"], generator=generator, dtype=torch.float64) - 0.5
    shape = (case["probes"], BATCH, case["latent"])
    epsilon = torch.tensor(SeededGenerator(case["probe_seed"]).random_normal(math.prod(shape)),
                           dtype=torch.float64).reshape(shape)
    settings = {"probes": case["probes"], "tolerance": TOLERANCE, "maximum_iterations": None, "beta": BETA}

    tensors = {name: (value.T if peer.is_dense_weight(model, name) else value).detach().clone()
               for name, value in model.named_parameters()}
    tensors["input.x"] = x
    tensors["input.epsilon"] = epsilon
    iterations = None
    for estimator in ("exact", "stochastic"):
        model.zero_grad(set_to_none=True)
        value, count = peer.loss(model, x, estimator, settings, 1.0, epsilon=epsilon)
        value.backward()
        if count is not None:
            iterations = count
        tensors[f"expected.{estimator}.loss"] = value.detach().clone()
        for parameter_name, parameter in model.named_parameters():
            tensors[f"expected.{estimator}.gradient.{parameter_name}"] = \
                peer.swift_gradient(model, parameter_name, parameter.grad).clone()
    metadata = {
        "indices": json.dumps(indices.tolist()), "latentSize": str(case["latent"]),
        "couplingLayers": str(case["couplings"]), "hiddenSizes": json.dumps(case["hidden"]),
        "priorCouplingLayers": str(case["prior_couplings"]), "priorHiddenSizes": json.dumps(case["prior_hidden"]),
        "probes": str(case["probes"]), "probeSeed": str(case["probe_seed"]), "beta": str(BETA),
        "tolerance": str(TOLERANCE), "cgIterations": str(iterations),
    }
    path = os.path.join(HERE, f"rectangular_peer_{name}.safetensors")
    write_safetensors(path, tensors, metadata)
    print(f"{path}: exact loss {tensors['expected.exact.loss'].item():.6f}, "
          f"stochastic loss {tensors['expected.stochastic.loss'].item():.6f}, {iterations} CG iterations")


if __name__ == "__main__":
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    for case_name, case in CASES.items():
        make(case_name, case)
