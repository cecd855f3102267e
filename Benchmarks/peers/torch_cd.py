"""PyTorch peer of `flowbench cd`: the same invertible linear maps of
[batch, n] float32 rows (a 1x1 convolution over n channels, flat) in eager
PyTorch on the CPU.

    torch-cd     CDFlow's W = D1·C·D2 (m = 2), the circulant held as its
                 real-FFT half spectrum, applied with torch.fft.rfft/irfft
    torch-dense  a dense W: torch.linalg.slogdet, matmul, torch.linalg.solve
    torch-lu     Glow's W = P·L·(U + diag(sign·exp(logScale))): log-det
                 Σ logScale, inverse by torch.linalg.solve_triangular
    torch-cd-tuned  torch-cd again, in a child process started with
                 MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=1000000000:
                 glibc's malloc then keeps freed large blocks instead of
                 returning them to the kernel, so PyTorch's fresh FFT
                 temporaries stop paying page faults

Cases, as in CDSuite.swift: `logdet` (log|det W| alone), `forward` (output
and log-det), `inverse` (output and log-det, any factorisation included),
all three under torch.no_grad(); `training-step`: forward and backward to
the parameters of loss = Σ y·w + batch·log|det W|, w fixed random.

Prints one JSON object in flowbench's format. Exits with status 3 and a
sentence on stderr when this Python has no torch.

    python torch_cd.py --batch 4096 --sizes 16 96 1024 --repetitions 15 --warmups 3
"""
import argparse
import json
import math
import os
import sys
from peer_timing import measure, run_with_tuning, summary, torch_notes

try:
    import torch
except ImportError:
    sys.stderr.write(f"{sys.executable} has no torch (make peers-torch installs it into .venv-peers)\n")
    sys.exit(3)


def random_signs(shape):
    return torch.randint(0, 2, shape).float() * 2 - 1


