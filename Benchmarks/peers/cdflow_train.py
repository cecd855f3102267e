"""PyTorch peer of `flowbench cdflow`: the CDFlow image model of
Sources/FlowModels/CDFlow/ (the same layers, parametrisations, parameter
names and configuration JSON; see cdflow_model.py) trained in eager
PyTorch on the CPU, float32, with torch.optim.Adam.

Modes:

  timing   ms per training step (dequantise, forward, NLL, backward, Adam
           step) on the first `--batch` Fashion-MNIST training images, per
           mixer: rows `training-step-<mixer>`, impl `torch`, and again
           `torch-tuned` from a child process started with
           MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ = 1e9 (glibc then
           keeps freed large blocks, so fresh temporaries stop paying page
           faults; as torch_cd.py).
  quality  trains `--iterations` steps with Adam at `--lr` on batches in
           BatchSampler's order (`--data-seed`), then reports `train-bpd-<mixer>`
           (the mean training-batch bits/dim of the last `--train-window`
           steps) and `test-bpd-<mixer>` (the first `--test-count` test
           images, in order, dequantised with a seeded noise). With
           `--init-checkpoint PATH` (one per mixer: `--init-checkpoint
           cd=PATH lu=PATH …`) it starts from the parameters Swift wrote
           there (after ActNorm's initialisation), so both sides start equal;
           otherwise from its own seeded initialisation of the same
           distributions, ActNorm initialised on the first batch.
  check    reads checkpoints written by Swift (parameters and fixed
           signs/permutations under Swift's names, `input.x`,
           `expected.logProbability`, optionally `expected.gradient.<name>`,
           `expected.initialized.<name>` and
           `expected.initializedLogProbability`; the configuration JSON in
           the metadata), recomputes them in the checkpoint's precision and
           prints the largest errors (`{"passed": …, "results": [one per
           checkpoint]}`); exit status 1 when one exceeds the tolerance of
           its precision. This is the equivalence test of the
           two implementations (Tests/FlowModelsTests/CDFlowPeerTests.swift).
  batches  prints the indices of the first `--iterations` batches that
           BatchSampler(count: `--count`, batchSize: `--batch`, seed:
           `--data-seed`) draws, as `{"batches": [[…], …]}` (the test of
           the quality mode's data order).

Prints one JSON object in flowbench's format. Exits with status 3 and a
sentence on stderr when this Python has no torch.

    python cdflow_train.py --mode timing --mixers cd lu dense reverse
    python cdflow_train.py --mode quality --mixers cd --iterations 500 --lr 1e-3
    python cdflow_train.py --mode check --checkpoint model.safetensors
"""
import argparse
import json
import math
import os
import sys
import time

from peer_timing import TUNING, measure, run_with_tuning, summary

try:
    import torch
except ImportError:
    sys.stderr.write(f"{sys.executable} has no torch (make peers-torch installs it into .venv-peers)\n")
    sys.exit(3)

import cdflow_model as cdflow

# Largest relative errors `check` accepts: log p per image, and each
# gradient tensor's largest deviation over its largest entry.
TOLERANCES = {torch.float64: {"logProbability": 1e-12, "gradient": 1e-10, "initialized": 1e-12},
              torch.float32: {"logProbability": 1e-5, "gradient": 1e-4, "initialized": 1e-5}}


def configuration_for(args, mixer):
    configuration = dict(cdflow.DEFAULT_CONFIGURATION)
    configuration.update(levels=args.levels, stepsPerLevel=args.steps_per_level, hiddenChannels=args.hidden,
                         mixer=mixer, couplingScale=args.coupling_scale, learnedSplitPrior=not args.standard_split,
                         splitPriorLogStandardDeviationBound=None if args.split_bound <= 0 else args.split_bound,
                         seed=args.seed)
    cdflow.parse_mixer(mixer)
    return configuration


def sizes(args):
    return {"batch": args.batch, "levels": args.levels, "steps": args.steps_per_level, "width": args.hidden}


def row(case, impl, unit, median, fastest, slowest, extra):
    return {"case": case, "impl": impl, "dtype": "float32", "unit": unit,
            "median": median, "min": fastest, "max": slowest, **extra}


# ---------------------------------------------------------------- timing

def timing(args):
    images = cdflow.fashion_mnist("train", args.data)
    pixels = torch.from_numpy(images[:args.batch].astype("float32"))
    rows = []
    for mixer in args.mixers:
        torch.manual_seed(args.seed)
        model = cdflow.CDFlow(configuration_for(args, mixer))
        noise = torch.Generator().manual_seed(1)
        model.initialize(cdflow.dequantize(pixels, noise))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss = model.negative_log_likelihood(cdflow.dequantize(pixels, noise))
            loss.backward()
            optimizer.step()

        median, fastest, slowest = summary(measure(step, args.warmups, args.repetitions))
        rows.append(row(f"training-step-{mixer}", f"torch{args.suffix}", "ms", median * 1e3, fastest * 1e3,
                        slowest * 1e3, sizes(args)))
    return rows


