"""Writes tarflowlm_peer_<case>.safetensors: small TarFlowLM models (affine,
Mix-1 with patches of 2, Mix-d) and a charlm baseline built by the PyTorch
peer (Benchmarks/peers/torch_tarflowlm.py) in float64, every parameter
perturbed, under Swift's parameter names, with a batch and what PyTorch
computes for it. TarFlowLMPeerTests loads them into Swift models.

Tensors: the parameters; `input.tokens` [batch, length] (exact integers),
`input.noise` (the encoder's ε) and `input.baseNoise` (generation's base
sample) for TarFlowLM; `expected.loss` [1] (bits per character),
`expected.gradient.<parameter>`, `expected.generated` (tokens: TarFlowLM's
argmax decoding of `expected.generatedLatents`, the base noise through the
inverted flows; charlm's cached generation at temperature 0). Metadata:
`model` (tarflowlm or charlm) and `configuration` (Swift's JSON).

    .venv-peers/bin/python Tests/FlowModelsTests/Fixtures/make_tarflowlm_peer_fixtures.py
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "Benchmarks", "peers"))

import torch  # noqa: E402
import torch_tarflowlm as peer  # noqa: E402


def flow_configuration(transform, patch, seed):
    return {"vocabularySize": 27, "latentDimension": 3, "length": 8, "blockCount": 2, "layersPerBlock": 1,
            "width": 8, "headCount": 2, "transform": transform, "mixtureComponents": 3, "mixtureHiddenSize": 8,
            "patchSize": patch, "initialScale": 0.5, "frozenBlockCount": 0, "seed": seed}


CASES = {
    "affine": ("tarflowlm", flow_configuration("affine", 1, 1)),
    "mix1": ("tarflowlm", flow_configuration("mix1", 2, 2)),
    "mixd": ("tarflowlm", flow_configuration("mixd", 1, 3)),
    "charlm": ("charlm", {"vocabularySize": 27, "length": 8, "layerCount": 2, "width": 8, "headCount": 2, "seed": 4}),
}


def write_safetensors(path, tensors, metadata):
    """float64 tensors in the safetensors layout (names sorted, data packed)."""
    header = {"__metadata__": metadata}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        data = tensors[name].detach().to(torch.float64).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F64", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks))


def main():
    torch.set_default_dtype(torch.float64)
    for index, (name, (kind, configuration)) in enumerate(CASES.items()):
        torch.manual_seed(100 + index)
        model = peer.make_model(kind, configuration)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.add_(0.02 * torch.randn_like(parameter))
        batch, length = 2, configuration["length"]
        tokens = torch.randint(0, 27, (batch, length))
        tensors = {parameter_name: value.detach().clone() for parameter_name, value in model.named_parameters()}
        tensors["input.tokens"] = tokens.double()
        if kind == "charlm":
            loss = model.bits_per_character(tokens)
        else:
            noise = torch.randn(batch, length, configuration["latentDimension"])
            tensors["input.noise"] = noise
            loss = model.bits_per_character(tokens, noise)
        loss.backward()
        tensors["expected.loss"] = loss.detach().reshape(1)
        for parameter_name, parameter in model.named_parameters():
            tensors[f"expected.gradient.{parameter_name}"] = parameter.grad
        if kind == "charlm":
            tensors["expected.generated"] = model.generate(batch, length, 0).double()
        else:
            base_noise = torch.randn(batch, length, configuration["latentDimension"])
            states, latents = model.generate_from(base_noise)
            tensors["input.baseNoise"] = base_noise
            tensors["expected.generatedLatents"] = latents
            tensors["expected.generated"] = states[-1].double()
        path = os.path.join(HERE, f"tarflowlm_peer_{name}.safetensors")
        write_safetensors(path, tensors, {"model": kind, "configuration": json.dumps(configuration)})
        print(f"{path}: loss {loss.item():.6f} bits/char, {sum(p.numel() for p in model.parameters())} parameters")


if __name__ == "__main__":
    main()
