"""What the peer scripts share: the repository's data files and a timer of repeated calls."""
import pathlib
import time

DATA = pathlib.Path(__file__).resolve().parent.parent.parent / "data"
SP500 = DATA / "sp500_1999_2018_arch.csv"


def sp500_frame():
    """The S&P 500 daily bars that `tradesim bench env` and `bench agent` use, as a pandas DataFrame (5,031 rows)."""
    import pandas as pd

    return pd.read_csv(SP500)


def per_call_seconds(fn, repeats, warmup_s=1.0, min_repeat_s=1.0):
    """Calls `fn` for about `warmup_s`, then `repeats` times a batch of calls lasting at least `min_repeat_s` each.
    Returns the seconds per call of each batch and the calls per batch."""
    start, calls = time.perf_counter(), 0
    while calls < 3 or time.perf_counter() - start < warmup_s:
        fn()
        calls += 1
    batch = max(1, int(min_repeat_s / ((time.perf_counter() - start) / calls)) + 1)
    seconds = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(batch):
            fn()
        seconds.append((time.perf_counter() - t) / batch)
    return seconds, batch
