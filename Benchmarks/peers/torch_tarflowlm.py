"""PyTorch peer of `flowbench tarflowlm`: the models `flows train tarflowlm`
and `flows train charlm` train, in eager PyTorch on the CPU, written to
match the Swift sources line by line:

    Sources/FlowModels/Text/TokenCodebook.swift, TokenCodebook+Bound.swift
        the codebook encoder q(z|x) = N(mu_x, sigma_x^2 I), the decoder p(x|z)
        by Bayes' rule over the codebook, and the ELBO in bits per character
        (the entropy term exact, one reparameterised sample per position);
    Sources/FlowModels/TarFlowLM/*.swift
        the prior: TarFlow blocks of alternating order (identity, reversed,
        ...), each affine, Mix-1 or (block 0 of Mix-d) a Mixture-Rosenblatt
        flow tied to the codebook; generation: base noise of standard
        deviation T, the blocks inverted one at a time position by position
        with the attention keys and values cached, every state decoded by the
        codebook's argmax (as `generatePasses`; `generate` keeps the last);
    Sources/FlowLayers/Autoregressive/*.swift, Transformer/*.swift
        the block (patch size P, right-shifted zero-initialised parameters),
        Mix-1's masked within-position MADE head, the mixture CDF
        u = Phi^-1(F(z)) and its inverse by safeguarded Newton in float64;
    Sources/FlowModels/CharLM/*.swift
        the discrete baseline: a causal transformer on the one-hot previous
        character, cross-entropy in bits per character, cached generation
        drawing from softmax(logits / T).

Training steps are the `Trainer`'s with the CLI's defaults: loss, backward,
global gradient-norm clip at 10, Adam (lr 1e-3 after a 100-step linear
warm-up, betas (0.9, 0.999), eps 1e-8, no weight decay).

Modules are named so that `named_parameters()` gives Swift's dotted
parameter names (`codebook.means`, `blocks.0.network.layers.1.attention.
queryKeyValue.weight`, ...), and dense weights are stored as Swift's
`[in, out]` (y = x W + b): a Swift checkpoint loads without any renaming.
Progressive training (frozen blocks) and a learned token prior are not
mirrored; the benchmark uses neither.

Modes:

    timing (default)  rows `train-<model>` and `generate-<model>` in tokens/s
                      for each of --models (affine, mix1, mixd, charlm), in
                      flowbench's JSON format; --initial NAME=FILE starts a
                      model from Swift's saved parameters. Implementations
                      `torch`, and `torch-tuned` from a child process started
                      with MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ =
                      1e9 (as torch_tarflow.py; --no-tuned skips it).
    --check DATA PARAMETERS
                      loads a Swift model's parameters (configuration in the
                      file's metadata) and the batch, noise, loss, gradients
                      and generation Swift computed, recomputes them, and
                      prints the differences as JSON (`flowbench tarflowlm --check`).

Exits with status 3 and a sentence on stderr when this Python has no torch.

    python torch_tarflowlm.py --models affine mix1 mixd charlm --width 128 --context 128 --batch 32
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

HALF_LOG_TWO_PI = 0.9189385332046728
VOCABULARY = 27


# MARK: Transformer (FlowLayers/Transformer)

def kaiming_uniform(shape, fan_in):
    """nn.Linear's initialisation, as Swift's `Dense`: uniform in ±1/√fan_in."""
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    return (torch.rand(shape) * 2 - 1) * bound


class Dense(torch.nn.Module):
    """y = x·W + b with W `[in, out]`, as Swift's `Dense`."""

    def __init__(self, inputs, outputs, zero=False):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(inputs, outputs) if zero else kaiming_uniform((inputs, outputs), inputs))
        self.bias = torch.nn.Parameter(torch.zeros(outputs) if zero else kaiming_uniform((outputs,), inputs))

    def forward(self, x):
        return F.linear(x, self.weight.t(), self.bias)


class LayerNorm(torch.nn.Module):
    def __init__(self, features):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(features))
        self.offset = torch.nn.Parameter(torch.zeros(features))

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.scale, self.offset, 1e-5)


class PositionalEmbedding(torch.nn.Module):
    def __init__(self, length, width):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(length, width) * 0.01)


