#!/usr/bin/env python3
"""gen-traces.py: synthetic cache traces for `dogpile-cache replay` and the
Caffeine replayer (one integer key per line).

    tools/dev/gen-traces.py OUTDIR [--requests N] [--seed S] [--only NAME,...]

Every trace is deterministic for a seed.  The families are the ones cache
papers use to separate policies:

  zipf-S         Zipf over 100 000 keys with skew S (0.6 .. 1.2): frequency
                 matters, LFU-like policies win
  zipf-scan      Zipf 0.9 with long scans of keys never seen again between
                 bursts: a scan must not flush the hot set
  loop           a loop over 5 500 keys (slightly larger than a 5 000-entry
                 cache): LRU gets nothing, the optimum keeps most
  loop-L         loops over L = 1 050, 1 200 and 1 400 keys through 1 000
                 entries: the rejected candidates come back just within a
                 ghost's span, so an adaptive window is tempted to grow
  shift          a hot set of 2 000 keys that moves to new keys every phase,
                 plus noise: recency matters, the policy must adapt
  recency        references that mostly revisit keys seen a little while ago
                 (geometric stack depth), many new keys: LRU-friendly
  mixed          phases alternating between zipf and recency-biased
                 traffic: the window must move both ways

Prints one line per trace: NAME FILE SUGGESTED_CACHE_SIZES.
"""
import argparse
import bisect
import itertools
import os
import random


def zipf_sampler(rng, n, s):
    weights = [1.0 / (i + 1) ** s for i in range(n)]
    cum = list(itertools.accumulate(weights))
    total = cum[-1]
    # A random permutation so that hot keys are not the small numbers.
    perm = list(range(n))
    rng.shuffle(perm)

    def draw():
        return perm[bisect.bisect_left(cum, rng.random() * total)]

    return draw


def zipf(rng, requests, s, n=100_000):
    draw = zipf_sampler(rng, n, s)
    return [draw() for _ in range(requests)]


def zipf_scan(rng, requests):
    draw = zipf_sampler(rng, 100_000, 0.9)
    out, fresh = [], 10_000_000
    while len(out) < requests:
        out.extend(draw() for _ in range(50_000))
        scan = rng.randrange(10_000, 40_000)
        out.extend(range(fresh, fresh + scan))
        fresh += scan
    return out[:requests]


def loop(rng, requests, length=5_500):
    return [i % length for i in range(requests)]


def shift(rng, requests, hot=2_000, phases=10):
    out, per_phase = [], requests // phases
    for phase in range(phases):
        base = 1_000_000 * (phase + 1)
        draw = zipf_sampler(rng, hot, 0.8)
        for _ in range(per_phase):
            if rng.random() < 0.85:
                out.append(base + draw())
            else:
                out.append(rng.randrange(0, 500_000))
    return out


def recency(rng, requests, p_new=0.3, mean_depth=400):
    """Each request is a new key with probability p_new, else the key at a
    geometric stack depth in the recent history (LRU stack model)."""
    history, out, fresh = [], [], 0
    p = 1.0 / mean_depth
    for _ in range(requests):
        if not history or rng.random() < p_new:
            key = fresh
            fresh += 1
        else:
            depth = min(int(rng.expovariate(p)), len(history) - 1)
            key = history[-1 - depth]
        out.append(key)
        history.append(key)
        if len(history) > 200_000:
            del history[:100_000]
    return out


def mixed(rng, requests, phases=6):
    out, per = [], requests // phases
    for phase in range(phases):
        offset = 50_000_000 * (phase + 1)
        part = (zipf(rng, per, 0.9, 50_000) if phase % 2 == 0
                else recency(rng, per))
        out.extend(offset + k for k in part)
    return out


TRACES = {
    # name: (generator, suggested cache sizes)
    "zipf-0.6": (lambda r, n: zipf(r, n, 0.6), [1_000, 10_000]),
    "zipf-0.8": (lambda r, n: zipf(r, n, 0.8), [1_000, 10_000]),
    "zipf-1.0": (lambda r, n: zipf(r, n, 1.0), [1_000, 10_000]),
    "zipf-1.2": (lambda r, n: zipf(r, n, 1.2), [1_000, 10_000]),
    "zipf-scan": (zipf_scan, [1_000, 10_000]),
    "loop": (loop, [5_000]),
    "loop-1050": (lambda r, n: loop(r, n, 1_050), [1_000]),
    "loop-1200": (lambda r, n: loop(r, n, 1_200), [1_000]),
    "loop-1400": (lambda r, n: loop(r, n, 1_400), [1_000]),
    "shift": (shift, [1_000, 2_500]),
    "recency": (recency, [500, 2_000]),
    "mixed": (mixed, [1_000, 5_000]),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    wanted = [n for n in args.only.split(",") if n] or list(TRACES)
    for name in wanted:
        gen, sizes = TRACES[name]
        rng = random.Random(f"{args.seed}:{name}")
        path = os.path.join(args.outdir, name + ".txt")
        with open(path, "w") as f:
            f.write("\n".join(map(str, gen(rng, args.requests))))
            f.write("\n")
        print(name, path, ",".join(map(str, sizes)))


if __name__ == "__main__":
    main()
