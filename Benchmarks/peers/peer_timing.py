"""Timing shared by the peer scripts: the same protocol as flowbench's own
(untimed warm-ups, then timed repetitions; medians, minima and maxima)."""
import json
import os
import subprocess
import time


def measure(body, warmups, repetitions):
    """Seconds per timed run of `body`, after `warmups` untimed runs."""
    for _ in range(warmups):
        body()
    seconds = []
    for _ in range(repetitions):
        start = time.perf_counter()
        body()
        seconds.append(time.perf_counter() - start)
    return seconds


def summary(seconds):
    """(median, minimum, maximum) of a list of timings."""
    ordered = sorted(seconds)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return median, ordered[0], ordered[-1]


# glibc's malloc keeps freed large blocks with these, so a torch peer's
# "-tuned" rows come from a child process started with them (glibc reads
# them once, when the process starts).
TUNING = {"MALLOC_MMAP_THRESHOLD_": "1000000000", "MALLOC_TRIM_THRESHOLD_": "1000000000"}


def run_with_tuning(command, label):
    """(rows, notes) of a peer's own `command` line run in a child process
    with the malloc tuning; on failure no rows and a note "`label` skipped: …"."""
    child = subprocess.run(command, env={**os.environ, **TUNING}, capture_output=True, text=True)
    if child.returncode != 0:
        return [], [f"{label} skipped: {child.stderr.strip() or f'exit status {child.returncode}'}"]
    return json.loads(child.stdout)["results"], []


def torch_notes(torch):
    """The notes an untuned torch run starts with: torch's version and
    threads, and which tuning variables were already set (its rows without
    -tuned then do not have malloc's defaults)."""
    notes = [f"torch {torch.__version__}, {torch.get_num_threads()} threads"]
    preset = [key for key in TUNING if key in os.environ]
    if preset:
        notes.append(f"torch rows without -tuned ran with {', '.join(preset)} already set: they are not malloc defaults")
    return notes
