"""PyTorch peer of `flowbench rectangular`: the rectangular flow that
`flows train rectangular --dataset fashion-mnist` trains, in eager PyTorch on
the CPU, written to match Sources/FlowModels/Rectangular/ (Caterini et al.,
"Rectangular Flows for Manifold Learning", NeurIPS 2021):

    g = f⁻¹ ∘ pad: pad appends D − d zeros to z and permutes the D
    coordinates (out[:, i] = padded[:, indices[i]]); f is a RealNVP of
    `couplings` affine couplings on R^D (channel-half masks, alternating,
    conditioner Linear → tanh → … → zero-initialised Linear giving shift and
    raw scale, log-scale = 3·tanh(s/3)); g†(x) keeps the d coordinates of
    f(x) where z was placed. The prior p_Z is a RealNVP of `prior_couplings`
    couplings on R^d over N(0, I) (a learnable scalar affine map at d = 1).

    loss = mean( w·(−log p_Z(g†(x)) + ½ log det JᵀJ) + β‖x − g(g†(x))‖² )

with ½ log det JᵀJ from one of
  exact       the d one-hot tangents through ONE forward pass of g
              (torch.func.jvp under torch.func.vmap; the tangents stay
              differentiable), JᵀJ, Cholesky with jitter 1e-6·10^k on
              failure, log det = 2Σ log diag L, reverse mode through it;
  stochastic  K Gaussian Hutchinson probes ε, (JᵀJ)u = ε by conjugate
              gradients (JVP by torch.func.jvp, VJP by torch.func.vjp, on a
              copy of g with detached parameters and no tape; rows stop at
              ‖r‖ ≤ tol·‖ε‖ or on a zero / non-finite curvature, as
              FlowTensor's conjugateGradientSolve; the cap is d by default),
              then the surrogate (J·sg(u))·(J·ε) from ONE differentiable
              forward pass carrying the 2K tangents.

A training step is: loss, backward, clip_grad_norm_ to `clip`, Adam step
(β₁ 0.9, β₂ 0.999, ε 1e-8), and it is skipped when the loss or the gradient
norm is not finite or JᵀJ stays singular, as Swift's.

Modes (each prints one JSON object in flowbench's format):

    --case exact:5        time one (estimator, d) case (from Swift's initial model
                          and batch with --start PARAMS BATCH): median ms per training
                          step, the mean CG iterations per step (stochastic)
                          and the process's peak resident set during the steps
                          (VmHWM after resetting it through /proc/self/clear_refs
                          once the model and the batch are ready) and its rise
                          over the resident set at that point, in MB; flowbench runs one process
                          per case so that the peaks are the case's own.
    --trace PARAMS IDX    train the stochastic model from Swift's initial
                          parameters on Swift's batches (image indices) and
                          print the CG iterations of every step.
    --check DATA PARAMS   recompute the exact and stochastic losses and their
                          gradients for Swift's parameters, batch and probes
                          and print the differences.

Exits with status 3 and a sentence on stderr when this Python has no torch.

    python torch_rectangular.py --case stochastic:20 --ambient 784 --batch-size 32
"""
import argparse
import gzip
import json
import math
import os
import resource
import struct
import sys

import numpy as np

from peer_timing import measure, summary

try:
    import torch
    from torch.func import functional_call, jvp, vjp, vmap
except ImportError:
    sys.stderr.write(f"{sys.executable} has no torch (make peers-torch installs it into .venv-peers)\n")
    sys.exit(3)

from torch_safetensors import read_safetensors

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
INITIAL_JITTER = 1e-6   # GramLogDeterminant.initialJitter
JITTER_GROWTH = 10.0    # GramLogDeterminant.jitterGrowth
MAXIMUM_RETRIES = 10    # GramLogDeterminant.maximumRetries
SOFT_CLAMP = 3.0        # RealNVPRectangularFlow's couplings: scale .softClamp(bound: 3)


# ---------------------------------------------------------------- model