def run_tuned_child(args):
    """The timing rows again from a child process started with the malloc
    tuning: glibc reads these variables once, when the process starts."""
    command = [sys.executable, os.path.abspath(__file__), "--mode", "timing", "--suffix=-tuned", "--no-tuned",
               "--batch", str(args.batch), "--levels", str(args.levels), "--steps-per-level",
               str(args.steps_per_level), "--hidden", str(args.hidden), "--coupling-scale", args.coupling_scale,
               "--seed", str(args.seed), "--repetitions", str(args.repetitions), "--warmups", str(args.warmups),
               "--threads", str(args.threads), "--data", args.data, "--split-bound", str(args.split_bound),
               "--mixers"] + args.mixers
    if args.standard_split:
        command.append("--standard-split")
    return run_with_tuning(command, "torch-tuned")


# ---------------------------------------------------------------- quality

@torch.no_grad()
def test_bits_per_dimension(model, images, count, seed, batch=500):
    """Bits/dim of the first `count` images, each dequantised once with noise seeded by `seed`."""
    noise = torch.Generator().manual_seed(seed)
    total = 0.0
    for start in range(0, count, batch):
        pixels = torch.from_numpy(images[start:min(start + batch, count)].astype("float32"))
        total += -model.log_probability(cdflow.dequantize(pixels, noise)).double().sum().item()
    return model.bits_per_dimension(total / count)


def parse_checkpoints(entries, mixers):
    """`mixer=PATH` entries (or one bare PATH for a single mixer) by mixer."""
    paths = {}
    for entry in entries or []:
        mixer, separator, path = entry.partition("=")
        if not separator:
            if len(mixers) != 1:
                raise SystemExit("--init-checkpoint: give mixer=PATH for each of several mixers")
            mixer, path = mixers[0], entry
        paths[mixer] = path
    return paths


def quality(args):
    train = cdflow.fashion_mnist("train", args.data)
    test = cdflow.fashion_mnist("test", args.data)
    test_count = min(args.test_count, len(test))
    checkpoints = parse_checkpoints(args.init_checkpoint, args.mixers)
    rows, notes = [], []
    for mixer in args.mixers:
        torch.manual_seed(args.seed)
        configuration = configuration_for(args, mixer)
        if mixer in checkpoints:
            tensors, metadata = cdflow.read_safetensors(checkpoints[mixer])
            if "configuration" in metadata:
                written = cdflow.configuration_from_json(metadata["configuration"])
                differing = sorted(key for key in configuration if key != "seed" and written[key] != configuration[key]
                                   and (key != "mixer" or cdflow.parse_mixer(written[key]) != cdflow.parse_mixer(
                                       configuration[key])))
                if differing:
                    raise SystemExit(f"{checkpoints[mixer]}: its configuration differs in {differing}")
        model = cdflow.CDFlow(configuration)
        sampler = cdflow.BatchSampler(len(train), args.batch, args.data_seed)
        noise = torch.Generator().manual_seed(args.noise_seed)
        if mixer in checkpoints:
            cdflow.load_swift_checkpoint(model, tensors)
        else:
            first = cdflow.epoch_permutation(len(train), args.data_seed, 0)[:args.batch]
            model.initialize(cdflow.dequantize(torch.from_numpy(train[first].astype("float32")), noise))
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
        losses = []
        start = time.perf_counter()
        for _ in range(args.iterations):
            pixels = torch.from_numpy(train[sampler.next()].astype("float32"))
            optimizer.zero_grad(set_to_none=True)
            loss = model.negative_log_likelihood(cdflow.dequantize(pixels, noise))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if not math.isfinite(losses[-1]):
                notes.append(f"torch {mixer}: non-finite loss at step {len(losses)}")
                break
        seconds = time.perf_counter() - start
        window = losses[-args.train_window:] or [float("nan")]
        train_bpd = model.bits_per_dimension(sum(window) / len(window))
        test_bpd = test_bits_per_dimension(model, test, test_count, args.noise_seed + 1)
        extra = {**sizes(args), "iterations": args.iterations}
        rows.append(row(f"train-bpd-{mixer}", "torch", "bits/dim", train_bpd, train_bpd, train_bpd, extra))
        rows.append(row(f"test-bpd-{mixer}", "torch", "bits/dim", test_bpd, test_bpd, test_bpd,
                        {**extra, "images": test_count}))
        start_kind = "Swift's initial checkpoint" if mixer in checkpoints else "its own seeded initialisation"
        notes.append(f"torch {mixer}: {args.iterations} steps from {start_kind} in {seconds:.1f} s")
    return rows, notes


# ---------------------------------------------------------------- check

def relative_error(actual, expected):
    scale = expected.abs().max().item()
    deviation = (actual - expected).abs().max().item()
    return deviation / scale if scale > 0 else deviation