class CirculantDiagonal(torch.nn.Module):
    """W = D1·C·D2, applied right to left to each row (Feng & Liao, CDFlow, eq. 10, m = 2),
    parametrised as the Swift layer (CirculantDiagonalFactors.swift) so that
    no factor can vanish.

    A diagonal is d = sign·exp(logMagnitude), its sign fixed. The circulant is
    its real-FFT half spectrum, bins k = 0…n/2: ĉ_k = sign_k·exp(logMagnitude_k)·e^(i·φ_k),
    with φ_0 = 0 and, for even n, φ_(n/2) = 0 (real bins, so W is real) and
    the (n − 1)/2 other phases trained. Random initialisation as the Swift
    layer's: d = ±1, |ĉ| = 1, phases uniform in [−π, π), real bins ±1.
    """

    def __init__(self, n):
        super().__init__()
        bins = n // 2 + 1
        self.n = n
        self.log_outer = torch.nn.Parameter(torch.zeros(n))
        self.log_inner = torch.nn.Parameter(torch.zeros(n))
        self.log_spectrum = torch.nn.Parameter(torch.zeros(bins))
        self.phase = torch.nn.Parameter((torch.rand((n - 1) // 2) * 2 - 1) * math.pi)
        self.register_buffer("sign_outer", random_signs((n,)))
        self.register_buffer("sign_inner", random_signs((n,)))
        real_bins = [0] + ([n // 2] if n % 2 == 0 and n > 1 else [])
        bin_sign = torch.ones(bins)
        multiplicity = torch.full((bins,), 2.0)
        for k in real_bins:
            bin_sign[k] = random_signs(())
            multiplicity[k] = 1
        self.register_buffer("bin_sign", bin_sign)
        # Bins with a distinct conjugate partner count twice in Σ_k log|ĉ_k| over all n bins.
        self.register_buffer("multiplicity", multiplicity)
        self.phase_padding = (1, 1 if n % 2 == 0 and n > 1 else 0)

    def factors(self, inverted):
        """d_outer, ĉ and d_inner, or with `inverted` their reciprocals
        (1/ĉ = sign·exp(−logMagnitude)·e^(−iφ)), from the parameters."""
        direction = -1 if inverted else 1
        outer = self.sign_outer * torch.exp(direction * self.log_outer)
        inner = self.sign_inner * torch.exp(direction * self.log_inner)
        phase = torch.nn.functional.pad(self.phase, self.phase_padding)
        spectrum = torch.polar(torch.exp(direction * self.log_spectrum), direction * phase) * self.bin_sign
        return outer, spectrum, inner

    def logdet(self):
        return self.log_outer.sum() + self.log_inner.sum() + (self.multiplicity * self.log_spectrum).sum()

    def forward(self, x):
        outer, spectrum, inner = self.factors(inverted=False)
        y = torch.fft.irfft(torch.fft.rfft(x * inner, dim=-1) * spectrum, n=self.n, dim=-1) * outer
        return y, self.logdet()

    def inverse(self, y):
        # W⁻¹ = D2⁻¹·C⁻¹·D1⁻¹: D1⁻¹ first.
        outer, spectrum, inner = self.factors(inverted=True)
        x = torch.fft.irfft(torch.fft.rfft(y * outer, dim=-1) * spectrum, n=self.n, dim=-1) * inner
        return x, -self.logdet()


def random_orthogonal(n):
    """Haar-distributed, as the Swift layers initialise (Mezzadri 2007)."""
    q, r = torch.linalg.qr(torch.randn(n, n))
    return q * torch.sign(torch.diagonal(r))


class Dense(torch.nn.Module):
    """A dense W: log|det W| by LU (slogdet), y = x·Wᵀ, inverse by an LU solve."""

    def __init__(self, n):
        super().__init__()
        self.weight = torch.nn.Parameter(random_orthogonal(n))

    def logdet(self):
        return torch.linalg.slogdet(self.weight).logabsdet

    def forward(self, x):
        return x @ self.weight.T, self.logdet()

    def inverse(self, y):
        # The samples are the columns of the right-hand side: W·Xᵀ = Yᵀ.
        return torch.linalg.solve(self.weight, y.T).T, -self.logdet()


class LowerUpper(torch.nn.Module):
    """Glow's LU parametrisation (Kingma & Dhariwal 2018, §3.2)."""

    def __init__(self, n):
        super().__init__()
        permutation, lower, upper = torch.linalg.lu(random_orthogonal(n))
        diagonal = torch.diagonal(upper)
        self.register_buffer("permutation", permutation)
        self.register_buffer("sign", torch.sign(diagonal))
        self.register_buffer("lower_mask", torch.tril(torch.ones(n, n), -1))
        self.register_buffer("upper_mask", torch.triu(torch.ones(n, n), 1))
        self.register_buffer("eye", torch.eye(n))
        self.lower = torch.nn.Parameter(lower * self.lower_mask)
        self.upper = torch.nn.Parameter(upper * self.upper_mask)
        self.log_scale = torch.nn.Parameter(torch.log(torch.abs(diagonal)))

    def factors(self):
        lower = self.lower * self.lower_mask + self.eye
        upper = self.upper * self.upper_mask + torch.diag(self.sign * torch.exp(self.log_scale))
        return lower, upper

    def logdet(self):
        return self.log_scale.sum()

    def forward(self, x):
        lower, upper = self.factors()
        weight = self.permutation @ (lower @ upper)
        return x @ weight.T, self.logdet()

    def inverse(self, y):
        # W⁻¹·y = U'⁻¹·L⁻¹·Pᵀ·y, the samples as columns.
        lower, upper = self.factors()
        columns = self.permutation.T @ y.T
        columns = torch.linalg.solve_triangular(lower, columns, upper=False, unitriangular=True)
        columns = torch.linalg.solve_triangular(upper, columns, upper=True)
        return columns.T, -self.logdet()


IMPLEMENTATIONS = {"cd": CirculantDiagonal, "dense": Dense, "lu": LowerUpper}


def row(case, impl, seconds, batch, n):
    median, fastest, slowest = summary(seconds)
    return {"case": case, "impl": impl, "dtype": "float32", "unit": "ms",
            "median": median * 1e3, "min": fastest * 1e3, "max": slowest * 1e3, "batch": batch, "n": n}


def cases(name, layer, x, w, args):
    n = x.shape[1]
    parameters = list(layer.parameters())
    with torch.no_grad():
        y, _ = layer(x)

    def no_grad(body):
        def run():
            with torch.no_grad():
                body()
        return run

    def step():
        for parameter in parameters:
            parameter.grad = None
        output, logdet = layer(x)
        # Σ over the batch of the per-sample log|det W| = batch·log|det W|.
        loss = (output * w).sum() + logdet * x.shape[0]
        loss.backward()

    bodies = [
        ("logdet", no_grad(layer.logdet)),
        ("forward", no_grad(lambda: layer(x))),
        ("inverse", no_grad(lambda: layer.inverse(y))),
        ("training-step", step),
    ]
    return [row(case, name, measure(body, args.warmups, args.repetitions), args.batch, n) for case, body in bodies]


def run_tuned_child(args):
    """torch-cd rows from a child process started with the malloc tuning:
    glibc reads these variables once, when the process starts."""
    command = [sys.executable, os.path.abspath(__file__), "--implementations", "cd", "--suffix=-tuned",
               "--no-tuned", "--batch", str(args.batch), "--repetitions", str(args.repetitions),
               "--warmups", str(args.warmups), "--sizes"] + [str(n) for n in args.sizes]
    return run_with_tuning(command, "torch-cd-tuned")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64, 96, 128, 256, 512, 1024])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--implementations", nargs="+", choices=list(IMPLEMENTATIONS), default=list(IMPLEMENTATIONS))
    parser.add_argument("--suffix", default="", help="appended to every impl name (the tuned child's '-tuned')")
    parser.add_argument("--no-tuned", action="store_true", help="skip the torch-cd-tuned child run")
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--warmups", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        torch.manual_seed(1000 + n)
        x = torch.randn(args.batch, n)
        w = torch.randn(args.batch, n)
        for name in args.implementations:
            torch.manual_seed(n)
            rows += cases(f"torch-{name}{args.suffix}", IMPLEMENTATIONS[name](n), x, w, args)
    notes = torch_notes(torch) if not args.suffix else []
    if not args.no_tuned and "cd" in args.implementations:
        tuned_rows, tuned_notes = run_tuned_child(args)
        rows += tuned_rows
        notes += tuned_notes
    # Each tuned row right after its default twin in the table (the sort is stable).
    order = {f"torch-{name}{suffix}": rank for rank, (name, suffix) in
             enumerate([("cd", ""), ("cd", "-tuned"), ("dense", ""), ("lu", "")])}
    rows.sort(key=lambda result: order.get(result["impl"], len(order)))
    print(json.dumps({"suite": "cd", "threads": os.cpu_count(), "results": rows, "notes": notes}))


if __name__ == "__main__":
    main()
