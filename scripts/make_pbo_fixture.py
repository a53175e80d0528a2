"""Reference values for tradesim's backtestOverfitting (PBO by CSCV), written to
Tests/MarketDataTests/Fixtures/pbo.json.

An independent, deliberately plain implementation of combinatorially symmetric cross-validation (Bailey, Borwein,
López de Prado & Zhu 2017) with the conventions of pypbo (not on PyPI, so not used): drop the first T mod S rows,
cut the rest into S equal blocks, itertools.combinations order of the in-sample blocks, the Sharpe of every trial on
the concatenated rows of a part (mean / std, ddof 1, per bar; 0 when the trial's rows there are all equal), n* =
numpy.argmax, ranks by scipy.stats.rankdata (ties averaged), λ = scipy.special.logit(rank / (N + 1)), PBO = mean(λ ≤ 0),
the degradation by scipy.stats.linregress, the rank correlation by scipy.stats.spearmanr (mean over the combinations
where it is defined). Nothing is computed from per-block sums as the Swift code does: every Sharpe is taken on the rows.

The matrices are seeded (numpy default_rng) and written into the JSON trial-major (returns[trial][bar]), at full
precision: rounded to a few decimals, a part's returns can sum to exactly 0, and whether such a mean comes out as 0 or
as −1e-19 is rounding luck that decides "R̄[n*] < 0".
CI never runs this; re-run it by hand from the repository root:
    python3 -m venv .venv-fixtures && .venv-fixtures/bin/pip install numpy scipy
    .venv-fixtures/bin/python scripts/make_pbo_fixture.py
Written with Python 3.11.7, numpy 2.4.6, scipy 1.17.1.
"""
import itertools, json, math, pathlib
import numpy as np
import scipy
import scipy.special as sp
import scipy.stats as st

ROOT = pathlib.Path(__file__).resolve().parent.parent


def sharpe(rows):
    """Per-bar Sharpe of every column of `rows` (bars × trials); 0 for a column whose values are all equal."""
    flat = np.all(rows == rows[0], axis=0)
    sd = rows.std(axis=0, ddof=1)
    return np.where(flat, 0.0, rows.mean(axis=0) / np.where(flat, 1.0, sd))


def cscv(m, s):
    """m: T × N returns. Every output of the PBO analysis, combinations in itertools order."""
    t, n = m.shape
    m = m[t % s:]
    blocks = np.split(m, s)
    logits, is_best, oos_best, rhos = [], [], [], []
    for chosen in itertools.combinations(range(s), s // 2):
        rest = [b for b in range(s) if b not in chosen]
        r = sharpe(np.concatenate([blocks[b] for b in chosen]))
        r_bar = sharpe(np.concatenate([blocks[b] for b in rest]))
        best = int(np.argmax(r))
        rank = st.rankdata(r_bar)[best]
        logits.append(float(sp.logit(rank / (n + 1))))
        is_best.append(r[best])
        oos_best.append(r_bar[best])
        if np.ptp(r) > 0 and np.ptp(r_bar) > 0:
            rhos.append(st.spearmanr(r, r_bar).statistic)
    fit = st.linregress(is_best, oos_best) if np.ptp(is_best) > 0 else None
    values, counts = np.unique(np.array(logits), return_counts=True)
    out = {
        "pbo": float(np.mean(np.array(logits) <= 0)),
        "combinations": len(logits),
        "barsUsed": len(m),
        "logitValues": values.tolist(),
        "logitCounts": counts.tolist(),
        "degradationSlope": None if fit is None else float(fit.slope),
        "degradationIntercept": None if fit is None else float(fit.intercept),
        "probabilityOfLoss": float(np.mean(np.array(oos_best) < 0)),
        "meanRankCorrelation": float(np.mean(rhos)) if rhos else None,
    }
    if len(logits) <= 300:
        out["logits"] = logits
    return out


def cases():
    rng = np.random.default_rng(20261117)
    # 10 noise trials, 202 bars (2 dropped), S = 8: 70 combinations
    yield "noise_10x202_s8", 8, rng.normal(0.0, 0.01, (202, 10))
    # S = 10 (252 combinations), 305 bars (5 dropped): trial 3 has an edge, trial 4 is a constant 0.0001 a bar,
    # trial 5 never trades (all 0), trial 2 trades only in the second half, trial 6 is a copy of trial 1 (exact ties)
    m = rng.normal(0.0, 0.01, (305, 7))
    m[:, 3] += 0.0006
    m[:, 4] = 0.0001
    m[:, 5] = 0.0
    m[:155, 2] = 0.0
    m[:, 6] = m[:, 1]
    yield "edge_flat_ties_7x305_s10", 10, m
    # S = 16 (12,870 combinations), 70 bars (6 dropped, 4 a block), 5 trials with small different drifts
    yield "drift_5x70_s16", 16, rng.normal(0.0, 0.01, (70, 5)) + np.array([0.0, 0.001, 0.002, -0.001, 0.0005])


def main():
    out = []
    for name, s, m in cases():
        out.append({"name": name, "blocks": s, "returns": m.T.tolist(), "expected": cscv(m, s)})
        e = out[-1]["expected"]
        print(f"{name}: PBO {e['pbo']:.4f} over {e['combinations']} combinations, "
              f"slope {e['degradationSlope']}, P(loss) {e['probabilityOfLoss']:.4f}, ρ {e['meanRankCorrelation']}")
    path = ROOT / "Tests/MarketDataTests/Fixtures/pbo.json"
    header = {"script": "scripts/make_pbo_fixture.py", "numpy": np.__version__, "scipy": scipy.__version__}
    path.write_text(json.dumps({"header": header, "cases": out}, indent=1) + "\n")
    print("wrote", path.relative_to(ROOT))


main()
