"""The CDFlow image model of Sources/FlowModels/CDFlow/ in PyTorch, layer by
layer, with the Swift parameter names, so that a checkpoint written by
Swift's `Layer.save` loads into it unchanged (and back).

Every module mirrors one Swift type; its docstring names the file. The
state-dict keys are Swift's dotted names (`transform.layers.1.layers.2.
conditioner.input.filter`); what Swift fixes at initialisation and does not
hold as a parameter (the circulant-diagonal signs, the LU permutation and
signs) is a buffer under the name the Swift peer writes beside the
parameters (`….diagonals.0.sign`, `….circulants.0.sign`, `….permutation`,
`….sign`). Buffers that follow from the shapes are not persistent.

Also here: safetensors reading and writing (the format is small; the peer
venv has no `safetensors` package), gzipped IDX reading, and BatchSampler
(its epoch permutations come from seeded_random.py, which
Tests/FlowModelsTests/Fixtures/shuffle_reference.py uses too).
"""
import gzip
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

from seeded_random import epoch_permutation


# ---------------------------------------------------------------- configuration

def parse_mixer(text):
    """CDFlowMixer's string form: ("cd", m), ("lu",), ("dense",), ("reverse",)."""
    if text == "cd":
        return ("cd", 2)
    if text.startswith("cd:") and text[3:].isdigit() and int(text[3:]) >= 1:
        return ("cd", int(text[3:]))
    if text in ("lu", "dense", "reverse"):
        return (text,)
    raise ValueError(f"unknown mixer '{text}' (cd, cd:<m>, lu, dense, reverse)")


def parse_coupling_scale(text):
    """CDFlowCouplingScale's string form: ("sigmoid",) or ("softClamp", bound)."""
    if text == "sigmoid":
        return ("sigmoid",)
    if text.startswith("softClamp:"):
        bound = float(text[len("softClamp:"):])
        if bound > 0 and math.isfinite(bound):
            return ("softClamp", bound)
    raise ValueError(f"unknown coupling scale '{text}' (sigmoid, softClamp:<bound>)")


DEFAULT_CONFIGURATION = {
    "channels": 1, "height": 28, "width": 28, "levels": 2, "stepsPerLevel": 8, "hiddenChannels": 64,
    "mixer": "cd:2", "couplingScale": "sigmoid", "learnedSplitPrior": True,
    "splitPriorLogStandardDeviationBound": 2.0, "seed": 0,
}


def configuration_from_json(text):
    """A CDFlowConfiguration's JSON (`jsonString`), completed with the Swift defaults;
    an absent split-prior bound is None (unbounded), as Swift reads it."""
    configuration = dict(DEFAULT_CONFIGURATION)
    configuration["splitPriorLogStandardDeviationBound"] = None
    configuration.update(json.loads(text))
    parse_mixer(configuration["mixer"])
    parse_coupling_scale(configuration["couplingScale"])
    return configuration


# ---------------------------------------------------------------- layers

class ActNorm(torch.nn.Module):
    """FlowLayers/Linear/ActNorm.swift: y = x·exp(logScale) + bias per channel,
    log|det| = H·W·Σ logScale; data-dependent initialisation from the
    population variance (divisor N), logScale = −log σ, bias = −m·exp(logScale),
    a channel with σ = 0 only centred."""

    def __init__(self, channels):
        super().__init__()
        self.logScale = torch.nn.Parameter(torch.zeros(channels))
        self.bias = torch.nn.Parameter(torch.zeros(channels))
        self.pending_initialization = False

    def forward(self, x):
        if self.pending_initialization:
            self.initialize(x)
        shape = (1, -1) + (1,) * (x.dim() - 2)
        y = x * torch.exp(self.logScale).view(shape) + self.bias.view(shape)
        spatial = x[0, 0].numel()
        return y, (self.logScale.sum() * spatial).expand(x.shape[0])

    @torch.no_grad()
    def initialize(self, x):
        axes = [0] + list(range(2, x.dim()))
        mean = x.mean(dim=axes)
        variance = x.var(dim=axes, unbiased=False)
        positive = variance > 0
        log_scale = torch.where(positive, -torch.log(torch.where(positive, variance, torch.ones_like(variance))) / 2,
                                torch.zeros_like(variance))
        self.logScale.copy_(log_scale)
        self.bias.copy_(-mean * torch.exp(log_scale))
        self.pending_initialization = False


