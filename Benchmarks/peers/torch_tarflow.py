"""PyTorch peer of `flowbench tarflow`: the same TarFlow block (affine
transform) in eager PyTorch on the CPU, written to match
Sources/FlowLayers/Autoregressive/TransformerAutoregressiveFlow.swift:

    input projection + learned positional embedding, `layers` pre-LayerNorm
    causal transformer layers (multi-head attention through
    torch.nn.functional.scaled_dot_product_attention, exact-GELU MLP of
    4·width), final LayerNorm, zero-initialised output projection to
    2·channels (shift μ, log-scale α), shifted right by one position;
    z = (x − μ)·exp(−α), log-det = −Σα; log-likelihood under N(0, I).

Cases (rows `torch-affine`, and `torch-affine-tuned` from a child process
started with MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ = 1e9, so that
glibc keeps freed large blocks instead of returning them to the kernel):

    training-step     forward, negative mean log-likelihood, backward, Adam step
    sample-cached     the inverse of a whole [batch, length, channels] base
                      sample, position by position, keys and values cached
    sample-uncached   the same, rerunning the network on the whole prefix at
                      every position

`check FILE PARAMETERS` instead loads a Swift block's parameters (saved by
`Layer.save`, names mapped below) and the input and log-likelihoods it
computed, and prints the largest differences as JSON (see
`flowbench tarflow --check`).

Prints one JSON object in flowbench's format. Exits with status 3 and a
sentence on stderr when this Python has no torch.

    python torch_tarflow.py --batch 32 --length 256 --channels 16 --layers 4 --width 256 --heads 4
"""
import argparse
import json
import math
import os
import sys
from peer_timing import measure, run_with_tuning, summary, torch_notes

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write(f"{sys.executable} has no torch (make peers-torch installs it into .venv-peers)\n")
    sys.exit(3)

from torch_safetensors import load_safetensors


