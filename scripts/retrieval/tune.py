#!/usr/bin/env python3
"""Chooses the hybrid fusion and fits the relevance curve and decline threshold on the TUNING
dump only, then reports the chosen settings (and the two single methods) on the other dumps.
The evaluation set is reported, never searched over: only the tuning dump's grid is printed.

Usage: tune.py TUNING_DUMP.json [EVAL_DUMP.json ...]   (dumps written by dump_lists.py)
"""
import json
import math
import sys

K = 10
CITED = 3
DEPTH = 50  # candidates per list, as the search takes for k = 10


def relevant_set(q):
    return set(r.strip().upper() for r in q.get("relevant") or [])


def recall(ranked, rel, k):
    return len(rel & set(ranked[:k])) / min(len(rel), k)


def mrr(ranked, rel):
    for i, n in enumerate(ranked[:K]):
        if n in rel:
            return 1 / (i + 1)
    return 0.0


def rrf(q, wb, kk):
    s = {}
    for w, lst in ((wb, q["bm25"]), (1.0, q["vector"])):
        for i, (n, _, _) in enumerate(lst[:DEPTH]):
            s[n] = s.get(n, 0) + w / (kk + i + 1)
    return [n for n, _ in sorted(s.items(), key=lambda x: (-x[1], x[0]))]


def methods():
    yield "bm25", lambda q: [n for n, _, _ in q["bm25"]]
    yield "vector", lambda q: [n for n, _, _ in q["vector"]]
    for wb in (1.0, 0.7, 0.5, 0.4, 0.3, 0.2, 0.1):
        for kk in (10, 30, 60):
            yield f"rrf wb={wb} k={kk}", (lambda wb, kk: lambda q: rrf(q, wb, kk))(wb, kk)


def metrics(rows, rank):
    scoped = [q for q in rows if relevant_set(q)]
    r = [rank(q) for q in scoped]
    n = len(scoped)
    return {
        "recall@1": sum(recall(x, relevant_set(q), 1) for x, q in zip(r, scoped)) / n,
        "recall@5": sum(recall(x, relevant_set(q), 5) for x, q in zip(r, scoped)) / n,
        "recall@10": sum(recall(x, relevant_set(q), 10) for x, q in zip(r, scoped)) / n,
        "mrr": sum(mrr(x, relevant_set(q)) for x, q in zip(r, scoped)) / n,
    }


def show(name, m):
    print(f"  {name:22s} " + "  ".join(f"{k} {v:.3f}" for k, v in m.items()))


def top_similarity(q, ranked):
    """The best similarity among the first CITED fused hits (what the bot's confidence uses)."""
    sims = {n: s for n, _, s in q["vector"]}
    return max((sims.get(n, 0.0) or 0.0 for n in ranked[:CITED]), default=0.0)


def examples(rows, rank):
    """(similarity, positive): positive when the best-similarity hit of the first CITED is relevant."""
    out = []
    for q in rows:
        ranked = rank(q)
        sims = {n: s for n, _, s in q["vector"]}
        best = max(ranked[:CITED], key=lambda n: sims.get(n, 0.0) or 0.0, default=None)
        out.append((top_similarity(q, ranked), best in relevant_set(q), bool(relevant_set(q))))
    return out


def fit_logistic(xs):
    """Fits p = 1 / (1 + exp(-a (s - c))) by gradient descent on the log loss."""
    a, c = 10.0, 0.4
    for _ in range(20000):
        ga = gc = 0.0
        for s, y, _ in xs:
            p = 1 / (1 + math.exp(-a * (s - c)))
            ga += (p - y) * (s - c)
            gc += (p - y) * (-a)
        a -= 0.5 * ga / len(xs)
        c -= 0.05 * gc / len(xs)
    return a, c


def rates(xs, a, c, threshold):
    conf = [(1 / (1 + math.exp(-a * (s - c))), y, scoped) for s, y, scoped in xs]
    ins = [x for x in conf if x[2]]
    outs = [x for x in conf if not x[2]]
    return {
        "answered_relevant": sum(1 for p, y, _ in ins if p >= threshold and y) / max(len(ins), 1),
        "in_scope_declined": sum(1 for p, _, _ in ins if p < threshold) / max(len(ins), 1),
        "out_of_scope_declined": sum(1 for p, _, _ in outs if p < threshold) / max(len(outs), 1),
    }


def load(path):
    """The questions of a dump (older dumps are a bare list)."""
    d = json.load(open(path))
    return d["questions"] if isinstance(d, dict) else d


def main():
    dumps = [load(p) for p in sys.argv[1:]]
    tuning = dumps[0]
    print(f"== tuning {sys.argv[1]}: every candidate")
    scored = []
    for name, rank in methods():
        m = metrics(tuning, rank)
        show(name, m)
        if name not in ("bm25", "vector"):
            scored.append((m["recall@5"] + m["mrr"], name, rank))
    scored.sort(key=lambda x: -x[0])
    _, chosen, rank = scored[0]
    print(f"chosen fusion: {chosen}")
    xs = examples(tuning, rank)
    a, c = fit_logistic(xs)
    print(f"relevance curve: steepness {a:.2f}, midpoint {c:.3f}")
    # The in-scope target first (decline at most a tenth of answerable questions), then as
    # many out-of-scope questions declined as that allows; ties to the more answered.
    best = None
    for t in [x / 100 for x in range(5, 96)]:
        r = rates(xs, a, c, t)
        if r["in_scope_declined"] <= 0.10:
            key = (r["out_of_scope_declined"], r["answered_relevant"])
            if best is None or key > best[0]:
                best = (key, t, r)
    print(f"decline below {best[1]:.2f} (tuning: {best[2]})")
    t = best[1]
    for path, rows in zip(sys.argv[2:], dumps[1:]):
        print(f"== {path}: the chosen settings only")
        for name, r in methods():
            if name in ("bm25", "vector", chosen):
                show(name, metrics(rows, r))
        print(f"  bot {rates(examples(rows, rank), a, c, t)}")


if __name__ == "__main__":
    main()