class Diagonal(torch.nn.Module):
    """CirculantDiagonalFactors.Diagonal: diag(sign·exp(logMagnitude))."""

    def __init__(self, n, sign):
        super().__init__()
        self.logMagnitude = torch.nn.Parameter(torch.zeros(n))
        self.register_buffer("sign", sign)

    def entries(self, inverted=False):
        return self.sign * torch.exp(-self.logMagnitude if inverted else self.logMagnitude)


class Circulant(torch.nn.Module):
    """CirculantDiagonalFactors.Circulant: circ(c) held as its real-FFT half
    spectrum, bin k = sign_k·exp(logMagnitude_k)·e^(iφ_k), φ = 0 at the DC
    bin and (even n) the Nyquist bin, `phase` the (n − 1)/2 others."""

    def __init__(self, n, sign, phase):
        super().__init__()
        bins = n // 2 + 1
        self.n = n
        self.logMagnitude = torch.nn.Parameter(torch.zeros(bins))
        self.phase = torch.nn.Parameter(phase)
        self.register_buffer("sign", sign)
        multiplicity = torch.full((bins,), 2.0)
        multiplicity[0] = 1
        if n % 2 == 0:
            multiplicity[-1] = 1
        # Bins with a distinct conjugate partner count twice in Σ over all n bins.
        self.register_buffer("multiplicity", multiplicity, persistent=False)
        self.padding = (1, 1 if n % 2 == 0 else 0)

    def spectrum(self, inverted=False):
        """ĉ, or 1/ĉ = sign·exp(−logMagnitude)·e^(−iφ), `[n/2 + 1]` complex."""
        direction = -1.0 if inverted else 1.0
        angle = F.pad(self.phase, self.padding) * direction
        magnitude = self.sign * torch.exp(self.logMagnitude * direction)
        return torch.complex(magnitude * torch.cos(angle), magnitude * torch.sin(angle))

    def logdet(self):
        return (self.logMagnitude * self.multiplicity).sum()