def check(path):
    """The largest errors of this implementation on the checkpoint at `path`, and whether they pass."""
    tensors, metadata = cdflow.read_safetensors(path)
    dtype = torch.float64 if metadata.get("dtype", "float64") == "float64" else torch.float32
    configuration = cdflow.configuration_from_json(metadata["configuration"])
    model = cdflow.CDFlow(configuration).to(dtype)
    model_tensors = {name: value for name, value in tensors.items() if not name.startswith(("input.", "expected."))}
    cdflow.load_swift_checkpoint(model, model_tensors)
    x = tensors["input.x"].to(dtype)
    tolerance = TOLERANCES[dtype]
    result = {"checkpoint": path, "dtype": str(dtype).replace("torch.", ""), "configuration": configuration,
              "checks": {}}

    log_probability = model.log_probability(x)
    result["checks"]["logProbability"] = relative_error(log_probability.detach().double(),
                                                        tensors["expected.logProbability"])
    gradient_names = [name[len("expected.gradient."):] for name in tensors if name.startswith("expected.gradient.")]
    if gradient_names:
        model.zero_grad(set_to_none=True)
        model.negative_log_likelihood(x).backward()
        parameters = dict(model.named_parameters())
        if set(gradient_names) != set(parameters):
            raise SystemExit(f"gradients given for {sorted(set(gradient_names) ^ set(parameters))[:8]}, "
                             "which are not exactly this model's parameters")
        errors = {name: relative_error(parameters[name].grad.double(), tensors[f"expected.gradient.{name}"])
                  for name in gradient_names}
        worst = max(errors, key=errors.get)
        result["checks"]["gradient"] = errors[worst]
        result["worstGradient"] = worst
    initialized_names = [name[len("expected.initialized."):] for name in tensors
                         if name.startswith("expected.initialized.")]
    if initialized_names:
        model.initialize(x)
        state = model.state_dict()
        errors = [relative_error(state[name].double(), tensors[f"expected.initialized.{name}"])
                  for name in initialized_names]
        errors.append(relative_error(model.log_probability(x).detach().double(),
                                     tensors["expected.initializedLogProbability"]))
        result["checks"]["initialized"] = max(errors)
    result["passed"] = all(value <= tolerance[name] for name, value in result["checks"].items())
    result["tolerances"] = tolerance
    return result


# ---------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["timing", "quality", "check", "batches"], default="timing")
    parser.add_argument("--mixers", nargs="+", default=["cd", "lu", "dense", "reverse"])
    parser.add_argument("--levels", type=int, default=2)
    parser.add_argument("--steps-per-level", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--coupling-scale", default="sigmoid")
    parser.add_argument("--standard-split", action="store_true", help="N(0, I) splits instead of learned priors")
    parser.add_argument("--split-bound", type=float, default=2.0,
                        help="c of the learned split priors' log σ = c·tanh(r/c) (0: unbounded)")
    parser.add_argument("--seed", type=int, default=0, help="the configuration's seed (torch.manual_seed here)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--data", default=cdflow.FASHION_MNIST, help="directory of the Fashion-MNIST IDX files")
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--warmups", type=int, default=3)
    parser.add_argument("--suffix", default="", help="appended to the impl name (the tuned child's '-tuned')")
    parser.add_argument("--no-tuned", action="store_true", help="skip the torch-tuned child run")
    parser.add_argument("--iterations", type=int, default=200, help="quality: training steps")
    parser.add_argument("--lr", type=float, default=1e-3, help="quality: Adam's learning rate")
    parser.add_argument("--data-seed", type=int, default=0, help="quality: BatchSampler's seed")
    parser.add_argument("--noise-seed", type=int, default=1, help="quality: dequantisation noise seed")
    parser.add_argument("--train-window", type=int, default=20, help="quality: steps averaged for train bits/dim")
    parser.add_argument("--test-count", type=int, default=10000, help="quality: test images evaluated")
    parser.add_argument("--init-checkpoint", nargs="+", help="quality: mixer=PATH of Swift's initial parameters")
    parser.add_argument("--checkpoint", nargs="+", help="check: checkpoints written by Swift")
    parser.add_argument("--count", type=int, default=60000, help="batches: the items the sampler draws from")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    if args.mode == "check":
        if not args.checkpoint:
            parser.error("--mode check needs --checkpoint")
        results = []
        for path in args.checkpoint:
            try:
                results.append(check(path))
            except (ValueError, KeyError, RuntimeError, SystemExit) as error:
                results.append({"checkpoint": path, "passed": False, "error": f"{type(error).__name__}: {error}"})
        passed = all(result["passed"] for result in results)
        print(json.dumps({"passed": passed, "results": results}))
        sys.exit(0 if passed else 1)

    if args.mode == "batches":
        sampler = cdflow.BatchSampler(args.count, args.batch, args.data_seed)
        print(json.dumps({"batches": [sampler.next() for _ in range(args.iterations)]}))
        return

    notes = []
    if not args.suffix:
        notes.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if args.mode == "timing":
        rows = timing(args)
        if not args.suffix:
            preset = [key for key in TUNING if key in os.environ]
            if preset:
                notes.append(f"torch rows without -tuned ran with {', '.join(preset)} already set")
        if not args.no_tuned:
            tuned_rows, tuned_notes = run_tuned_child(args)
            rows += tuned_rows
            notes += tuned_notes
    else:
        rows, quality_notes = quality(args)
        notes += quality_notes
    print(json.dumps({"suite": "cdflow", "threads": os.cpu_count(), "results": rows, "notes": notes}))


if __name__ == "__main__":
    main()
