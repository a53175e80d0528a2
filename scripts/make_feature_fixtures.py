"""Reference values for tradesim's features (written to Tests/MarketDataTests/Fixtures/features.json).

Every feature of `data.features` computed with pandas, as the literature's public code does it, on the first 420
bars (1990-01-02 on) of five stocks of the committed panel data/us_stocks_20_1990_2012.csv.gz: the per-asset
features of AAPL, the calendar of those dates, and the cross-sectional rank of return21 over the five stocks.
Undefined values (warm-up) are null; tradesim holds 0 there. FeatureFixtureTests compares within 1e-9.

CI never runs this; re-run it by hand from the repository root:
    python3 -m venv .venv-fixtures && .venv-fixtures/bin/pip install pandas numpy
    .venv-fixtures/bin/python scripts/make_feature_fixtures.py
Versions used: Python 3.11, pandas 3.1.1, numpy 2.4.6.
"""
import json, math, pathlib
import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parent.parent
TICKERS = ["AAPL", "IBM", "KO", "MSFT", "XOM"]
ASSET = "AAPL"
BARS = 420


def load():
    df = pd.read_csv(ROOT / "data/us_stocks_20_1990_2012.csv.gz", parse_dates=["Date"])
    df = df[df.Ticker.isin(TICKERS)]
    dates = sorted(df.Date.unique())[:BARS]
    wide = {f: df.pivot(index="Date", columns="Ticker", values=f).loc[dates, TICKERS]
            for f in ["Open", "High", "Low", "Close", "Volume"]}
    assert not any(w.isna().any().any() for w in wide.values()), "a missing cell would need tradesim's forward fill"
    return wide


def zscore(x, window):
    mean, std = x.rolling(window).mean(), x.rolling(window).std(ddof=0)
    return ((x - mean) / std).where(std != 0, 0.0).where(std.notna())


def returns(c, horizons, span=60):
    sigma = c.pct_change().ewm(span=span, min_periods=span).std()  # Lim, Zohren & Roberts 2019 (no back-fill)
    return {f"return{h}": (c / c.shift(h) - 1) / (sigma * np.sqrt(h)) for h in horizons}


def macd(c, pairs, price_window=63, signal_window=252):
    # The Deep Momentum Networks code's MACDStrategy.calc_signal, without its look-ahead back-fill.
    halflife = lambda s: np.log(0.5) / np.log(1 - 1 / s)
    out = {}
    for s, l in pairs:
        m = c.ewm(halflife=halflife(s)).mean() - c.ewm(halflife=halflife(l)).mean()
        q = m / c.rolling(price_window).std()
        out[f"macd{s}_{l}"] = q / q.rolling(signal_window).std()
    return out


def rsi(c, n=14):
    # Wilder: plain means of the first n gains / losses, then an exponential average with alpha 1/n.
    delta = c.diff()
    def smoothed(x):
        seed = pd.Series([x.iloc[1:n + 1].mean()], index=[x.index[n]])
        return pd.concat([seed, x.iloc[n + 1:]]).ewm(alpha=1 / n, adjust=False).mean().reindex(x.index)
    gain, loss = smoothed(delta.clip(lower=0)), smoothed((-delta).clip(lower=0))
    return 100 * gain / (gain + loss)


def asset_features(w, t):
    o, h, l, c, v = (w[f][t] for f in ["Open", "High", "Low", "Close", "Volume"])
    log_return = np.log(c / c.shift(1)).fillna(0.0)
    volatility = log_return.rolling(20).std(ddof=0)
    volatility.iloc[:20] = np.nan  # the return at bar 0 is not a return: defined from bar 20
    cols = {"logReturn": log_return, "range": (h - l) / c, "body": (c - o) / o, "level": c,
            "volumeZ": zscore(np.log1p(v), 20), "volatility": volatility}
    cols |= returns(c, [1, 21, 63, 126, 252])
    cols |= macd(c, [(8, 24), (16, 48), (32, 96)])
    cols["rsi"] = rsi(c, 14)
    cols["zscore"] = zscore(c, 20)
    return cols


def values(x):
    return [None if not math.isfinite(v) else float(v) for v in x]


def main():
    w = load()
    dates = w["Close"].index
    calendar = {"calendar.dayOfWeekSin": np.sin(2 * np.pi * dates.day_of_week / 7),
                "calendar.dayOfWeekCos": np.cos(2 * np.pi * dates.day_of_week / 7),
                "calendar.monthSin": np.sin(2 * np.pi * (dates.month - 1) / 12),
                "calendar.monthCos": np.cos(2 * np.pi * (dates.month - 1) / 12)}
    ranked = pd.DataFrame({t: returns(w["Close"][t], [21])["return21"] for t in TICKERS})
    ranks = 2 * (ranked.rank(axis=1, method="average") - 1) / (len(TICKERS) - 1) - 1
    out = {"tickers": TICKERS, "asset": ASSET, "start": str(dates[0].date()), "end": str(dates[-1].date()),
           "bars": len(dates), "pandas": pd.__version__, "numpy": np.__version__,
           "columns": {k: values(v) for k, v in asset_features(w, ASSET).items()},
           "calendar": {k: values(v) for k, v in calendar.items()},
           "return21Rank": {t: values(ranks[t]) for t in TICKERS}}
    path = ROOT / "Tests/MarketDataTests/Fixtures/features.json"
    path.write_text(json.dumps(out, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {path.relative_to(ROOT)}: {len(dates)} bars, {dates[0].date()}..{dates[-1].date()}")


if __name__ == "__main__":
    main()