class Attention(torch.nn.Module):
    """Multi-head causal self-attention, queries/keys/values from one
    projection laid out as the Swift layer's ([.., 3, heads, headSize])."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.query_key_value = torch.nn.Linear(width, 3 * width)
        self.output = torch.nn.Linear(width, width)

    def projections(self, x):
        batch, length, width = x.shape
        parts = self.query_key_value(x).view(batch, length, 3, self.heads, width // self.heads)
        parts = parts.permute(2, 0, 3, 1, 4)
        return parts[0], parts[1], parts[2]

    def merge(self, attended):
        batch, heads, length, size = attended.shape
        return self.output(attended.transpose(1, 2).reshape(batch, length, heads * size))

    def forward(self, x):
        queries, keys, values = self.projections(x)
        return self.merge(F.scaled_dot_product_attention(queries, keys, values, is_causal=True))

    def step(self, x, cache):
        """One new position `x` [batch, 1, width] over the cached keys and
        values (preallocated [batch, heads, capacity, size] buffers, filled in place)."""
        queries, keys, values = self.projections(x)
        position = cache["length"]
        if "keys" not in cache:
            shape = (keys.shape[0], keys.shape[1], cache["capacity"], keys.shape[3])
            cache["keys"] = torch.empty(shape, dtype=keys.dtype)
            cache["values"] = torch.empty(shape, dtype=values.dtype)
        cache["keys"][:, :, position:position + 1] = keys
        cache["values"][:, :, position:position + 1] = values
        cache["length"] = position + 1
        attended = F.scaled_dot_product_attention(
            queries, cache["keys"][:, :, :position + 1], cache["values"][:, :, :position + 1])
        return self.merge(attended)


class Layer(torch.nn.Module):
    def __init__(self, width, heads, expansion=4):
        super().__init__()
        self.attention_norm = torch.nn.LayerNorm(width)
        self.attention = Attention(width, heads)
        self.feed_forward_norm = torch.nn.LayerNorm(width)
        self.expand = torch.nn.Linear(width, expansion * width)
        self.contract = torch.nn.Linear(expansion * width, width)

    def feed_forward(self, x):
        return self.contract(F.gelu(self.expand(self.feed_forward_norm(x))))

    def forward(self, x, cache=None):
        normed = self.attention_norm(x)
        x = x + (self.attention(normed) if cache is None else self.attention.step(normed, cache))
        return x + self.feed_forward(x)


class TarFlowBlock(torch.nn.Module):
    """One TarFlow block with the affine transform, identity order, patch size 1."""

    def __init__(self, channels, length, width, layers, heads):
        super().__init__()
        self.channels = channels
        self.length = length
        self.input_projection = torch.nn.Linear(channels, width)
        self.positional_embedding = torch.nn.Parameter(torch.randn(length, width) * 0.01)
        self.layers = torch.nn.ModuleList([Layer(width, heads) for _ in range(layers)])
        self.output_norm = torch.nn.LayerNorm(width)
        self.output_projection = torch.nn.Linear(width, 2 * channels)
        torch.nn.init.zeros_(self.output_projection.weight)
        torch.nn.init.zeros_(self.output_projection.bias)

    def network(self, x, cache=None):
        start = 0 if cache is None else cache[0]["length"]
        h = self.input_projection(x) + self.positional_embedding[start:start + x.shape[1]]
        for index, layer in enumerate(self.layers):
            h = layer(h, None if cache is None else cache[index])
        return self.output_projection(self.output_norm(h))

    def transform_inverse(self, z, parameters):
        shift, log_scale = parameters.split(self.channels, dim=-1)
        return z * torch.exp(log_scale) + shift, -log_scale.sum(dim=(1, 2))

    def forward(self, x):
        """z and log|det ∂z/∂x| per sample."""
        parameters = self.network(x)
        parameters = torch.cat([torch.zeros_like(parameters[:, :1]), parameters[:, :-1]], dim=1)
        shift, log_scale = parameters.split(self.channels, dim=-1)
        # TarFlow: z = (x − μ)·exp(−α), log-det = −Σα.
        return (x - shift) * torch.exp(-log_scale), -log_scale.sum(dim=(1, 2))

    def log_likelihood(self, x):
        z, log_determinant = self(x)
        size = z.shape[1] * z.shape[2]
        return -0.5 * (z * z).sum(dim=(1, 2)) - 0.5 * size * math.log(2 * math.pi) + log_determinant

    def inverse(self, z, use_cache):
        """x from z, position by position; with `use_cache` each decoded
        position goes once through the network, else the whole prefix is rerun."""
        batch, count, _ = z.shape
        cache = [{"length": 0, "capacity": self.length} for _ in self.layers] if use_cache else None
        x = torch.empty_like(z)
        log_determinant = torch.zeros(batch, dtype=z.dtype)
        for index in range(count):
            if index == 0:
                parameters = torch.zeros(batch, 1, 2 * self.channels, dtype=z.dtype)
            elif use_cache:
                parameters = self.network(x[:, index - 1:index], cache)
            else:
                parameters = self.network(x[:, :index])[:, index - 1:index]
            x[:, index:index + 1], position_log_determinant = self.transform_inverse(z[:, index:index + 1], parameters)
            log_determinant += position_log_determinant
        return x, -log_determinant


def swift_name(name):
    """The Swift parameter name (TransformerAutoregressiveFlow's dotted
    names) of a parameter of TarFlowBlock."""
    renames = [("input_projection", "inputProjection"), ("positional_embedding", "positionalEmbedding.weight"),
               ("output_norm.weight", "outputNorm.scale"), ("output_norm.bias", "outputNorm.offset"),
               ("output_projection", "outputProjection"),
               ("attention_norm.weight", "attentionNorm.scale"), ("attention_norm.bias", "attentionNorm.offset"),
               ("feed_forward_norm.weight", "feedForwardNorm.scale"),
               ("feed_forward_norm.bias", "feedForwardNorm.offset"),
               ("query_key_value", "queryKeyValue"), ("expand", "feedForward.expand"),
               ("contract", "feedForward.contract")]
    for old, new in renames:
        name = name.replace(old, new)
    return "network." + name


def load_swift_parameters(block, path):
    """Copies a Swift checkpoint into `block`: Swift's Dense weights are
    [in, out] (x·W), PyTorch's Linear weights [out, in] (x·Wᵀ)."""
    stored = load_safetensors(path)
    used = set()
    with torch.no_grad():
        for name, parameter in block.named_parameters():
            key = swift_name(name)
            value = stored[key]
            used.add(key)
            if isinstance(dict(block.named_modules()).get(name.rsplit(".", 1)[0]), torch.nn.Linear) \
                    and name.endswith(".weight"):
                value = value.T
            if value.shape != parameter.shape:
                raise ValueError(f"{key}: {list(value.shape)} for {name} {list(parameter.shape)}")
            parameter.copy_(value.to(parameter.dtype))
    unused = sorted(set(stored) - used)
    if unused:
        raise ValueError(f"Swift parameters without a PyTorch twin: {unused}")