class Attention(torch.nn.Module):
    """CausalSelfAttention: queries, keys and values from one projection laid
    out `[.., 3, heads, headSize]`; cached steps write into preallocated
    `[batch, heads, capacity, headSize]` buffers (AttentionCache)."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.queryKeyValue = Dense(width, 3 * width)
        self.output = Dense(width, width)

    def projections(self, x):
        batch, length, width = x.shape
        parts = self.queryKeyValue(x).view(batch, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        return parts[0], parts[1], parts[2]

    def merge(self, attended):
        batch, heads, length, size = attended.shape
        return self.output(attended.transpose(1, 2).reshape(batch, length, heads * size))

    def forward(self, x, cache=None):
        queries, keys, values = self.projections(x)
        if cache is None:
            return self.merge(F.scaled_dot_product_attention(queries, keys, values, is_causal=True))
        start, count = cache["length"], x.shape[1]
        if "keys" not in cache:
            shape = (keys.shape[0], keys.shape[1], cache["capacity"], keys.shape[3])
            cache["keys"] = torch.zeros(shape, dtype=keys.dtype)
            cache["values"] = torch.zeros(shape, dtype=values.dtype)
        cache["keys"][:, :, start:start + count] = keys
        cache["values"][:, :, start:start + count] = values
        cache["length"] = start + count
        # One new position sees every cached one: no mask needed.
        assert count == 1, "cached steps decode one position at a time"
        return self.merge(F.scaled_dot_product_attention(
            queries, cache["keys"][:, :, :start + count], cache["values"][:, :, :start + count]))


class FeedForward(torch.nn.Module):
    def __init__(self, width, expansion=4):
        super().__init__()
        self.expand = Dense(width, expansion * width)
        self.contract = Dense(expansion * width, width)

    def forward(self, x):
        return self.contract(F.gelu(self.expand(x)))


class TransformerLayer(torch.nn.Module):
    """Pre-LayerNorm: x + attention(norm(x)), then x + feedForward(norm(x))."""

    def __init__(self, width, heads):
        super().__init__()
        self.attentionNorm = LayerNorm(width)
        self.attention = Attention(width, heads)
        self.feedForwardNorm = LayerNorm(width)
        self.feedForward = FeedForward(width)

    def forward(self, x, cache=None):
        x = x + self.attention(self.attentionNorm(x), cache)
        return x + self.feedForward(self.feedForwardNorm(x))


class CausalTransformer(torch.nn.Module):
    """Input projection + learned positional embedding, layers, final
    LayerNorm, zero-initialised output projection."""

    def __init__(self, inputs, outputs, length, width, layers, heads):
        super().__init__()
        self.inputProjection = Dense(inputs, width)
        self.positionalEmbedding = PositionalEmbedding(length, width)
        self.layers = torch.nn.ModuleList([TransformerLayer(width, heads) for _ in range(layers)])
        self.outputNorm = LayerNorm(width)
        self.outputProjection = Dense(width, outputs, zero=True)
        self.length = length
        self.outputs = outputs

    def make_cache(self):
        return {"length": 0, "layers": [{"length": 0, "capacity": self.length} for _ in self.layers]}

    def forward(self, x, cache=None):
        start = 0 if cache is None else cache["length"]
        h = self.inputProjection(x) + self.positionalEmbedding.weight[start:start + x.shape[1]]
        for index, layer in enumerate(self.layers):
            h = layer(h, None if cache is None else cache["layers"][index])
        if cache is not None:
            cache["length"] = start + x.shape[1]
        return self.outputProjection(self.outputNorm(h))


# MARK: Mixture CDF (FlowTensor/MixtureCDF.swift)

def mixture_cdf_transform(z, logits, means, log_scales):
    """u = Phi^-1(F(z)) for a Gaussian mixture F (weights softmax(logits)),
    and log|du/dz|; everything broadcast to `z.shape + [components]`. The
    tail mass is taken from the smaller of log F and log(1 - F), its
    quantile in float64 (Swift's kernel runs in Double) so that a mass
    below float32's range stays finite."""
    standardized = (z.unsqueeze(-1) - means) * torch.exp(-log_scales)
    log_weights = torch.log_softmax(logits.expand(standardized.shape), dim=-1)
    log_lower = torch.logsumexp(log_weights + torch.special.log_ndtr(standardized), dim=-1)
    log_upper = torch.logsumexp(log_weights + torch.special.log_ndtr(-standardized), dim=-1)
    log_density = torch.logsumexp(log_weights - log_scales - 0.5 * standardized * standardized, dim=-1) \
        - HALF_LOG_TWO_PI
    tail = torch.special.ndtri(torch.exp(torch.minimum(log_lower, log_upper).double())).to(z.dtype)
    output = torch.where(log_lower <= log_upper, tail, -tail)
    return output, log_density + 0.5 * output * output + HALF_LOG_TWO_PI


@torch.no_grad()
def mixture_cdf_root(u, logits, means, log_scales):
    """The z with Phi^-1(F(z)) = u, elementwise, by Swift's safeguarded
    Newton on the log of the smaller tail mass (bracket [min_k, max_k] of
    m_k + s_k u, bisection when a step leaves it, relative step 1e-14), in
    float64, vectorised: every element iterates until its own stop."""
    full = u.shape + (max(logits.shape[-1], means.shape[-1], log_scales.shape[-1]),)
    u = u.double()
    log_weights = torch.log_softmax(logits.double().expand(full), dim=-1)
    means = means.double().expand(full)
    scales = torch.exp(log_scales.double()).expand(full)
    log_scales_64 = torch.log(scales)
    points = means + scales * u.unsqueeze(-1)
    low, high = points.min(dim=-1).values, points.max(dim=-1).values
    z = torch.minimum(torch.maximum((torch.exp(log_weights) * points).sum(dim=-1), low), high)
    lower_tail = u <= 0
    sign = torch.where(lower_tail, 1.0, -1.0).to(u.dtype).unsqueeze(-1)
    target = torch.special.log_ndtr(torch.where(lower_tail, u, -u))
    done = ~(high > low)
    result = torch.where(done, low, z)
    for _ in range(200):
        if bool(done.all()):
            break
        t = (z.unsqueeze(-1) - means) / scales
        log_mass = torch.logsumexp(log_weights + torch.special.log_ndtr(sign * t), dim=-1)
        log_density = torch.logsumexp(log_weights - log_scales_64 - 0.5 * t * t, dim=-1) - HALF_LOG_TWO_PI
        h = torch.where(lower_tail, log_mass - target, target - log_mass)
        exact = h == 0
        low = torch.where(h < 0, z, low)
        high = torch.where(h > 0, z, high)
        following = z - h / torch.exp(log_density - log_mass)
        following = torch.where((following > low) & (following < high), following, 0.5 * (low + high))
        tolerance = 1e-14 * (1 + z.abs())
        stop = exact | ((following - z).abs() <= tolerance) | (high - low <= tolerance)
        newly = stop & ~done
        result = torch.where(newly, torch.where(exact, z, following), result)
        done = done | stop
        z = torch.where(done, z, following)
    return torch.where(done, result, z)


def inverse_mixture_cdf_transform(u, logits, means, log_scales):
    """z with u = Phi^-1(F(z)), and the forward's log|du/dz| at z (no gradient: generation)."""
    root = mixture_cdf_root(u, logits, means, log_scales).to(u.dtype)
    _, log_derivative = mixture_cdf_transform(root, logits, means, log_scales)
    return root, log_derivative


# MARK: TarFlow block (FlowLayers/Autoregressive)

class MaskedAutoregressiveHead(torch.nn.Module):
    """Mix-1's one-hidden-layer MADE: hidden = GELU(x (W1*M1) + b1 + context),
    output = hidden (W2*M2) + b2; hidden unit k has degree k mod features."""

    def __init__(self, features, hidden, outputs_per_feature):
        super().__init__()
        self.input = Dense(features, hidden)
        self.output = Dense(hidden, features * outputs_per_feature, zero=True)
        self.features = features
        self.outputs_per_feature = outputs_per_feature
        degrees = torch.arange(hidden) % features
        self.register_buffer("input_mask", (torch.arange(features).unsqueeze(1) < degrees).float(), persistent=False)
        output_degrees = torch.arange(features).repeat_interleave(outputs_per_feature)
        self.register_buffer("output_mask", (degrees.unsqueeze(1) <= output_degrees).float(), persistent=False)

    def forward(self, x, context):
        hidden = F.gelu(F.linear(x, (self.input.weight * self.input_mask).t(), self.input.bias) + context)
        result = F.linear(hidden, (self.output.weight * self.output_mask).t(), self.output.bias)
        return result.view(*hidden.shape[:-1], self.features, self.outputs_per_feature)

    def make_decoder(self):
        """(masked input weight, bias, per-feature masked output weights and biases), as `makeDecoder`."""
        width = self.outputs_per_feature
        output_weight = self.output.weight * self.output_mask
        outputs = [(output_weight[:, f * width:(f + 1) * width], self.output.bias[f * width:(f + 1) * width])
                   for f in range(self.features)]
        return self.input.weight * self.input_mask, self.input.bias, outputs


def mixture_bias(features, components):
    """The initial Mix-1 output bias of every feature (TransformerAutoregressiveFlow.mixtureBias)."""
    offsets = [0.0 if components == 1 else k / (components - 1) - 0.5 for k in range(components)]
    variance = sum(o * o for o in offsets) / components
    per_feature = [0.0] * components + offsets + [0.5 * math.log(1 - variance)] * components
    return torch.tensor(per_feature * features)


class TarFlowBlock(torch.nn.Module):
    """TransformerAutoregressiveFlow: `kind` affine, mix1 (MADE head, a
    Gaussian-mixture CDF per feature) or rosenblatt (a Mixture-Rosenblatt
    flow over the codebook, whose means and log-scales the caller passes).
    With `posterior_components` the transformer reads each token's posterior
    over a codebook of that many Gaussians (CodebookPosterior), which the
    caller passes too."""

    def __init__(self, channels, length, patch, width, layers, heads, kind, components, hidden, reversed_order,
                 posterior_components=None):
        super().__init__()
        features = channels * patch
        outputs = {"affine": 2 * features, "mix1": hidden, "rosenblatt": patch * components}[kind]
        inputs = features if posterior_components is None else patch * posterior_components
        self.network = CausalTransformer(inputs, outputs, length // patch, width, layers, heads)
        self.posterior_components = posterior_components
        if kind == "mix1":
            self.maskedHead = MaskedAutoregressiveHead(features, hidden, 3 * components)
            with torch.no_grad():
                self.maskedHead.output.bias.copy_(mixture_bias(features, components))
        self.channels, self.patch, self.features = channels, patch, features
        self.kind, self.components, self.reversed_order = kind, components, reversed_order

    def positions(self, x):
        patched = x.reshape(x.shape[0], x.shape[1] // self.patch, self.features)
        return patched.flip(1) if self.reversed_order else patched

    def tokens(self, positions):
        ordered = positions.flip(1) if self.reversed_order else positions
        return ordered.reshape(positions.shape[0], positions.shape[1] * self.patch, self.channels)

    def conditioner_input(self, positions, codebook):
        """What the transformer reads: the positions, or each token's codebook posterior (CodebookPosterior)."""
        if self.posterior_components is None:
            return positions
        means, log_scales = codebook
        batch, count = positions.shape[0], positions.shape[1]
        tokens = positions.reshape(batch, count * self.patch, self.channels)
        differences = tokens.unsqueeze(-2) - means
        squared = (differences * differences).sum(dim=-1)
        scores = -0.5 * squared * torch.exp(-2 * log_scales) - self.channels * log_scales
        return torch.softmax(scores, dim=-1).reshape(batch, count, self.patch * self.posterior_components)

    def transform_forward(self, x, parameters, mixture):
        if self.kind == "affine":
            shift, log_scale = parameters.chunk(2, dim=2)
            # TarFlow: z = (x − μ)·exp(−α), log-det = −Σα.
            return (x - shift) * torch.exp(-log_scale), -log_scale.sum(dim=(1, 2))
        if self.kind == "mix1":
            logits, means, log_scales = self.maskedHead(x, parameters).chunk(3, dim=-1)
            u, log_derivative = mixture_cdf_transform(x, logits, means, log_scales)
            return u, log_derivative.sum(dim=(1, 2))
        batch, count = x.shape[0], x.shape[1]
        u, log_derivative = rosenblatt_forward(
            x.reshape(batch * count * self.patch, self.channels),
            parameters.reshape(batch * count * self.patch, self.components), *mixture)
        return u.reshape(x.shape), log_derivative.reshape(batch, count * self.features).sum(dim=1)

    def forward(self, x, mixture=None, codebook=None):
        """z and log|det ∂z/∂x| per sample, all positions at once."""
        positions = self.positions(x)
        output = self.network(self.conditioner_input(positions, codebook))
        shifted = torch.cat([torch.zeros_like(output[:, :1]), output[:, :-1]], dim=1)
        z, log_determinant = self.transform_forward(positions, shifted, mixture)
        return self.tokens(z), log_determinant

    def transform_inverse(self, z, parameters, mixture, decoder):
        batch = z.shape[0]
        if self.kind == "affine":
            shift, log_scale = parameters.chunk(2, dim=2)
            return z * torch.exp(log_scale) + shift, -log_scale.sum(dim=(1, 2))
        if self.kind == "mix1":
            input_weight, input_bias, outputs = decoder
            columns = []
            log_determinant = torch.zeros(batch, dtype=z.dtype)
            for feature in range(self.features):
                known = torch.cat(columns + [torch.zeros(batch, 1, self.features - feature, dtype=z.dtype)], dim=2)
                hidden = F.gelu(F.linear(known, input_weight.t(), input_bias) + parameters)
                raw = F.linear(hidden, outputs[feature][0].t(), outputs[feature][1])
                logits, means, log_scales = raw.unsqueeze(2).chunk(3, dim=-1)
                x, log_derivative = inverse_mixture_cdf_transform(
                    z[:, :, feature:feature + 1], logits, means, log_scales)
                columns.append(x)
                log_determinant = log_determinant + log_derivative.reshape(batch)
            return torch.cat(columns, dim=2), log_determinant
        x, log_derivative = rosenblatt_inverse(
            z.reshape(batch * self.patch, self.channels), parameters.reshape(batch * self.patch, self.components),
            *mixture)
        return x.reshape(z.shape), log_derivative.reshape(batch, self.features).sum(dim=1)

    @torch.no_grad()
    def inverse(self, y, mixture=None, codebook=None):
        """x from y position by position, the keys and values cached; and the inverse's log-determinant."""
        positions = self.positions(y)
        batch, count = positions.shape[0], positions.shape[1]
        cache = self.network.make_cache()
        decoder = self.maskedHead.make_decoder() if self.kind == "mix1" else None
        decoded = []
        log_determinant = torch.zeros(batch, dtype=y.dtype)
        for index in range(count):
            if index == 0:
                parameters = torch.zeros(batch, 1, self.network.outputs, dtype=y.dtype)
            else:
                parameters = self.network(self.conditioner_input(decoded[index - 1], codebook), cache)
            x, position_log_determinant = self.transform_inverse(
                positions[:, index:index + 1], parameters, mixture, decoder)
            decoded.append(x)
            log_determinant = log_determinant + position_log_determinant
        return self.tokens(torch.cat(decoded, dim=1)), -log_determinant


def component_log_densities(z, means, log_scales):
    """log N(z; μ, σ_k²) of `z` `[..., 1]` against means `[..., components]`."""
    standardized = (z - means) * torch.exp(-log_scales)
    return standardized * standardized * -0.5 - log_scales - HALF_LOG_TWO_PI


def rosenblatt_forward(z, logits, means, log_scales):
    """RosenblattMixture.forward: channel i through the mixture CDF whose
    weights are the posterior given channels < i (arXiv 2507.00425, Alg. 1).
    z `[tokens, channels]`, logits `[tokens, components]`, means
    `[components, channels]`, log_scales `[components]`."""
    column_means = means.t()
    densities = component_log_densities(z.unsqueeze(2), column_means, log_scales)  # [tokens, channels, components]
    # Σ_{j<i}: Swift multiplies by the strictly upper triangular ones; an
    # exclusive cumulative sum is the same sum.
    accumulated = torch.cumsum(densities, dim=1) - densities
    return mixture_cdf_transform(z, logits.unsqueeze(1) + accumulated, column_means, log_scales)


def rosenblatt_inverse(u, logits, means, log_scales):
    """RosenblattMixture.inverse, channel by channel (no gradient: generation)."""
    tokens, channels = u.shape
    column_means = means.t()
    posterior = logits
    columns, log_derivatives = [], []
    for channel in range(channels):
        channel_means = column_means[channel]
        column, log_derivative = inverse_mixture_cdf_transform(u[:, channel], posterior, channel_means, log_scales)
        columns.append(column.unsqueeze(1))
        log_derivatives.append(log_derivative.unsqueeze(1))
        if channel + 1 < channels:
            posterior = posterior + component_log_densities(column.unsqueeze(1), channel_means, log_scales)
    return torch.cat(columns, dim=1), torch.cat(log_derivatives, dim=1)


# MARK: Models (FlowModels)

class TokenCodebook(torch.nn.Module):
    def __init__(self, vocabulary, dimension, initial_scale):
        super().__init__()
        self.means = torch.nn.Parameter(torch.randn(vocabulary, dimension))
        self.logScales = torch.nn.Parameter(torch.full((vocabulary,), math.log(initial_scale)))

    def token_log_probabilities(self, latents):
        """log p(x = k | z): a log-softmax over k of log N(z; μ_k, σ_k² I) (up to the constant)."""
        differences = latents.unsqueeze(-2) - self.means
        squared = (differences * differences).sum(dim=-1)
        scores = -0.5 * squared * torch.exp(-2 * self.logScales) - self.means.shape[1] * self.logScales
        return torch.log_softmax(scores, dim=-1)


class TarFlowLM(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.codebook = TokenCodebook(c["vocabularySize"], c["latentDimension"], c["initialScale"])
        blocks = []
        for index in range(c["blockCount"]):
            kind = {"affine": "affine", "mix1": "mix1", "mixd": "rosenblatt" if index == 0 else "mix1"}[c["transform"]]
            components = c["vocabularySize"] if kind == "rosenblatt" else c["mixtureComponents"]
            # Block 0 alone reads codebook latents (conditionerInput absent: the latents).
            reads_posterior = index == 0 and c.get("conditionerInput", "latents") == "posterior"
            blocks.append(TarFlowBlock(
                c["latentDimension"], c["length"], c["patchSize"], c["width"], c["layersPerBlock"], c["headCount"],
                kind, components, c["mixtureHiddenSize"], index % 2 == 1,
                c["vocabularySize"] if reads_posterior else None))
        self.blocks = torch.nn.ModuleList(blocks)

    def mixture(self, block):
        """Mix-d's codebook tie: the Rosenblatt block uses the codebook's means and log-scales."""
        return (self.codebook.means, self.codebook.logScales) if block.kind == "rosenblatt" else None

    def posterior_codebook(self, block):
        """The codebook a block reading posteriors reads them over: the encoder's."""
        return (self.codebook.means, self.codebook.logScales) if block.posterior_components is not None else None

    def prior_log_density(self, latents):
        h = latents
        log_determinant = torch.zeros(latents.shape[0], dtype=latents.dtype)
        for block in self.blocks:
            h, block_log_determinant = block(h, self.mixture(block), self.posterior_codebook(block))
            log_determinant = log_determinant + block_log_determinant
        events = h.shape[1] * h.shape[2]
        return -0.5 * (h * h).sum(dim=(1, 2)) - events * HALF_LOG_TWO_PI + log_determinant

    def bits_per_character(self, tokens, noise):
        """−ELBO / ln 2 per character, averaged over the batch (TokenCodebook.evidenceLowerBound)."""
        codebook = self.codebook
        dimension = codebook.means.shape[1]
        length = tokens.shape[1]
        log_scale = codebook.logScales[tokens].unsqueeze(-1)
        latents = codebook.means[tokens] + torch.exp(log_scale) * noise
        prior = self.prior_log_density(latents)
        reconstruction = codebook.token_log_probabilities(latents).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
        entropy = dimension * log_scale.squeeze(-1) + dimension / 2 * (1 + math.log(2 * math.pi))
        bound = reconstruction.sum(dim=1).mean() / length + (prior / length).mean() + entropy.sum(dim=1).mean() / length
        return -bound / math.log(2)

    def loss(self, tokens):
        return self.bits_per_character(tokens, torch.randn(*tokens.shape, self.c["latentDimension"]))

    @torch.no_grad()
    def generate_from(self, noise):
        """Every state of `generatePasses` from the base sample `noise`, decoded by argmax; and the last latents."""
        h = noise
        states = [h]
        for block in reversed(self.blocks):
            h, _ = block.inverse(h, self.mixture(block), self.posterior_codebook(block))
            states.append(h)
        return [self.codebook.token_log_probabilities(state).argmax(dim=-1) for state in states], h

    def generate(self, count, length, temperature):
        noise = torch.randn(count, length, self.c["latentDimension"]) * temperature
        return self.generate_from(noise)[0][-1]


class CharacterLanguageModel(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        vocabulary = c["vocabularySize"]
        self.network = CausalTransformer(vocabulary, vocabulary, c["length"], c["width"], c["layerCount"], c["headCount"])

    def bits_per_character(self, tokens):
        """Cross-entropy of x_t given the one-hot x_{t−1} (zeros at t = 0), bits per character, batch mean."""
        vocabulary = self.c["vocabularySize"]
        one_hot = F.one_hot(tokens[:, :-1], vocabulary).to(self.network.outputNorm.scale.dtype)
        inputs = torch.cat([torch.zeros_like(one_hot[:, :1]), one_hot], dim=1)
        log_probabilities = torch.log_softmax(self.network(inputs), dim=-1)
        picked = log_probabilities.gather(-1, tokens.unsqueeze(-1))
        return (-picked.sum(dim=(1, 2)) / (tokens.shape[1] * math.log(2))).mean()

    def loss(self, tokens):
        return self.bits_per_character(tokens)

    @torch.no_grad()
    def generate(self, count, length, temperature):
        vocabulary = self.c["vocabularySize"]
        dtype = self.network.outputNorm.scale.dtype
        cache = self.network.make_cache()
        inputs = torch.zeros(count, 1, vocabulary, dtype=dtype)
        columns = []
        for _ in range(length):
            logits = self.network(inputs, cache).reshape(count, vocabulary)
            if temperature == 0:
                tokens = logits.argmax(dim=-1)
            else:
                tokens = torch.multinomial(torch.softmax(logits / temperature, dim=-1), 1).squeeze(1)
            columns.append(tokens)
            inputs = F.one_hot(tokens, vocabulary).to(dtype).unsqueeze(1)
        return torch.stack(columns, dim=1)


def make_model(kind, configuration):
    return CharacterLanguageModel(configuration) if kind == "charlm" else TarFlowLM(configuration)


# MARK: Parameters and the equivalence check

def read_metadata(path):
    with open(path, "rb") as file:
        size = int.from_bytes(file.read(8), "little")
        return json.loads(file.read(size)).get("__metadata__", {})


def load_parameters(model, path):
    """Copies Swift's saved parameters into `model` (the names are Swift's already)."""
    stored = load_safetensors(path)
    own = dict(model.named_parameters())
    missing = sorted(set(own) - set(stored))
    unused = sorted(set(stored) - set(own))
    if missing or unused:
        raise ValueError(f"parameter names differ: missing {missing}, without a PyTorch twin {unused}")
    with torch.no_grad():
        for name, parameter in own.items():
            if stored[name].shape != parameter.shape:
                raise ValueError(f"{name}: {list(stored[name].shape)} for {list(parameter.shape)}")
            parameter.copy_(stored[name].to(parameter.dtype))


def check(args):
    """The loss, gradients and generation of Swift's model on Swift's batch
    and noise, against Swift's numbers."""
    data = load_safetensors(args.check[0])
    metadata = read_metadata(args.check[1])
    kind = metadata["model"]
    configuration = json.loads(metadata["configuration"])
    dtype = data["tokens"].dtype
    torch.set_default_dtype(dtype)
    model = make_model(kind, configuration).to(dtype)
    load_parameters(model, args.check[1])
    tokens = data["tokens"].round().long()
    if kind == "charlm":
        loss = model.bits_per_character(tokens)
    else:
        loss = model.bits_per_character(tokens, data["noise"])
    loss.backward()
    expected = data["loss"].reshape(()).item()
    squared_difference, squared_norm = 0.0, 0.0
    worst_name, worst = "", 0.0
    for name, parameter in model.named_parameters():
        swift = data.get("gradient." + name, torch.zeros_like(parameter))
        torch_gradient = parameter.grad if parameter.grad is not None else torch.zeros_like(parameter)
        difference = (torch_gradient - swift).norm().item()
        squared_difference += difference ** 2
        squared_norm += swift.norm().item() ** 2
        relative = difference / max(swift.norm().item(), 1e-30)
        if relative > worst:
            worst_name, worst = name, relative
    result = {
        "model": kind if kind == "charlm" else configuration["transform"],
        "dtype": str(dtype).replace("torch.", ""),
        "parameters": sum(p.numel() for p in model.parameters()),
        "loss_swift": expected,
        "loss_torch": loss.item(),
        "loss_relative_difference": abs(loss.item() - expected) / abs(expected),
        "gradient_relative_difference": math.sqrt(squared_difference / max(squared_norm, 1e-300)),
        "gradient_worst_parameter": worst_name,
        "gradient_worst_relative_difference": worst,
    }
    if kind == "charlm":
        generated = model.generate(data["generated"].shape[0], data["generated"].shape[1], 0)
        result["generated_tokens_agreement"] = (generated == data["generated"].round().long()).double().mean().item()
    else:
        states, latents = model.generate_from(data["baseNoise"])
        result["generated_latents_max_abs_difference"] = (latents - data["generatedLatents"]).abs().max().item()
        result["generated_latents_max_abs"] = data["generatedLatents"].abs().max().item()
        result["generated_tokens_agreement"] = (states[-1] == data["generated"].round().long()).double().mean().item()
    print(json.dumps(result))


# MARK: Timing

def warmup_rate(step, peak=1e-3, warmup_steps=100):
    """LinearWarmup: peak·min(1, (t + 1)/W)."""
    return peak if step + 1 >= warmup_steps else peak * (step + 1) / warmup_steps


def configuration(kind, args, length):
    heads = args.heads
    if kind == "charlm":
        return {"vocabularySize": VOCABULARY, "length": length, "layerCount": args.baseline_layers,
                "width": args.width, "headCount": heads}
    return {"vocabularySize": VOCABULARY, "latentDimension": args.latent_dim, "length": length,
            "blockCount": args.blocks, "layersPerBlock": args.layers, "width": args.width, "headCount": heads,
            "transform": kind, "mixtureComponents": args.components, "mixtureHiddenSize": args.mixture_hidden,
            "patchSize": args.patch_size, "initialScale": 0.5, "conditionerInput": args.conditioner_input}


def sizes(kind, args, generation):
    """The size keys of a row, as the Swift suite writes them."""
    result = {"context": args.context, "heads": args.heads, "width": args.width}
    if kind == "charlm":
        result["layers"] = args.baseline_layers
    else:
        result.update({"blocks": args.blocks, "layers": args.layers, "latent": args.latent_dim,
                       "patch": args.patch_size})
        if kind != "affine":
            result.update({"components": args.components, "hidden": args.mixture_hidden})
        if args.conditioner_input == "posterior":
            result["posterior"] = 1
    if generation:
        result.update({"count": args.generate_batch, "length": args.generate_length})
    else:
        result["batch"] = args.batch
    return result


def row(case, seconds, tokens, size, suffix):
    median, fastest, slowest = summary(seconds)
    return {"case": case, "impl": "torch" + suffix, "dtype": "float32", "unit": "tokens/s",
            "median": tokens / median, "min": tokens / slowest, "max": tokens / fastest, **size}


def benchmark(kind, args, initial):
    torch.manual_seed(0)
    model = make_model(kind, configuration(kind, args, args.context))
    if initial:
        load_parameters(model, initial)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    parameters = list(model.parameters())
    # Windows at random offsets of a random text: the work of a step does not depend on the characters.
    text = torch.randint(0, VOCABULARY, (max(100_000, 2 * args.context * args.batch),))
    step_count = [0]

    def step():
        starts = torch.randint(0, text.shape[0] - args.context + 1, (args.batch,))
        tokens = text[starts.unsqueeze(1) + torch.arange(args.context)]
        optimizer.zero_grad(set_to_none=True)
        loss = model.loss(tokens)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 10.0)
        for group in optimizer.param_groups:
            group["lr"] = warmup_rate(step_count[0])
        optimizer.step()
        step_count[0] += 1
        if not math.isfinite(loss.item()):
            raise RuntimeError(f"{kind}: non-finite loss")

    def generate():
        model.generate(args.generate_batch, args.generate_length, args.temperature)

    rows = []
    if "train" in args.cases:
        seconds = measure(step, args.warmups, args.repetitions)
        rows.append(row(f"train-{kind}", seconds, args.batch * args.context, sizes(kind, args, False), args.suffix))
    if "generate" in args.cases:
        seconds = measure(generate, args.generate_warmups, args.generate_repetitions)
        rows.append(row(f"generate-{kind}", seconds, args.generate_batch * args.generate_length,
                        sizes(kind, args, True), args.suffix))
    return rows


def run_tuned_child():
    """torch-tuned rows from a child process started with glibc's malloc told
    to keep freed large blocks (it reads these variables once, at start)."""
    command = [sys.executable, os.path.abspath(__file__)] + sys.argv[1:] + ["--suffix=-tuned", "--no-tuned"]
    return run_with_tuning(command, "torch-tuned")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", nargs=2, metavar=("DATA", "PARAMETERS"),
                        help="compare with a Swift model instead of timing")
    parser.add_argument("--models", nargs="+", choices=["affine", "mix1", "mixd", "charlm"],
                        default=["affine", "mix1", "mixd", "charlm"])
    parser.add_argument("--cases", nargs="+", choices=["train", "generate"], default=["train", "generate"])
    parser.add_argument("--initial", nargs="*", default=[], metavar="MODEL=FILE",
                        help="start MODEL from Swift's saved parameters")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--heads", type=int, default=None, help="default width/64, at least 1 (the CLI's)")
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--baseline-layers", type=int, default=4)
    parser.add_argument("--latent-dim", type=int, default=5)
    parser.add_argument("--patch-size", type=int, default=1)
    parser.add_argument("--components", type=int, default=4)
    parser.add_argument("--mixture-hidden", type=int, default=32)
    parser.add_argument("--conditioner-input", choices=["latents", "posterior"], default="latents",
                        help="what the first flow's transformer reads (TarFlowLMConditionerInput)")
    parser.add_argument("--generate-batch", type=int, default=16)
    parser.add_argument("--generate-length", type=int, default=None, help="default the context")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--warmups", type=int, default=3)
    parser.add_argument("--generate-repetitions", type=int, default=None, help="default --repetitions")
    parser.add_argument("--generate-warmups", type=int, default=None, help="default --warmups")
    parser.add_argument("--suffix", default="", help="appended to every impl name (the tuned child's '-tuned')")
    parser.add_argument("--no-tuned", action="store_true", help="skip the torch-tuned child run")
    args = parser.parse_args()
    if args.check:
        check(args)
        return
    args.heads = args.heads or max(1, args.width // 64)
    args.generate_length = args.generate_length or args.context
    args.generate_repetitions = args.generate_repetitions if args.generate_repetitions is not None else args.repetitions
    args.generate_warmups = args.generate_warmups if args.generate_warmups is not None else args.warmups
    initial = dict(item.split("=", 1) for item in args.initial)
    rows = []
    for kind in args.models:
        rows += benchmark(kind, args, initial.get(kind))
    notes = torch_notes(torch) if not args.suffix else []
    if not args.no_tuned:
        tuned_rows, tuned_notes = run_tuned_child()
        rows += tuned_rows
        notes += tuned_notes
    print(json.dumps({"suite": "tarflowlm", "threads": os.cpu_count(), "results": rows, "notes": notes}))


if __name__ == "__main__":
    main()
