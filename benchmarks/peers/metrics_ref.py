"""Reference performance metrics of a CSV of daily simple returns, to set beside `tradesim metrics FILE`.

Prints one JSON line: empyrical's annual return (CAGR), annual volatility, Sharpe (risk-free 0, 252 days), Sortino
(required return 0), maximum drawdown and Calmar; the largest difference from a plain numpy computation of the same
definitions; and quantstats' values, when it is installed.

Definitions (252 periods a year, n returns):
  annual_return = ∏(1 + r)^(252 / n) − 1
  annual_vol    = std(r, ddof 1) · √252
  sharpe        = mean(r) / std(r, ddof 1) · √252
  sortino       = mean(r) · 252 / (√mean(min(r, 0)²) · √252)
  max_drawdown  = min over t of W_t / max_{s ≤ t} W_s − 1, W = cumprod(1 + r) with W_0 = 1 included
  calmar        = annual_return / |max_drawdown|  (NaN when max_drawdown ≥ 0)

Usage: python metrics_ref.py returns.csv          (the first column; a header row is optional)
       python metrics_ref.py --synthetic out.csv [--n 1000] [--seed 0]   (writes seeded returns first, column `ret`)
"""
import argparse
import json
import math
import warnings

import empyrical
import numpy as np
import pandas as pd

DAYS = 252


def first_column(path):
    """The numbers of the file's first column (a first cell that is not a number is a header)."""
    column = pd.to_numeric(pd.read_csv(path, header=None).iloc[:, 0], errors="coerce")
    if math.isnan(column.iloc[0]):
        column = column.iloc[1:]
    return column.dropna().to_numpy(dtype=np.float64)


def by_empyrical(r):
    return {"annual_return": empyrical.annual_return(r, annualization=DAYS),
            "annual_volatility": empyrical.annual_volatility(r, annualization=DAYS),
            "sharpe": empyrical.sharpe_ratio(r, risk_free=0.0, annualization=DAYS),
            "sortino": empyrical.sortino_ratio(r, required_return=0.0, annualization=DAYS),
            "max_drawdown": empyrical.max_drawdown(r),
            "calmar": empyrical.calmar_ratio(r, annualization=DAYS)}


def by_numpy(r):
    annual = np.prod(1 + r) ** (DAYS / len(r)) - 1
    sd = np.std(r, ddof=1)
    wealth = np.concatenate([[1.0], np.cumprod(1 + r)])
    drawdown = np.min(wealth / np.maximum.accumulate(wealth) - 1)
    return {"annual_return": annual, "annual_volatility": sd * math.sqrt(DAYS),
            "sharpe": np.mean(r) / sd * math.sqrt(DAYS),
            "sortino": np.mean(r) * DAYS / (math.sqrt(np.mean(np.minimum(r, 0) ** 2)) * math.sqrt(DAYS)),
            "max_drawdown": drawdown, "calmar": annual / abs(drawdown) if drawdown < 0 else float("nan")}


def by_quantstats(r):
    try:
        import quantstats as qs
    except Exception as e:  # optional
        return {"error": repr(e)}
    s = pd.Series(r, index=pd.bdate_range("2000-01-03", periods=len(r)))
    return {"cagr": qs.stats.cagr(s, periods=DAYS),  # quantstats counts calendar years of the index
            "volatility": qs.stats.volatility(s, periods=DAYS), "sharpe": qs.stats.sharpe(s, rf=0.0, periods=DAYS),
            "sortino": qs.stats.sortino(s, rf=0.0, periods=DAYS), "max_drawdown": qs.stats.max_drawdown(s),
            "calmar": qs.stats.calmar(s)}


def as_json(values):
    """NaN as null, floats rounded to 10 decimals."""
    def one(v):
        if isinstance(v, (float, np.floating)):
            return None if math.isnan(v) else round(float(v), 10)
        return v
    return {k: one(v) for k, v in values.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--synthetic", action="store_true", help="first write seeded returns to the file")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.synthetic:
        r = np.random.default_rng(args.seed).normal(0.0005, 0.01, args.n)  # about 13% drift and 16% volatility a year
        pd.DataFrame({"ret": r}).to_csv(args.csv, index=False, float_format="%.17g")
    r = first_column(args.csv)
    e, n = by_empyrical(r), by_numpy(r)
    difference = max(abs(e[k] - n[k]) for k in e if not (math.isnan(e[k]) and math.isnan(n[k])))
    print(json.dumps({"bench": "metrics_ref", "csv": args.csv, "n": len(r), "empyrical": as_json(e),
                      "numpy_check_max_abs_diff": float(difference), "quantstats": as_json(by_quantstats(r))}))


if __name__ == "__main__":
    main()
