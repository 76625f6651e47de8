"""Memory and speed of training a net from a memory-mapped feature store, and DataLoader workers.

A store of 10 x N random log-mels (float32 ``.npy``, ``--bins`` x ``--frames``; 128 x 1292, as
``skfma extract --features logmel`` writes them, 661 KB a clip) is written to a temporary folder
once. Each measurement runs in a fresh process that opens it with ``np.load(mmap_mode=...)``
(``"r"`` as :func:`skfma.pipeline.load_extracted`, ``"c"`` as ``AudioFeatures(memory=...)``),
fits ``KostrzewaCNN(segment_length=128, n_segments=3)`` for one epoch on its first clips and
predicts them, while a thread samples the anonymous memory (heap, not the file's pages in the
page cache) of the process (``RssAnon``, every 10 ms) and of the process tree (the sum of
``Pss_Anon`` of the process and of every process under it: DataLoader workers, a forkserver;
pages that forked workers share with the parent count once; every 50 ms). A warm-up fit and
predict on the first 24 clips (the same batches) runs first, sampled too: its peak is a
training step's working set.

1. **Scale**: N and 10 x N clips, small filters (the data, not the arithmetic, is the subject),
   for each of ``--scale-runs`` (workers, and their start method: ``2:forkserver`` is Python
   3.14's default on Linux, ``fork`` the earlier one). Prints the peaks and
   ``growth = (peak(10N) - peak(N)) / (bytes(10N) - bytes(N))`` of the process tree: 0 means
   the store streams, 1 means one copy of it in memory, 2 two copies.
2. **Speed**: ``iterator_train__num_workers`` (and ``iterator_valid__``) of ``--speed-runs``
   on the published filters: training clips/s (``fit``'s time), ``--repeats`` interleaved
   rounds, and the peaks. With ``--cold``, the store's pages are dropped from the page cache
   (``posix_fadvise(POSIX_FADV_DONTNEED)``, this file only) after the warm-up, so the epoch
   reads them from disk, as from a store larger than memory.

Examples
--------
Default (about 270 MB of disk in a temporary folder; several minutes on 2 cores)::

    python benchmarks/bench_training_memory.py

Smaller::

    python benchmarks/bench_training_memory.py --small 20 --speed-clips 30 --repeats 1
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np

RUN = textwrap.dedent(
    """
    import json, os, sys, threading, time
    import numpy as np
    import torch
    from skfma.models import KostrzewaCNN

    config = json.loads(sys.argv[1])
    if config["threads"]:
        torch.set_num_threads(config["threads"])
    me = os.getpid()

    def field(path, name):
        try:
            with open(path) as file:
                for line in file:
                    if line.startswith(name):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def descendants():
        parents = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open(f"/proc/{name}/stat") as file:
                        parents[int(name)] = int(file.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    pass
        found, frontier = [], [me]
        while frontier:
            frontier = [pid for pid, parent in parents.items() if parent in frontier]
            found += frontier
        return found

    def tree_anon(children):
        pids = [me, *children]
        return sum(field(f"/proc/{pid}/smaps_rollup", "Pss_Anon:") for pid in pids)

    def peaks_during(function):
        # Peaks of this process's RssAnon and of the tree's Pss_Anon while function runs.
        main, tree, done = [0], [0], threading.Event()

        def sample():
            tick, children = 0, []
            while not done.is_set():
                # Listing /proc and summing smaps cost more than reading one status file.
                if tick % 25 == 0:
                    children = descendants()
                if tick % 5 == 0:
                    tree[0] = max(tree[0], tree_anon(children))
                tick += 1
                main[0] = max(main[0], field("/proc/self/status", "RssAnon:"))
                time.sleep(0.01)
            tree[0] = max(tree[0], tree_anon(children))

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            function()
        finally:
            done.set()
            thread.join()
        return main[0], tree[0]

    X = np.load(config["store"], mmap_mode=config["mmap_mode"])[: config["n_clips"]]
    y = np.array([f"genre {k % 8}" for k in range(len(X))])
    params = {
        "segment_length": 128,
        "n_segments": 3,
        "module__filters": tuple(config["filters"]),
        "max_epochs": 1,
        "random_state": 0,
    }
    for prefix in ("iterator_train", "iterator_valid"):
        params[f"{prefix}__num_workers"] = config["workers"]
        if config["workers"] and config["context"]:
            params[f"{prefix}__multiprocessing_context"] = config["context"]
    warm = min(len(X), 24)
    _, warm_peak = peaks_during(
        lambda: KostrzewaCNN(**params).fit(X[:warm], y[:warm]).predict_proba(X[:warm])
    )
    if config["cold"]:
        fd = os.open(config["store"], os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
    net = KostrzewaCNN(**params)
    times = {}

    def fit_and_predict():
        start = time.perf_counter()
        net.fit(X, y)
        times["fit"] = time.perf_counter() - start
        times["proba"] = float(net.predict_proba(X).sum())

    main_peak, tree_peak = peaks_during(fit_and_predict)
    print(json.dumps({
        "warm_peak": warm_peak,
        "main_peak": main_peak,
        "tree_peak": tree_peak,
        "fit_seconds": times["fit"],
    }))
    """
)


def measure(store, n_clips, run, *, filters, mmap_mode="r", threads=None, cold=False):
    """Fit and predict in a fresh process; its measurements as a dict.

    ``run`` is ``(workers, start method or None)``.
    """
    workers, context = run
    config = {
        "store": store,
        "n_clips": n_clips,
        "filters": filters,
        "workers": workers,
        "context": context,
        "mmap_mode": mmap_mode,
        "threads": threads,
        "cold": cold,
    }
    result = subprocess.run(
        [sys.executable, "-c", RUN, json.dumps(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.exit(f"measurement {config} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def parse_run(text):
    """``"2"`` -> (2, None); ``"2:forkserver"`` -> (2, "forkserver")."""
    workers, _, context = text.partition(":")
    return int(workers), context or None


def label(run):
    workers, context = run
    return f"{workers} workers" + (f" ({context})" if context else "") if workers else "no workers"


def write_store(path, n_clips, bins, frames, block=64):
    """Random log-mel-like clips as a float32 ``.npy`` file, written block by block."""
    rng = np.random.default_rng(0)
    out = np.lib.format.open_memmap(path, "w+", np.float32, (n_clips, bins, frames))
    for start in range(0, n_clips, block):
        rows = out[start : start + block]
        rows[:] = rng.standard_normal(rows.shape, dtype=np.float32) * 10 - 40
    out.flush()
    del out


def mib(n):
    return f"{n / 2**20:,.0f}"


def scale(args, store, clip_bytes, common):
    """Part 1: peaks for N and 10 x N clips, per run; growth per byte of store."""
    n_small, n_large = args.small, 10 * args.small
    print(
        f"\n1. Scale: fit (1 epoch) + predict on N and 10 x N clips, filters "
        f"{tuple(args.filters)}; MiB"
    )
    print(
        f"{'':<26} {'clips':>6} {'store':>6} {'warm-up peak':>13} {'process peak':>13} "
        f"{'tree peak':>10} {'growth':>7}"
    )
    for run in map(parse_run, args.scale_runs):
        peaks = {}
        for n in (n_small, n_large):
            r = measure(store, n, run, filters=args.filters, **common)
            peaks[n] = r["tree_peak"]
            growth = ""
            if n == n_large:
                extra = (n_large - n_small) * clip_bytes
                growth = f"{(peaks[n_large] - peaks[n_small]) / extra:7.3f}"
            print(
                f"{label(run):<26} {n:>6} {mib(n * clip_bytes):>6} {mib(r['warm_peak']):>13} "
                f"{mib(r['main_peak']):>13} {mib(r['tree_peak']):>10} {growth:>7}"
            )
    print(
        "(process: RssAnon of the fitting process; tree: Pss_Anon of it and the processes under "
        "it; growth: tree peak's, per byte of store added: 0 streams, 1 = a copy)"
    )


def speed(args, store, common):
    """Part 2: training clips/s by number of workers, interleaved rounds."""
    runs = [parse_run(text) for text in args.speed_runs]
    print(
        f"\n2. Speed: {args.speed_clips} clips, filters {tuple(args.speed_filters)}, "
        f"{args.repeats} interleaved rounds (median clips/s)"
        + (", store evicted from the page cache after the warm-up" if args.cold else "")
    )
    results = {run: [] for run in runs}
    for round_ in range(args.repeats):
        shift = round_ % len(runs)
        for run in runs[shift:] + runs[:shift]:
            results[run].append(
                measure(store, args.speed_clips, run, filters=args.speed_filters, **common)
            )
    rates = {
        run: float(np.median([args.speed_clips / r["fit_seconds"] for r in rs]))
        for run, rs in results.items()
    }
    base = rates.get((0, None))
    print(f"{'':<26} {'clips/s':>8} {'x none':>7} {'process peak':>13} {'tree peak':>10}")
    for run, rs in results.items():
        ratio = f"{rates[run] / base:7.2f}" if base else f"{'':7}"
        print(
            f"{label(run):<26} {rates[run]:8.2f} {ratio} "
            f"{mib(max(r['main_peak'] for r in rs)):>13} "
            f"{mib(max(r['tree_peak'] for r in rs)):>10}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=40, help="N; the large run has 10 x N")
    parser.add_argument("--bins", type=int, default=128)
    parser.add_argument("--frames", type=int, default=1292)
    parser.add_argument("--mmap-mode", default="r", choices=["r", "c"])
    parser.add_argument(
        "--filters", type=int, nargs="+", default=[8, 8, 16, 16], help="of the scale runs"
    )
    parser.add_argument(
        "--scale-runs",
        nargs="*",
        default=["0", "2:fork", "2:forkserver"],
        help="WORKERS[:START_METHOD] of the scale runs",
    )
    parser.add_argument(
        "--speed-runs",
        nargs="*",
        default=["0", "1", "2", "2:forkserver"],
        help="WORKERS[:START_METHOD] of the speed runs",
    )
    parser.add_argument("--speed-clips", type=int, default=60)
    parser.add_argument(
        "--speed-filters",
        type=int,
        nargs="+",
        default=[64, 64, 128, 128],
        help="of the speed runs (KostrzewaCNN's)",
    )
    parser.add_argument("--repeats", type=int, default=2, help="rounds of the speed runs")
    parser.add_argument("--cold", action="store_true", help="read the store from disk")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per process")
    parser.add_argument("--tmp", default=None, help="folder of the temporary store")
    args = parser.parse_args(argv)

    n_clips = max(10 * args.small if args.scale_runs else 0, args.speed_clips)
    clip_bytes = 4 * args.bins * args.frames
    with tempfile.TemporaryDirectory(dir=args.tmp) as folder:
        store = os.path.join(folder, "features.npy")
        write_store(store, n_clips, args.bins, args.frames)
        print(
            f"store: {n_clips} clips of {args.bins} x {args.frames} float32 "
            f"({clip_bytes / 1e3:.0f} KB a clip), np.load(mmap_mode={args.mmap_mode!r}); "
            f"python {sys.version.split()[0]}"
        )
        common = {"mmap_mode": args.mmap_mode, "threads": args.threads, "cold": args.cold}
        if args.scale_runs:
            scale(args, store, clip_bytes, common)
        if args.speed_runs:
            speed(args, store, common)


if __name__ == "__main__":
    main()
