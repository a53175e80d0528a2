"""Reference values for tradesim's PerformanceMetrics, PSR and DSR (written to Tests/MarketDataTests/Fixtures/metrics.json).

Computed with empyrical-reloaded (annual return, volatility, Sharpe, Sortino, max drawdown, Calmar), quantstats
(win rate, average win / loss), scipy (population skewness, raw kurtosis, the normal CDF and its inverse) on seeded
synthetic return series and on the S&P 500 close-to-close returns of the train years 1999-2010 (data/).
CI never runs this; re-run it by hand from the repository root (the versions used are in the JSON's header):
    python3 -m venv .venv-fixtures && .venv-fixtures/bin/pip install empyrical-reloaded quantstats scipy numpy pandas
    .venv-fixtures/bin/python scripts/make_metric_fixtures.py
"""
import csv, json, math, pathlib, warnings
import numpy as np
import pandas as pd
import scipy, scipy.stats as st
import empyrical as ep
import quantstats as qs

warnings.filterwarnings("ignore")
ROOT = pathlib.Path(__file__).resolve().parent.parent
P = 252
EULER_GAMMA = 0.5772156649015329


def sp500_train_returns():
    rows = list(csv.DictReader(open(ROOT / "data/sp500_1999_2018_arch.csv")))
    closes = [float(r["Close"]) for r in rows if int(r["Date"].split("/")[2]) <= 2010]
    c = np.array(closes)
    return c[1:] / c[:-1] - 1


def series():
    rng = np.random.default_rng(20261123)
    yield "normal", rng.normal(0.0004, 0.01, 750)
    yield "student_t_skewed", 0.006 * rng.standard_t(4, 1000) + 0.0015 * (rng.random(1000) < 0.05) * -8 + 0.0003
    yield "short_losing", rng.normal(-0.001, 0.02, 60)
    yield "sp500_train_1999_2010", sp500_train_returns()


def nz(x):
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def reference(r):
    s = pd.Series(r, index=pd.bdate_range("2000-01-03", periods=len(r)))
    sd = np.std(r, ddof=1)
    sr = np.mean(r) / sd
    g3 = st.skew(r, bias=True)
    g4 = st.kurtosis(r, fisher=False, bias=True)
    n = len(r)
    psr = st.norm.cdf(sr * math.sqrt(n - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr * sr))
    # DSR against 10 trials whose per-bar Sharpe variance is 0.0004
    trials, var = 10, 0.0004
    sr0 = math.sqrt(var) * ((1 - EULER_GAMMA) * st.norm.ppf(1 - 1 / trials) + EULER_GAMMA * st.norm.ppf(1 - 1 / (trials * math.e)))
    dsr = st.norm.cdf((sr - sr0) * math.sqrt(n - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr * sr))
    wins, losses = r[r > 0], r[r < 0]
    return {
        "bars": n,
        "totalReturn": nz(np.prod(1 + r) - 1),
        "annualReturn": nz(ep.annual_return(r, annualization=P)),
        "annualVolatility": nz(ep.annual_volatility(r, annualization=P)),
        "sharpe": nz(ep.sharpe_ratio(r, risk_free=0.0, annualization=P)),
        "sortino": nz(ep.sortino_ratio(r, required_return=0.0, annualization=P)),
        "maxDrawdown": nz(ep.max_drawdown(r)),
        "calmar": nz(ep.calmar_ratio(r, annualization=P)),
        "hitRate": nz(qs.stats.win_rate(s)),
        "averageWin": nz(qs.stats.avg_win(s)),
        "averageLoss": nz(qs.stats.avg_loss(s)),
        "sharpePerBar": nz(sr),
        "skewness": nz(g3),
        "kurtosis": nz(g4),
        "psr": nz(psr),
        "dsrTrials": trials,
        "dsrSharpeVariance": var,
        "dsrBenchmark": sr0,
        "dsr": nz(dsr),
    }


out = {
    "header": {
        "script": "scripts/make_metric_fixtures.py",
        "empyrical-reloaded": ep.__version__, "quantstats": qs.__version__, "scipy": scipy.__version__,
        "numpy": np.__version__, "pandas": pd.__version__, "periods": P,
    },
    "cases": [{"name": name, "returns": [float(x) for x in r], "expected": reference(np.asarray(r, dtype=np.float64))}
              for name, r in series()],
}
path = ROOT / "Tests/MarketDataTests/Fixtures/metrics.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path} ({len(out['cases'])} cases)")
