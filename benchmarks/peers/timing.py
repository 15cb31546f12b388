"""The timing loop the PyTorch peers share: warm up, then count calls in rounds of a fixed duration."""
import statistics
import time


def rates(call, warmup, seconds, rounds):
    """Calls `call` `warmup` times, then returns (median, per-round list) of calls per second over `rounds` rounds
    of `seconds` each."""
    for _ in range(warmup):
        call()
    out = []
    for _ in range(rounds):
        n = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            call()
            n += 1
        out.append(n / (time.perf_counter() - start))
    return statistics.median(out), out
