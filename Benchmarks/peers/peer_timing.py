"""Timing shared by the peer scripts: the same protocol as flowbench's own
(untimed warm-ups, then timed repetitions; medians, minima and maxima)."""
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