def check(args):
    """Log-likelihoods and the cached inverse of the Swift block's
    parameters on the Swift input, against what Swift computed."""
    data = load_safetensors(args.check[0])
    x = data["x"]
    dtype = x.dtype
    torch.set_default_dtype(dtype)
    block = TarFlowBlock(x.shape[2], x.shape[1], args.width, args.layers, args.heads).to(dtype)
    load_swift_parameters(block, args.check[1])
    with torch.no_grad():
        log_likelihood = block.log_likelihood(x)
        z, _ = block(x)
        restored, _ = block.inverse(z, use_cache=True)
        restored_uncached, _ = block.inverse(z, use_cache=False)
    expected = data["logLikelihood"]
    result = {
        "dtype": str(dtype).replace("torch.", ""),
        "parameters": sum(p.numel() for p in block.parameters()),
        "log_likelihood_max_abs_difference": (log_likelihood - expected).abs().max().item(),
        "log_likelihood_max_relative_difference": ((log_likelihood - expected).abs() / expected.abs()).max().item(),
        "log_likelihood_spread": (expected.max() - expected.min()).item(),
        "z_max_abs_difference": (z - data["z"]).abs().max().item(),
        # How far the block is from the identity: the check means little near 0.
        "z_minus_x_max_abs": (z - x).abs().max().item(),
        "inverse_cached_max_abs_difference": (restored - x).abs().max().item(),
        "inverse_uncached_max_abs_difference": (restored_uncached - x).abs().max().item(),
    }
    print(json.dumps(result))


def row(case, impl, seconds, args):
    median, fastest, slowest = summary(seconds)
    return {"case": case, "impl": impl, "dtype": "float32", "unit": "ms",
            "median": median * 1e3, "min": fastest * 1e3, "max": slowest * 1e3,
            "batch": args.batch, "length": args.length, "channels": args.channels,
            "layers": args.layers, "width": args.width, "heads": args.heads}


def benchmark(args):
    torch.manual_seed(0)
    block = TarFlowBlock(args.channels, args.length, args.width, args.layers, args.heads)
    optimizer = torch.optim.Adam(block.parameters(), lr=1e-3)
    x = torch.randn(args.batch, args.length, args.channels)
    z = torch.randn(args.batch, args.length, args.channels)
    impl = f"torch-affine{args.suffix}"

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = -block.log_likelihood(x).mean()
        loss.backward()
        optimizer.step()

    def sample(use_cache):
        def run():
            with torch.no_grad():
                block.inverse(z, use_cache)
        return run

    rows = []
    if "training-step" in args.cases:
        rows.append(row("training-step", impl, measure(step, args.warmups, args.repetitions), args))
    if "sample-cached" in args.cases:
        rows.append(row("sample-cached", impl, measure(sample(True), args.warmups, args.repetitions), args))
    if "sample-uncached" in args.cases:
        seconds = measure(sample(False), args.uncached_warmups, args.uncached_repetitions)
        rows.append(row("sample-uncached", impl, seconds, args))
    return rows


def run_tuned_child(args):
    """torch-affine-tuned rows from a child process started with the malloc
    tuning: glibc reads these variables once, when the process starts."""
    command = [sys.executable, os.path.abspath(__file__), "--suffix=-tuned", "--no-tuned"] + [
        f"--{key.replace('_', '-')}={value}" for key, value in vars(args).items()
        if key not in ("suffix", "no_tuned", "cases", "check")] + ["--cases"] + args.cases
    return run_with_tuning(command, "torch-affine-tuned")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", nargs=2, metavar=("DATA", "PARAMETERS"),
                        help="compare with a Swift block instead of timing")
    parser.add_argument("--cases", nargs="+", choices=["training-step", "sample-cached", "sample-uncached"],
                        default=["training-step", "sample-cached", "sample-uncached"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--warmups", type=int, default=3)
    parser.add_argument("--uncached-repetitions", type=int, default=3)
    parser.add_argument("--uncached-warmups", type=int, default=0)
    parser.add_argument("--suffix", default="", help="appended to every impl name (the tuned child's '-tuned')")
    parser.add_argument("--no-tuned", action="store_true", help="skip the torch-affine-tuned child run")
    args = parser.parse_args()
    if args.check:
        check(args)
        return
    rows = benchmark(args)
    notes = torch_notes(torch) if not args.suffix else []
    if not args.no_tuned:
        tuned_rows, tuned_notes = run_tuned_child(args)
        rows += tuned_rows
        notes += tuned_notes
    print(json.dumps({"suite": "tarflow", "threads": os.cpu_count(), "results": rows, "notes": notes}))


if __name__ == "__main__":
    main()