class MLP(torch.nn.Module):
    """Linear layers with tanh between them, the last one zero-initialised
    (FlowLayers' MLP with zeroInitializingLastLayer; PyTorch's default
    Linear init is Swift's Dense init, U(±1/√fan_in))."""

    def __init__(self, sizes):
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        torch.nn.init.zeros_(self.layers[-1].weight)
        torch.nn.init.zeros_(self.layers[-1].bias)

    def forward(self, x):
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index < len(self.layers) - 1:
                x = torch.tanh(x)
        return x


class AffineCoupling(torch.nn.Module):
    """FlowLayers' AffineCoupling with a channel-half mask: the first ⌊c/2⌋
    features condition the other ⌈c/2⌉ (swapped: the last ⌈c/2⌉ condition
    the first ⌊c/2⌋); forward y_b = x_b·exp(ls) + t, ls = 3·tanh(s/3)."""

    def __init__(self, features, hidden, swapped):
        super().__init__()
        split = features // 2
        self.sizes = (split, features - split)
        self.swapped = swapped
        inputs, outputs = (features - split, split) if swapped else (split, features - split)
        self.conditioner = MLP([inputs] + list(hidden) + [2 * outputs])

    def _parts(self, x):
        first, second = x.split(self.sizes, dim=1)
        return (second, first) if self.swapped else (first, second)  # (identity, active)

    def _merge(self, identity, transformed):
        return torch.cat([transformed, identity] if self.swapped else [identity, transformed], dim=1)

    def _shift_and_log_scale(self, identity):
        shift, raw = self.conditioner(identity).chunk(2, dim=1)
        return shift, torch.tanh(raw / SOFT_CLAMP) * SOFT_CLAMP

    def forward(self, x):
        identity, active = self._parts(x)
        shift, log_scale = self._shift_and_log_scale(identity)
        return self._merge(identity, active * torch.exp(log_scale) + shift), log_scale.sum(dim=1)

    def inverse(self, y):
        identity, active = self._parts(y)
        shift, log_scale = self._shift_and_log_scale(identity)
        return self._merge(identity, (active - shift) * torch.exp(-log_scale)), -log_scale.sum(dim=1)


class ScalarAffine(torch.nn.Module):
    """y = x·exp(logScale) + shift, both scalars (the prior at d = 1)."""

    def __init__(self):
        super().__init__()
        self.logScale = torch.nn.Parameter(torch.zeros(()))
        self.shift = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x * torch.exp(self.logScale) + self.shift, self.logScale * x.shape[1] + torch.zeros(x.shape[0])

    def inverse(self, y):
        return (y - self.shift) * torch.exp(-self.logScale), -self.logScale * y.shape[1] + torch.zeros(y.shape[0])