class CirculantDiagonalConv1x1(torch.nn.Module):
    """FlowLayers/CirculantDiagonal/CirculantDiagonalConv1x1.swift:
    W = D₁·C₁·D₂·…·C_{m−1}·D_m on the channels of every pixel (D_m first),
    log|det| = H·W·(Σ_j Σ logMagnitude(D_j) + Σ_j Σ_k mult_k·logMagnitude(C_j)_k).
    Random initialisation as CirculantDiagonalFactors(initialization: .random)."""

    def __init__(self, n, m, generator=None):
        super().__init__()
        bins = n // 2 + 1

        def signs(count):
            return torch.randint(0, 2, (count,), generator=generator).float() * 2 - 1

        diagonals, circulants = [], []
        for index in range(m):
            diagonals.append(Diagonal(n, signs(n)))
            if index == m - 1:
                break
            real_bins = [0, bins - 1] if n % 2 == 0 and n > 1 else [0]
            bin_sign = torch.ones(bins)
            for k, value in zip(real_bins, signs(len(real_bins))):
                bin_sign[k] = value
            phase = (torch.rand((n - 1) // 2, generator=generator) * 2 - 1) * math.pi
            circulants.append(Circulant(n, bin_sign, phase))
        self.diagonals = torch.nn.ModuleList(diagonals)
        self.circulants = torch.nn.ModuleList(circulants)
        self.n = n

    def logdet_per_pixel(self):
        total = sum(d.logMagnitude.sum() for d in self.diagonals)
        return total + sum((c.logdet() for c in self.circulants), torch.zeros(()))

    def forward(self, x):
        rows = x.permute(0, 2, 3, 1)
        for j in range(len(self.diagonals) - 1, -1, -1):
            rows = rows * self.diagonals[j].entries()
            if j > 0:
                spectrum = self.circulants[j - 1].spectrum()
                rows = torch.fft.irfft(torch.fft.rfft(rows, dim=-1) * spectrum, n=self.n, dim=-1)
        pixels = x.shape[2] * x.shape[3]
        return rows.permute(0, 3, 1, 2), (self.logdet_per_pixel() * pixels).expand(x.shape[0])


def random_orthogonal(n, generator=None):
    """Haar-distributed, as FlowLayers' randomOrthogonalMatrix (Mezzadri 2007)."""
    q, r = torch.linalg.qr(torch.randn(n, n, generator=generator, dtype=torch.float64))
    return (q * torch.sign(torch.diagonal(r))).float()


class LUInvertibleConvolution1x1(torch.nn.Module):
    """FlowLayers/Linear/LUInvertibleConvolution1x1.swift (Glow §3.2):
    W = P·(L·mask_L + I)·(U·mask_U + diag(sign·exp(logScale))), log|det| = H·W·Σ logScale."""

    def __init__(self, n, generator=None):
        super().__init__()
        permutation, lower, upper = torch.linalg.lu(random_orthogonal(n, generator).double())
        diagonal = torch.diagonal(upper)
        self.register_buffer("permutation", permutation.float())
        self.register_buffer("sign", torch.where(diagonal < 0, -1.0, 1.0).float())
        self.register_buffer("lower_mask", torch.tril(torch.ones(n, n), -1), persistent=False)
        self.register_buffer("upper_mask", torch.triu(torch.ones(n, n), 1), persistent=False)
        self.register_buffer("eye", torch.eye(n), persistent=False)
        self.lower = torch.nn.Parameter((lower * torch.tril(torch.ones(n, n, dtype=torch.float64), -1)).float())
        self.upper = torch.nn.Parameter((upper * torch.triu(torch.ones(n, n, dtype=torch.float64), 1)).float())
        self.logScale = torch.nn.Parameter(torch.log(torch.abs(diagonal)).float())

    def weight(self):
        lower = self.lower * self.lower_mask + self.eye
        upper = self.upper * self.upper_mask + self.eye * (self.sign * torch.exp(self.logScale))
        return self.permutation @ (lower @ upper)

    def forward(self, x):
        n = x.shape[1]
        y = F.conv2d(x, self.weight().view(n, n, 1, 1))
        return y, (self.logScale.sum() * (x.shape[2] * x.shape[3])).expand(x.shape[0])


class InvertibleConvolution1x1(torch.nn.Module):
    """FlowLayers/Linear/InvertibleConvolution1x1.swift: a dense W, log|det| = H·W·log|det W|."""

    def __init__(self, n, generator=None):
        super().__init__()
        self.weight = torch.nn.Parameter(random_orthogonal(n, generator))

    def forward(self, x):
        n = x.shape[1]
        y = F.conv2d(x, self.weight.view(n, n, 1, 1))
        return y, (torch.linalg.slogdet(self.weight).logabsdet * (x.shape[2] * x.shape[3])).expand(x.shape[0])


class ChannelReversal(torch.nn.Module):
    """FlowLayers/Linear/ChannelPermutation.swift, `reversingChannels`: no parameters."""

    def forward(self, x):
        return x.flip(1), x.new_zeros(x.shape[0])


class Conv2D(torch.nn.Module):
    """FlowLayers/Networks/Conv2D.swift: `filter` [out, in, kh, kw] and `bias` [out],
    initialised as nn.Conv2d (uniform in ±1/√fan_in) or zero."""

    def __init__(self, inputs, outputs, kernel, padding, zero=False, generator=None):
        super().__init__()
        bound = 1 / math.sqrt(inputs * kernel * kernel)

        def uniform(*shape):
            if zero:
                return torch.zeros(*shape)
            return (torch.rand(*shape, generator=generator) * 2 - 1) * bound

        self.filter = torch.nn.Parameter(uniform(outputs, inputs, kernel, kernel))
        self.bias = torch.nn.Parameter(uniform(outputs))
        self.padding = padding

    def forward(self, x):
        return F.conv2d(x, self.filter, self.bias, padding=self.padding)


class GlowConditioner(torch.nn.Module):
    """FlowModels/CDFlow/GlowConditioner.swift: conv3x3 → ReLU → conv1x1 → ReLU → conv3x3 (zero-initialised)."""

    def __init__(self, inputs, hidden, outputs, generator=None):
        super().__init__()
        self.input = Conv2D(inputs, hidden, 3, 1, generator=generator)
        self.hidden = Conv2D(hidden, hidden, 1, 0, generator=generator)
        self.output = Conv2D(hidden, outputs, 3, 1, zero=True)

    def forward(self, x):
        return self.output(torch.relu(self.hidden(torch.relu(self.input(x)))))


class AffineCoupling(torch.nn.Module):
    """FlowLayers/Coupling/AffineCoupling.swift with CouplingMask.channelHalf:
    the first ⌊c/2⌋ channels condition the rest; the conditioner's output
    is [shifts, raw scales]; y_b = x_b·exp(log scale(s)) + t with
    log scale = log σ(s + 2) or c·tanh(s/c); log|det| = Σ log scale."""

    def __init__(self, conditioner, scale):
        super().__init__()
        self.conditioner = conditioner
        self.scale = scale

    def forward(self, x):
        split = x.shape[1] // 2
        identity, active = x[:, :split], x[:, split:]
        shift, raw = self.conditioner(identity).chunk(2, dim=1)
        if self.scale[0] == "sigmoid":
            log_scale = F.logsigmoid(raw + 2)
        else:
            log_scale = torch.tanh(raw / self.scale[1]) * self.scale[1]
        transformed = active * torch.exp(log_scale) + shift
        return torch.cat([identity, transformed], dim=1), log_scale.flatten(1).sum(1)


def space_to_depth(x):
    """FlowLayers/Reshaping/Squeeze.swift: output[b, 4c + 2dy + dx, i, j] = x[b, c, 2i + dy, 2j + dx]."""
    b, c, h, w = x.shape
    return x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(b, 4 * c, h // 2, w // 2)


def depth_to_space(y):
    b, c, h, w = y.shape
    return y.reshape(b, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(b, c // 4, 2 * h, 2 * w)


class Squeeze(torch.nn.Module):
    def forward(self, x):
        return space_to_depth(x), x.new_zeros(x.shape[0])


class Unsqueeze(torch.nn.Module):
    def forward(self, x):
        return depth_to_space(x), x.new_zeros(x.shape[0])


class MultiScaleSplit(torch.nn.Module):
    """FlowLayers/Reshaping/MultiScaleSplit.swift: [x₁, (x₂ − μ(x₁))·exp(−log σ(x₁))],
    log|det| = −Σ log σ; μ, r = chunk(conv3x3(x₁)) (zero-initialised), log σ = r or,
    with a bound c, c·tanh(r/c); or the identity."""

    def __init__(self, channels, learned, bound=None):
        super().__init__()
        self.learned = learned
        self.bound = bound
        if learned:
            self.filter = torch.nn.Parameter(torch.zeros(channels, channels // 2, 3, 3))
            self.bias = torch.nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        if not self.learned:
            return x, x.new_zeros(x.shape[0])
        kept, factored = x.chunk(2, dim=1)
        mean, log_sd = F.conv2d(kept, self.filter, self.bias, padding=1).chunk(2, dim=1)
        if self.bound is not None:
            log_sd = torch.tanh(log_sd / self.bound) * self.bound
        standardised = (factored - mean) * torch.exp(-log_sd)
        return torch.cat([kept, standardised], dim=1), -log_sd.flatten(1).sum(1)


class MultiScale(torch.nn.Module):
    """FlowLayers/Reshaping/MultiScale.swift: [inner(x₁), standardised x₂], the split first."""

    def __init__(self, inner, split):
        super().__init__()
        self.inner = inner
        self.split = split

    def forward(self, x):
        standardised, split_logdet = self.split(x)
        kept, factored = standardised.chunk(2, dim=1)
        inner, inner_logdet = self.inner(kept)
        return torch.cat([inner, factored], dim=1), inner_logdet + split_logdet


class Chain(torch.nn.Module):
    """FlowLayers/Core/Chain.swift: layers in order, log-dets summed (parameters `layers.<i>.…`)."""

    def __init__(self, layers):
        super().__init__()
        self.layers = torch.nn.ModuleList(layers)

    def forward(self, x):
        total = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, logdet = layer(x)
            total = total + logdet
        return x, total


class CDFlow(torch.nn.Module):
    """FlowModels/CDFlow/CDFlow.swift and CDFlow+Architecture.swift: L levels of
    Chain([Squeeze, K × Chain([ActNorm, mixer, AffineCoupling]), MultiScale(level ℓ+1), Unsqueeze]),
    the last level without the split; a standard-normal base over the image's shape."""

    def __init__(self, configuration, generator=None):
        super().__init__()
        self.configuration = configuration
        self.mixer = parse_mixer(configuration["mixer"])
        self.scale = parse_coupling_scale(configuration["couplingScale"])
        self.transform = self.level(0, configuration["channels"], generator)
        self.dimensions = configuration["channels"] * configuration["height"] * configuration["width"]

    def level(self, index, channels, generator):
        squeezed = 4 * channels
        layers = [Squeeze()]
        for _ in range(self.configuration["stepsPerLevel"]):
            layers.append(self.step(squeezed, generator))
        if index < self.configuration["levels"] - 1:
            inner = self.level(index + 1, squeezed // 2, generator)
            split = MultiScaleSplit(squeezed, self.configuration["learnedSplitPrior"],
                                    self.configuration.get("splitPriorLogStandardDeviationBound"))
            layers.append(MultiScale(inner, split))
        layers.append(Unsqueeze())
        return Chain(layers)

    def step(self, channels, generator):
        identity = channels // 2
        active = channels - identity
        conditioner = GlowConditioner(identity, self.configuration["hiddenChannels"], 2 * active, generator)
        if self.mixer[0] == "cd":
            mixer = CirculantDiagonalConv1x1(channels, self.mixer[1], generator)
        elif self.mixer[0] == "lu":
            mixer = LUInvertibleConvolution1x1(channels, generator)
        elif self.mixer[0] == "dense":
            mixer = InvertibleConvolution1x1(channels, generator)
        else:
            mixer = ChannelReversal()
        return Chain([ActNorm(channels), mixer, AffineCoupling(conditioner, self.scale)])

    def log_probability(self, x):
        """log p(x) per image, nats, of the scaled images x ∈ [−½, ½)."""
        z, logdet = self.transform(x)
        squares = (z * z).flatten(1).sum(1)
        return squares * -0.5 - 0.5 * self.dimensions * math.log(2 * math.pi) + logdet

    def negative_log_likelihood(self, x):
        return -self.log_probability(x).mean()

    def bits_per_dimension(self, negative_log_likelihood):
        """(NLL + D·log 256)/(D·log 2), FlowLayers/Dequantization/BitsPerDimension.swift."""
        return negative_log_likelihood / (self.dimensions * math.log(2)) + 8

    @torch.no_grad()
    def initialize(self, x):
        """ActNorm's data-dependent initialisation, each ActNorm from its own input on `x`."""
        for module in self.modules():
            if isinstance(module, ActNorm):
                module.pending_initialization = True
        self.transform(x)


def dequantize(pixels, generator=None):
    """x = (pixel + u)/256 − ½, u ~ U[0, 1) (FlowLayers' UniformDequantization, centred)."""
    u = torch.rand(pixels.shape, generator=generator, dtype=torch.float64)
    return ((pixels.double() + u) / 256 - 0.5).to(pixels.dtype)


# ---------------------------------------------------------------- safetensors

DTYPES = {"F32": (np.float32, torch.float32), "F64": (np.float64, torch.float64)}


def read_safetensors(path):
    """(tensors by name as float64 torch tensors, metadata) of a safetensors file with F32/F64 tensors."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {}) or {}
    base = 8 + length
    tensors = {}
    for name, info in header.items():
        if info["dtype"] not in DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}; only F32 and F64 are read")
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[base + begin:base + end], dtype=np.dtype(DTYPES[info["dtype"]][0]).newbyteorder("<"))
        tensors[name] = torch.from_numpy(array.astype(np.float64).reshape(info["shape"]))
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes float32/float64 torch tensors (little-endian, names sorted) and string metadata."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        code = "F64" if tensor.dtype == torch.float64 else "F32"
        raw = tensor.numpy().astype(DTYPES[code][0]).astype(np.dtype(DTYPES[code][0]).newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks))


def load_swift_checkpoint(model, tensors):
    """Copies every parameter and persistent buffer of `model` from `tensors` (Swift names);
    raises when one is missing, surplus or of another shape."""
    state = model.state_dict()
    missing = sorted(set(state) - set(tensors))
    surplus = sorted(set(tensors) - set(state))
    if missing or surplus:
        raise ValueError(f"checkpoint and model differ: missing {missing[:8]}{'…' if len(missing) > 8 else ''}, "
                         f"surplus {surplus[:8]}{'…' if len(surplus) > 8 else ''}")
    for name, value in state.items():
        if tuple(tensors[name].shape) != tuple(value.shape):
            raise ValueError(f"{name}: checkpoint shape {list(tensors[name].shape)}, model {list(value.shape)}")
    model.load_state_dict({name: tensors[name].to(value.dtype) for name, value in state.items()})
    for module in model.modules():
        if isinstance(module, ActNorm):
            module.pending_initialization = False


# ---------------------------------------------------------------- data

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def read_idx_images(path):
    """`[count, 1, rows, columns]` uint8 from a gzipped IDX3 file."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count, rows, columns = struct.unpack(">IIII", data[:16])
    if magic != 0x00000803 or len(data) != 16 + count * rows * columns:
        raise ValueError(f"{path}: not an IDX3 image file of {count}×{rows}×{columns}")
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, 1, rows, columns)


def fashion_mnist(split, directory=FASHION_MNIST):
    name = "train-images-idx3-ubyte.gz" if split == "train" else "t10k-images-idx3-ubyte.gz"
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} is missing (apt-get install dataset-fashion-mnist)")
    return read_idx_images(path)


class BatchSampler:
    """FlowModels/Data/BatchSampler.swift with dropLast: epoch after epoch of
    seeded permutations, `batch` indices at a time."""

    def __init__(self, count, batch, seed):
        self.count, self.batch, self.seed = count, batch, seed
        self.epoch, self.position, self.order = 0, 0, None

    def next(self):
        if self.order is None:
            self.order = epoch_permutation(self.count, self.seed, self.epoch)
        indices = self.order[self.position * self.batch:(self.position + 1) * self.batch]
        self.position += 1
        if self.position == self.count // self.batch:
            self.epoch, self.position, self.order = self.epoch + 1, 0, None
        return indices
