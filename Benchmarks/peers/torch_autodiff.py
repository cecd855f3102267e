"""PyTorch peer of `flowbench autodiff`: the same workloads in eager PyTorch.

    training-step   forward, backward and Adam step of an MLP 784-512-512-784
                    with GELU, batch 128, float32, mean squared reconstruction loss
    op-overhead     1,000 chained elementwise multiplications of 8-element
                    tensors that require gradients, forward and backward,
                    reported per op

Prints one JSON object in flowbench's format (impl "torch"). Exits with status
3 and a sentence on stderr when this Python has no torch.
"""
import argparse
import json
import os
import sys
from peer_timing import measure, summary

try:
    import torch
except ImportError:
    sys.stderr.write(f"{sys.executable} has no torch (make peers-torch installs it into .venv-peers)\n")
    sys.exit(3)


def row(case, unit, seconds, scale=1e3, **sizes):
    median, fastest, slowest = summary(seconds)
    result = {"case": case, "impl": "torch", "dtype": "float32", "unit": unit,
              "median": median * scale, "min": fastest * scale, "max": slowest * scale}
    result.update(sizes)
    return result


def training_step(args):
    torch.manual_seed(0)
    sizes = [784, 512, 512, 784]
    layers = []
    for inputs, outputs in zip(sizes, sizes[1:]):
        layers.append(torch.nn.Linear(inputs, outputs))
        layers.append(torch.nn.GELU())
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(args.batch, 784)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = ((model(x) - x) ** 2).mean()
        loss.backward()
        optimizer.step()

    seconds = measure(step, args.warmups, args.repetitions)
    return row("training-step", "ms", seconds, batch=args.batch, width=512)


def op_overhead(args):
    x = torch.randn(8, requires_grad=True)
    factor = torch.full((8,), 1.0001)

    def chain():
        y = x
        for _ in range(args.ops):
            y = y * factor
        y.sum().backward()
        x.grad = None

    seconds = measure(chain, args.warmups, args.repetitions)
    # Microseconds per op, forward and backward together.
    return row("op-overhead", "us/op", seconds, scale=1e6 / args.ops, n=8, ops=args.ops)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cases", nargs="+", choices=["training-step", "op-overhead"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--warmups", type=int, default=3)
    args = parser.parse_args()
    rows = [{"training-step": training_step, "op-overhead": op_overhead}[case](args) for case in args.cases]
    notes = [f"torch {torch.__version__}, {torch.get_num_threads()} threads"]
    print(json.dumps({"suite": "autodiff", "threads": os.cpu_count(), "results": rows, "notes": notes}))


if __name__ == "__main__":
    main()