class Chain(torch.nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layers = torch.nn.ModuleList(layers)

    def forward(self, x):
        total = 0
        for layer in self.layers:
            x, log_determinant = layer(x)
            total = total + log_determinant
        return x, total

    def inverse(self, y):
        total = 0
        for layer in reversed(self.layers):
            y, log_determinant = layer.inverse(y)
            total = total + log_determinant
        return y, total


def real_nvp(features, layers, hidden):
    return Chain([AffineCoupling(features, hidden, swapped=index % 2 == 1) for index in range(layers)])


class Injection(torch.nn.Module):
    """g = f⁻¹ ∘ pad (InjectiveComposition<ZeroPadding, Chain>); `forward` is
    g (embed), so that torch.func.functional_call can run it on detached
    parameters."""

    def __init__(self, latent, ambient, couplings, hidden, indices):
        super().__init__()
        self.latent = latent
        self.ambient = ambient
        self.register_buffer("indices", torch.as_tensor(indices, dtype=torch.long), persistent=False)
        inverse = torch.empty_like(self.indices)
        inverse[self.indices] = torch.arange(ambient)
        self.register_buffer("latent_positions", inverse[:latent].clone(), persistent=False)
        self.transform = real_nvp(ambient, couplings, hidden)

    def forward(self, z):
        padded = torch.nn.functional.pad(z, (0, self.ambient - self.latent))
        return self.transform.inverse(padded.index_select(1, self.indices))[0]

    def project(self, x):
        return self.transform(x)[0].index_select(1, self.latent_positions)


class Prior(torch.nn.Module):
    """p_Z: N(0, I) on R^d through a RealNVP (a scalar affine map at d = 1)."""

    def __init__(self, latent, couplings, hidden):
        super().__init__()
        self.latent = latent
        self.transform = Chain([ScalarAffine()]) if latent == 1 else real_nvp(latent, couplings, hidden)

    def log_probability(self, z):
        u, log_determinant = self.transform(z)
        return -0.5 * (u * u).sum(dim=1) - 0.5 * self.latent * math.log(2 * math.pi) + log_determinant


class RectangularFlow(torch.nn.Module):
    """Parameter names are Swift's (`injection.transform.layers.0.conditioner.layers.0.weight`, …)."""

    def __init__(self, latent, ambient, couplings, hidden, prior_couplings, prior_hidden, indices):
        super().__init__()
        self.injection = Injection(latent, ambient, couplings, hidden, indices)
        self.prior = Prior(latent, prior_couplings, prior_hidden)

    @property
    def latent(self):
        return self.injection.latent


# ---------------------------------------------------------------- estimators

class SingularGram(Exception):
    pass


def gram_log_determinant(gram):
    """log det per matrix by Cholesky, with GramLogDeterminant.cholesky's jitter retries."""
    if not torch.isfinite(gram).all():
        raise SingularGram("JᵀJ is not finite")
    identity = torch.eye(gram.shape[-1], dtype=gram.dtype)
    jitter = 0.0
    for attempt in range(MAXIMUM_RETRIES + 1):
        factor, info = torch.linalg.cholesky_ex(gram if jitter == 0 else gram + jitter * identity)
        if not info.any():
            return 2 * torch.log(torch.diagonal(factor, dim1=-2, dim2=-1)).sum(dim=-1), jitter
        jitter = INITIAL_JITTER if jitter == 0 else jitter * JITTER_GROWTH
    raise SingularGram(f"JᵀJ singular after {MAXIMUM_RETRIES} jitter retries")


def tangents(model, z, directions):
    """g(z) `[batch, D]` and J·v for every v of `directions` `[n, batch, d]`
    (`[n, batch, D]`) from one forward pass with n tangents, differentiable."""
    return vmap(lambda v: jvp(model.injection, (z,), (v,)), out_dims=(None, 0))(directions)


def exact_terms(model, z):
    """(½ log det JᵀJ `[batch]`, g(z), jitter)."""
    batch, d = z.shape
    one_hot = torch.eye(d, dtype=z.dtype).reshape(d, 1, d).expand(d, batch, d)
    reconstruction, columns = tangents(model, z, one_hot)
    jacobian = columns.permute(1, 2, 0)  # [batch, D, d]
    log_determinant, jitter = gram_log_determinant(jacobian.transpose(1, 2) @ jacobian)
    return 0.5 * log_determinant, reconstruction, jitter


def conjugate_gradients(b, apply, tolerance, maximum_iterations):
    """Row-wise CG from 0 for A_i u_i = b_i (FlowTensor's conjugateGradientSolve):
    (u, iterations per row, converged per row)."""
    rows = b.shape[0]
    solution = torch.zeros_like(b)
    residual = b.clone()
    direction = residual.clone()
    squares = (residual * residual).sum(dim=1)
    norms = squares.sqrt()
    iterations = torch.zeros(rows, dtype=torch.long)
    finite = torch.isfinite(norms)
    converged = norms == 0
    active = finite & (norms != 0) & (1 > tolerance)
    converged |= finite & (norms != 0) & ~active
    step = 0
    while step < maximum_iterations and bool(active.any()):
        step += 1
        product = apply(direction)
        curvature = (direction * product).sum(dim=1)
        step_size = squares / curvature
        moving = active & (curvature > 0) & torch.isfinite(curvature) & torch.isfinite(step_size)
        active = moving.clone()
        step_column = torch.where(moving, step_size, torch.zeros_like(step_size)).unsqueeze(1)
        mask = moving.unsqueeze(1)
        solution = torch.where(mask, solution + step_column * direction, solution)
        residual = torch.where(mask, residual - step_column * product, residual)
        new_squares = (residual * residual).sum(dim=1)
        iterations += moving.long()
        relative = new_squares.sqrt() / norms
        not_finite = moving & ~torch.isfinite(new_squares)
        done = moving & torch.isfinite(new_squares) & ((new_squares == 0) | (relative.double() <= tolerance))
        converged |= done
        active &= ~(not_finite | done)
        ratio = torch.where(active, new_squares / squares, torch.zeros_like(squares))
        squares = torch.where(moving, new_squares, squares)
        direction = torch.where(active.unsqueeze(1), residual + ratio.unsqueeze(1) * direction,
                                torch.zeros_like(direction))
    return solution, iterations, converged


def stochastic_terms(model, z, probes, tolerance, maximum_iterations, epsilon=None, generator=None):
    """(½ × the Hutchinson surrogate `[batch]`, g(z), CG iterations (max over rows), converged)."""
    batch, d = z.shape
    if epsilon is None:
        epsilon = torch.randn(probes, batch, d, dtype=z.dtype, generator=generator)
    detached = {name: value.detach() for name, value in model.injection.named_parameters()}
    detached.update(dict(model.injection.named_buffers()))

    def frozen(points):
        return functional_call(model.injection, detached, (points,))

    points = z.detach().unsqueeze(0).expand(probes, batch, d).reshape(probes * batch, d)
    with torch.no_grad():
        _, pullback = vjp(frozen, points)

        def apply(v):
            return pullback(jvp(frozen, (points,), (v,))[1])[0]

        u, iterations, converged = conjugate_gradients(
            epsilon.reshape(probes * batch, d), apply, tolerance, maximum_iterations or d)
    directions = torch.cat([u.reshape(probes, batch, d), epsilon], dim=0)
    reconstruction, products = tangents(model, z, directions)
    products = products.reshape(2, probes, batch, -1)
    surrogate = (products[0] * products[1]).sum(dim=(0, 2)) / probes
    return 0.5 * surrogate, reconstruction, int(iterations.max()) if iterations.numel() else 0, bool(converged.all())


def loss(model, x, estimator, settings, weight, epsilon=None, generator=None):
    """(loss, CG iterations or None): RectangularFlow.loss(on:objective:step:using:)."""
    z = model.injection.project(x)
    prior_log_probability = model.prior.log_probability(z)
    iterations = None
    if estimator == "exact":
        half_log_gram, reconstruction, _ = exact_terms(model, z)
    else:
        half_log_gram, reconstruction, iterations, _ = stochastic_terms(
            model, z, settings["probes"], settings["tolerance"], settings["maximum_iterations"], epsilon, generator)
    squared_errors = ((x - reconstruction) ** 2).sum(dim=1)
    value = (weight * (-prior_log_probability + half_log_gram) + settings["beta"] * squared_errors).mean()
    return value, iterations


class Trainer:
    """One training step at a time: loss, backward, clipping, Adam."""

    def __init__(self, model, estimator, settings, generator):
        self.model = model
        self.estimator = estimator
        self.settings = settings
        self.generator = generator
        self.optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
        self.step_index = 0
        self.skipped = 0

    def step(self, x):
        """The CG iterations of this step (None for exact)."""
        warmup = self.settings["warmup"]
        weight = 1.0 if self.step_index >= warmup else 0.0 if self.step_index <= 0 else self.step_index / warmup
        self.step_index += 1
        self.optimizer.zero_grad(set_to_none=True)
        try:
            value, iterations = loss(self.model, x, self.estimator, self.settings, weight, generator=self.generator)
        except SingularGram:
            self.skipped += 1
            return None
        value.backward()
        parameters = list(self.model.parameters())
        if self.settings["clip"]:
            norm = torch.nn.utils.clip_grad_norm_(parameters, self.settings["clip"])
        else:
            norm = torch.sqrt(sum((p.grad ** 2).sum() for p in parameters if p.grad is not None))
        if not (math.isfinite(value.item()) and math.isfinite(float(norm))):
            self.skipped += 1
            return iterations
        self.optimizer.step()
        return iterations


# ---------------------------------------------------------------- data and files

def read_idx_images(path, count=None):
    """`[count, rows·columns]` uint8 from a gzipped IDX3 file (all images when `count` is None)."""
    with gzip.open(path, "rb") as f:
        head = f.read(16)
        magic, total, rows, columns = struct.unpack(">IIII", head)
        if magic != 0x00000803:
            raise ValueError(f"{path}: not an IDX3 image file")
        count = total if count is None else min(count, total)
        data = f.read(count * rows * columns)
    return np.frombuffer(data, dtype=np.uint8).reshape(count, rows * columns)


def dequantize(pixels, generator):
    """x = (b + u)/256 − ½, u ~ U[0, 1) (centeredDequantized in RectangularImageExperiment.swift)."""
    u = torch.rand(pixels.shape, generator=generator, dtype=torch.float32)
    return (pixels.float() + u) / 256 - 0.5


def timing_batch(args, generator):
    """The first `batch` Fashion-MNIST training images dequantized once, or
    seeded random pixels when D ≠ 784 or the files are missing; and which."""
    path = os.path.join(FASHION_MNIST, "train-images-idx3-ubyte.gz")
    if args.ambient == 784 and args.data != "random" and os.path.exists(path):
        pixels = torch.from_numpy(read_idx_images(path, args.batch_size).copy())
        source = "Fashion-MNIST (first training images)"
    else:
        pixels = torch.randint(0, 256, (args.batch_size, args.ambient), generator=generator)
        source = "seeded random pixels"
    return dequantize(pixels, generator), source


def is_dense_weight(model, name):
    module = dict(model.named_modules()).get(name.rsplit(".", 1)[0])
    return isinstance(module, torch.nn.Linear) and name.endswith(".weight")


def load_swift_parameters(model, tensors):
    """Copies Swift's parameters (Dense weights [in, out], Linear's [out, in]); raises on a mismatch."""
    names = {name for name, _ in model.named_parameters()}
    missing, surplus = sorted(names - set(tensors)), sorted(set(tensors) - names)
    if missing or surplus:
        raise ValueError(f"Swift and PyTorch parameters differ: missing {missing[:6]}, surplus {surplus[:6]}")
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            value = tensors[name].T if is_dense_weight(model, name) else tensors[name]
            if tuple(value.shape) != tuple(parameter.shape):
                raise ValueError(f"{name}: Swift {list(value.shape)}, PyTorch {list(parameter.shape)}")
            parameter.copy_(value.to(parameter.dtype))


def swift_gradient(model, name, gradient):
    return gradient.T if is_dense_weight(model, name) else gradient


def model_from_swift(path, dtype):
    """The model of a Swift parameter file whose metadata hold the padding's `indices` and the architecture."""
    tensors, metadata = read_safetensors(path)
    indices = json.loads(metadata["indices"])
    latent = int(metadata["latentSize"])
    widths = lambda text: [int(w) for w in json.loads(text)]
    model = RectangularFlow(latent, len(indices), int(metadata["couplingLayers"]), widths(metadata["hiddenSizes"]),
                            int(metadata["priorCouplingLayers"]), widths(metadata["priorHiddenSizes"]), indices)
    model = model.to(dtype)
    load_swift_parameters(model, tensors)
    return model


def status_megabytes(key):
    """A "Key:   1234 kB" line of /proc/self/status, in MB (None when absent)."""
    try:
        with open("/proc/self/status") as file:
            for line in file:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak():
    """Resets VmHWM to the current resident set ("5" to /proc/self/clear_refs,
    Linux ≥ 4.0), as flowbench's ResidentMemory.resetPeak; whether it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
        return True
    except OSError:
        return False


def peak_megabytes():
    """The peak resident set since the last reset_peak(), MB (ru_maxrss, in kB on Linux, without /proc)."""
    peak = status_megabytes("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def settings_of(args):
    return {"probes": args.probes, "tolerance": args.cg_tolerance, "maximum_iterations": args.cg_max_iterations,
            "beta": args.beta, "lr": args.lr, "clip": args.clip, "warmup": args.warmup}


# ---------------------------------------------------------------- modes

def run_case(args):
    """Median ms per training step, peak memory and CG iterations of one (estimator, d)."""
    estimator, _, latent = args.case.partition(":")
    latent = int(latent)
    if estimator not in ("exact", "stochastic") or not 1 <= latent <= args.ambient:
        raise SystemExit(f"--case {args.case}: expected exact:<d> or stochastic:<d> with 1 ≤ d ≤ {args.ambient}")
    generator = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    if args.start:
        # Swift's initial model and batch: both sides then take the same steps
        # (only the probes differ), so that their CG iterations match too.
        model = model_from_swift(args.start[0], torch.float32)
        if model.latent != latent:
            raise SystemExit(f"--start {args.start[0]} holds a model of d = {model.latent}, not {latent}")
        tensors, metadata = read_safetensors(args.start[1])
        x = tensors["x"].float()
        source = metadata.get("source", "Swift's batch")
    else:
        x, source = timing_batch(args, generator)
        indices = torch.randperm(args.ambient, generator=generator)
        model = RectangularFlow(latent, args.ambient, args.couplings, args.hidden, args.prior_couplings,
                                args.prior_hidden, indices)
    settings = settings_of(args)
    settings["warmup"] = 0  # timing at full likelihood weight, as Swift's
    trainer = Trainer(model, estimator, settings, generator)
    is_peak_reset = reset_peak()
    baseline = status_megabytes("VmRSS") or float("nan")
    counts = []

    def body():
        iterations = trainer.step(x)
        if iterations is not None:
            counts.append(iterations)

    # flowbench's measure runs the body once more, untimed, to calibrate: so do we,
    # so that both sides run as many steps and average as many CG counts.
    body()
    seconds = measure(body, args.warmups, args.repetitions)
    peak = peak_megabytes()
    sizes = {"ambient": args.ambient, "batch": args.batch_size, "latent": latent}
    if estimator == "stochastic":
        sizes["probes"] = args.probes
    median, fastest, slowest = summary(seconds)
    common = {"impl": "torch", "dtype": "float32", **sizes}
    rows = [
        {"case": f"training-step-{estimator}", "unit": "ms", "median": median * 1e3, "min": fastest * 1e3,
         "max": slowest * 1e3, **common},
        {"case": f"peak-memory-{estimator}", "unit": "MB", "median": peak, **common},
        {"case": f"memory-growth-{estimator}", "unit": "MB", "median": peak - baseline, **common},
    ]
    if estimator == "stochastic" and counts:
        rows.append({"case": "cg-iterations-stochastic", "unit": "iterations",
                     "median": sum(counts) / len(counts), "min": float(min(counts)), "max": float(max(counts)),
                     **common})
    notes = [f"torch {torch.__version__}, {torch.get_num_threads()} threads; data: {source}"]
    if not is_peak_reset:
        notes.append("torch: could not reset the peak resident set; its peaks include loading torch and the data")
    if trainer.skipped:
        notes.append(f"torch {estimator}:{latent}: {trainer.skipped} skipped steps (JᵀJ singular or gradient not finite)")
    print(json.dumps({"suite": "rectangular", "results": rows, "notes": notes}))


def run_trace(args):
    """The CG iterations of every step of a stochastic run from Swift's initial model on Swift's batches."""
    parameters_path, indices_path = args.trace
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    model = model_from_swift(parameters_path, torch.float32)
    with open(indices_path) as file:
        batches = json.load(file)["batches"]
    path = os.path.join(FASHION_MNIST, "train-images-idx3-ubyte.gz")
    if args.pixels:
        images = read_safetensors(args.pixels)[0]["pixels"]
        source = "Swift's seeded random pixels"
    elif model.injection.ambient == 784 and args.data != "random" and os.path.exists(path):
        images = torch.from_numpy(read_idx_images(path).copy())
        source = "Fashion-MNIST"
    else:
        count = max(max(batch) for batch in batches) + 1
        images = torch.randint(0, 256, (count, model.injection.ambient), generator=torch.Generator().manual_seed(0))
        source = "seeded random pixels (not Swift's)"
    trainer = Trainer(model, "stochastic", settings_of(args), generator)
    iterations = []
    for batch in batches:
        count = trainer.step(dequantize(images[torch.as_tensor(batch)], generator))
        iterations.append(-1 if count is None else count)
    print(json.dumps({"iterations": iterations, "skipped": trainer.skipped,
                      "notes": [f"torch {torch.__version__}, {torch.get_num_threads()} threads; data: {source}"]}))


def run_check(args):
    """Losses and gradients of Swift's parameters on Swift's batch (and probes), against Swift's."""
    data_path, parameters_path = args.check
    data, metadata = read_safetensors(data_path)
    x = data["x"]
    dtype = x.dtype
    torch.set_default_dtype(dtype)
    model = model_from_swift(parameters_path, dtype)
    settings = settings_of(args)
    settings["probes"] = data["epsilon"].shape[0]
    result = {"dtype": str(dtype).replace("torch.", ""), "parameters": sum(p.numel() for p in model.parameters())}
    for estimator in ("exact", "stochastic"):
        model.zero_grad(set_to_none=True)
        value, iterations = loss(model, x, estimator, settings, 1.0, epsilon=data["epsilon"])
        value.backward()
        worst = 0.0
        squares = 0.0
        for name, parameter in model.named_parameters():
            gradient = swift_gradient(model, name, parameter.grad)
            expected = data[f"{estimator}.gradient.{name}"]
            squares += float((gradient.double() ** 2).sum())
            scale = float(expected.abs().max())
            if scale > 0:
                worst = max(worst, float((gradient - expected).abs().max()) / scale)
        swift_loss = float(metadata[f"{estimator}.loss"])
        swift_norm = float(metadata[f"{estimator}.gradientNorm"])
        result[f"{estimator}_loss"] = value.item()
        result[f"{estimator}_loss_relative_difference"] = abs(value.item() - swift_loss) / max(abs(swift_loss), 1e-30)
        result[f"{estimator}_gradient_norm"] = math.sqrt(squares)
        result[f"{estimator}_gradient_norm_relative_difference"] = abs(math.sqrt(squares) - swift_norm) / max(swift_norm, 1e-30)
        result[f"{estimator}_gradient_max_relative_difference"] = worst
        if iterations is not None:
            result[f"{estimator}_cg_iterations"] = iterations
            result[f"{estimator}_swift_cg_iterations"] = int(metadata[f"{estimator}.cgIterations"])
    print(json.dumps(result))


def widths(text):
    return [int(w) for w in text.split(",") if w]


def main():
    parser = argparse.ArgumentParser()
    modes = parser.add_mutually_exclusive_group(required=True)
    modes.add_argument("--case", help="time one case, exact:<d> or stochastic:<d>")
    modes.add_argument("--trace", nargs=2, metavar=("PARAMETERS", "INDICES"),
                       help="CG iterations per step from Swift's initial model on Swift's batches")
    modes.add_argument("--check", nargs=2, metavar=("DATA", "PARAMETERS"), help="compare with Swift's losses and gradients")
    parser.add_argument("--ambient", type=int, default=784)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--couplings", type=int, default=4)
    parser.add_argument("--hidden", type=widths, default=[256])
    parser.add_argument("--prior-couplings", type=int, default=3)
    parser.add_argument("--prior-hidden", type=widths, default=[64, 64])
    parser.add_argument("--probes", type=int, default=1)
    parser.add_argument("--cg-tolerance", type=float, default=1e-3)
    parser.add_argument("--cg-max-iterations", type=int, default=None, help="default d")
    parser.add_argument("--beta", type=float, default=50.0)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--clip", type=float, default=100.0, help="0: no clipping")
    parser.add_argument("--warmup", type=int, default=0, help="steps of the likelihood weight's ramp (trace only)")
    parser.add_argument("--data", choices=["fashion-mnist", "random"], default="fashion-mnist")
    parser.add_argument("--start", nargs=2, metavar=("PARAMETERS", "BATCH"),
                        help="case: start from Swift's initial model and train on its batch (tensor 'x')")
    parser.add_argument("--pixels", help="trace: the images [count, D] (F32 safetensors tensor 'pixels') to train on")
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--warmups", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.case:
        run_case(args)
    elif args.trace:
        run_trace(args)
    else:
        run_check(args)


if __name__ == "__main__":
    main()
