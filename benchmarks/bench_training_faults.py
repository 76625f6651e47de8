"""Kernel time and page faults of CNN training on the CPU, with and without reuse_freed_memory.

glibc serves every allocation above its mmap threshold (at most 32 MiB) with a
fresh ``mmap`` and ``munmap``s it when it is freed, so that the kernel faults
in and zeroes every large activation and gradient again at every batch.
``skfma._memory.reuse_freed_memory`` keeps them in the heap for reuse.

The script trains the bare modules at the sizes of the reports, each arm with a
fresh module, Adam optimizer and random batches, timing every step including
the first: ``ChoiCRNNModule`` on 96 x 1366 log-mels in batches of 16 and
``KostrzewaCNNModule`` on 128 x 128 in batches of 32, cross-entropy loss,
after one untimed step of a single clip. The two arms alternate (plain first
in even rounds, reuse first in odd ones) in one process. ``getrusage`` gives
each arm's user and system CPU seconds and minor page faults (all threads),
also of the steps after the first ("later": the heap grows in the first ones);
each arm's peak resident memory is reset through ``/proc/self/clear_refs``
where the kernel allows it. The summary gives the medians over rounds and the
ratios reuse / plain.

Examples
--------
As in ``benchmarks/README.md`` (3 minutes of CPU time; 4-6 minutes on 2 loaded cores)::

    python benchmarks/bench_training_faults.py --threads 2

A quick look::

    python benchmarks/bench_training_faults.py --steps 2 --rounds 1 --batch-size 4
"""

import argparse
import contextlib
import resource
import statistics
import time

import torch

from skfma._memory import reuse_freed_memory
from skfma.nn import ChoiCRNNModule, KostrzewaCNNModule

#: name -> (module class, input shape (channels, mel bands, frames), report batch size).
MODELS = {
    "ChoiCRNN": (ChoiCRNNModule, (1, 96, 1366), 16),
    "KostrzewaCNN": (KostrzewaCNNModule, (1, 128, 128), 32),
}
N_CLASSES = 16


def reset_peak_resident():
    """Reset the kernel's peak resident size of this process; False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def peak_resident_mib():
    """Peak resident memory (MiB) since the last reset, from /proc/self/status."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def train(module_class, input_shape, *, batch_size, steps, seed):
    """Train a fresh module for ``steps`` batches.

    Returns the wall seconds, and the user CPU seconds, system CPU seconds and
    minor page faults of all the steps and of the steps after the first.
    """
    generator = torch.Generator().manual_seed(seed)
    module = module_class(input_shape=input_shape, n_classes=N_CLASSES)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    module.train()
    usage, start = [resource.getrusage(resource.RUSAGE_SELF)], time.perf_counter()
    for _ in range(steps):
        X = torch.randn(batch_size, *input_shape, generator=generator)
        y = torch.randint(N_CLASSES, (batch_size,), generator=generator)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(module(X), y).backward()
        optimizer.step()
        usage.append(resource.getrusage(resource.RUSAGE_SELF))
    wall = time.perf_counter() - start

    def between(first, last):
        return (
            last.ru_utime - first.ru_utime,
            last.ru_stime - first.ru_stime,
            last.ru_minflt - first.ru_minflt,
        )

    return wall, between(usage[0], usage[-1]), between(usage[1], usage[-1])


def kernel_share(user, system):
    """System CPU time as a percentage of all CPU time (nan without any)."""
    return 100 * system / (user + system) if user + system else float("nan")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--steps", type=int, default=3, help="training steps per arm and round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of both arms")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="clips per batch (default: the report's)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    peak_known = reset_peak_resident()
    arms = {"plain": contextlib.nullcontext, "reuse": reuse_freed_memory}
    header = (
        f"{'model':<13}{'arm':<7}{'round':>5}{'wall s':>8}{'user s':>8}{'sys s':>7}"
        f"{'kernel':>8}{'faults':>11}{'later':>8}{'peak MiB':>10}{'clips/s':>9}"
    )
    for name in args.models:
        module_class, input_shape, batch_size = MODELS[name]
        batch_size = args.batch_size or batch_size
        clips = batch_size * args.steps
        # One-off costs (thread pools, kernels' first calls) out of the first timed arm.
        train(module_class, input_shape, batch_size=1, steps=1, seed=0)
        print(f"\n{name}: input {input_shape}, batch {batch_size}, {args.steps} steps per arm")
        print(header)
        results = {arm: [] for arm in arms}
        for round_ in range(args.rounds):
            order = list(arms) if round_ % 2 == 0 else list(arms)[::-1]
            for arm in order:
                reset_peak_resident()
                with arms[arm]():
                    wall, (user, system, faults), later = train(
                        module_class,
                        input_shape,
                        batch_size=batch_size,
                        steps=args.steps,
                        seed=round_,
                    )
                    peak = peak_resident_mib() if peak_known else float("nan")
                share, later_share = kernel_share(user, system), kernel_share(*later[:2])
                results[arm].append(
                    (share, later_share, faults, clips / wall, (user + system) / clips, peak)
                )
                print(
                    f"{name:<13}{arm:<7}{round_:>5}{wall:>8.2f}{user:>8.2f}{system:>7.2f}"
                    f"{share:>7.1f}%{faults:>11,}{later_share:>7.1f}%{peak:>10,.0f}"
                    f"{clips / wall:>9.2f}"
                )
        median = {
            arm: [statistics.median(column) for column in zip(*rows, strict=True)]
            for arm, rows in results.items()
        }
        for arm, (share, later_share, faults, speed, cpu, peak) in median.items():
            print(
                f"  median {arm}: kernel {share:.1f}% of CPU ({later_share:.1f}% after the first "
                f"step), {faults:,.0f} minor faults, {speed:.2f} clips/s, {cpu:.3f} CPU s per "
                f"clip, peak {peak:,.0f} MiB"
            )
        plain, reuse = median["plain"], median["reuse"]
        print(
            f"  reuse / plain: {reuse[3] / plain[3]:.2f}x clips/s, "
            f"{reuse[4] / plain[4]:.2f}x CPU per clip, {reuse[5] / plain[5]:.2f}x peak memory"
        )


if __name__ == "__main__":
    main()
