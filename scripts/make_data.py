"""Rebuilds the committed market data (`data/`) and the CSV layout samples (`Tests/MarketDataTests/Fixtures/`) from
their public sources, byte for byte. Python 3 standard library only.

Usage, from the repository root, with the wheels and the two clones in one folder (the commands are in
`data/README.md`):

    python3 scripts/make_data.py SOURCES

`git status` then shows whether any file changed. A file whose source is not in SOURCES is named and skipped.
What each file is, and its licence: `data/README.md` and `Tests/MarketDataTests/Fixtures/README.md`.
"""
import argparse
import glob
import gzip
import io
import os
import sys
import tarfile
import zipfile

PANEL_TICKERS = "AAPL AMGN BAC C CVX GE IBM INTC JNJ JPM KO MRK MSFT ORCL PFE PG T WFC WMT XOM".split()
FIXTURES = "Tests/MarketDataTests/Fixtures/"


class Missing(Exception):
    """A source that is not in the sources folder."""


class Sources:
    def __init__(self, folder):
        self.folder = folder

    def wheel(self, name_version, member):
        """The bytes of `member` inside the wheel `name_version-*.whl` (e.g. `arch-8.0.0`)."""
        found = sorted(glob.glob(os.path.join(self.folder, name_version + "-*.whl")))
        if not found:
            raise Missing(f"no {name_version}-*.whl")
        return zipfile.ZipFile(found[0]).read(member)

    def repo(self, repo, path):
        """The bytes of `path` in the clone `repo` (a folder of the sources folder)."""
        full = os.path.join(self.folder, repo, path)
        if not os.path.exists(full):
            raise Missing(f"no {repo}/{path}")
        with open(full, "rb") as f:
            return f.read()


def gzipped(name, data):
    """`data` gzipped as Python's `gzip.GzipFile(name, 'wb', mtime=0)` writes it: the same bytes on every run."""
    out = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=out, mtime=0) as g:
        g.write(data)
    return out.getvalue()


def sample(text, first=12, extra=()):
    """The header, the first `first` data rows, the `extra` rows, 3 rows from the middle and the last 3, with `\\n`
    line endings."""
    lines = text.replace("\r\n", "\n").splitlines(True)
    body = lines[1:]
    m = len(body) // 2
    return "".join([lines[0]] + body[:first] + list(extra) + body[m:m + 3] + body[-3:])


def stock_rows(src, tickers):
    """`Date,Ticker,Open,High,Low,Close,Volume` rows of the tickers' Kaggle files (OpenInt, always 0, dropped) from
    1990-01-02 to 2012-12-31, sorted by (Date, Ticker)."""
    rows = []
    for t in tickers:
        for line in src.repo("q_trading", f"Stocks/{t.lower()}.us.txt").decode().splitlines()[1:]:
            date, o, h, l, c, v, _ = line.split(",")
            if "1990-01-02" <= date <= "2012-12-31":
                rows.append((date, t, f"{date},{t},{o},{h},{l},{c},{v}\n"))
    return [r for _, _, r in sorted(rows)]


PANEL_HEADER = "Date,Ticker,Open,High,Low,Close,Volume\n"


def us_stocks_panel(src):
    return gzipped("us_stocks_20_1990_2012.csv", (PANEL_HEADER + "".join(stock_rows(src, PANEL_TICKERS))).encode())


def us_stocks_sample(src):
    """AAPL, IBM, MSFT and XOM on the panel's first 10 and last 3 dates."""
    rows = stock_rows(src, ["AAPL", "IBM", "MSFT", "XOM"])
    dates = sorted({r[:10] for r in rows})
    keep = set(dates[:10] + dates[-3:])
    text = PANEL_HEADER + "".join(r for r in rows if r[:10] in keep)
    return gzipped("us_stocks_top100_1990_2012.csv", text.encode())


def bokeh_stocks(src):
    return gzip.decompress(src.wheel("bokeh_sampledata-2026.1", "bokeh_sampledata/_data/stocks.csv.gz")).decode()


def quandl_sample(src):
    """Every ticker's first 8 and last 3 rows, in the file's order."""
    lines = bokeh_stocks(src).splitlines(True)
    tickers = list(dict.fromkeys(line.split(",")[0] for line in lines[1:]))
    kept = []
    for t in tickers:
        rows = [line for line in lines[1:] if line.split(",")[0] == t]
        kept += rows[:8] + rows[-3:]
    return gzipped("quandl_wiki_5stocks_2000_2013_bokeh.csv", (lines[0] + "".join(kept)).encode())


def goog_unnamed_index(src):
    """The GOOG rows of the Quandl file in the layout of backtesting's GOOG.csv (unnamed date index, no Adj Close)."""
    lines = bokeh_stocks(src).splitlines()[1:]
    rows = [",".join(line.split(",")[1:7]) + "\n" for line in lines if line.startswith("GOOG,")]
    return sample(",Open,High,Low,Close,Volume\n" + "".join(rows)).encode()


def eurusd_ask(src):
    return src.wheel("gym_anytrading-2.0.0", "gym_anytrading/datasets/data/FOREX_EURUSD_1H_ASK.csv")


def eurusd_unnamed_index(src):
    """The EUR/USD rows in the layout of backtesting's EURUSD.csv: unnamed index, `YYYY-MM-DD HH:MM:SS`."""
    rows = []
    for line in eurusd_ask(src).decode().splitlines()[1:]:
        time, rest = line.split(",", 1)
        day, month, year = time[:10].split(".")
        rows.append(f"{year}-{month}-{day} {time[11:19]},{rest}\n")
    return sample(",Open,High,Low,Close,Volume\n" + "".join(rows)).encode()


def vix_ohlc_sample(src):
    """Also the file's line 535 (1992-02-11, high below open), one of its inconsistent rows, for the repair test."""
    text = src.repo("finance-vix", "data/vix-daily.csv").decode()
    return sample(text, extra=[text.replace("\r\n", "\n").splitlines(True)[534]]).encode()


def msft(src):
    archive = tarfile.open(fileobj=io.BytesIO(src.wheel("pmdarima-2.1.1", "pmdarima/datasets/data/msft.tar.gz")))
    return archive.extractfile("msft.csv").read()


def arch(member):
    return lambda src: gzip.decompress(src.wheel("arch-8.0.0", f"arch/data/{member}"))


def wheel_file(name_version, member):
    return lambda src: src.wheel(name_version, member)


def skfolio(member, name):
    read = lambda src: gzip.decompress(src.wheel("skfolio-1.12.2", f"skfolio/datasets/data/{member}"))
    return lambda src: gzipped(name, sampled(read)(src))


def sampled(read, first=12):
    """The sample of the file `read` returns (bytes)."""
    return lambda src: sample(read(src).decode(), first).encode()


OUTPUTS = {
    "data/sp500_1999_2018_arch.csv": arch("sp500/sp500.csv.gz"),
    "data/us_stocks_20_1990_2012.csv.gz": us_stocks_panel,
    "data/eurusd_1h_2017_gym_anytrading.csv.gz":
        lambda src: gzipped("eurusd_1h_2017_gym_anytrading.csv", eurusd_ask(src)),
    FIXTURES + "sp500_1999_2018_arch.csv": sampled(arch("sp500/sp500.csv.gz")),
    FIXTURES + "nasdaq_1999_2018_arch.csv": sampled(arch("nasdaq/nasdaq.csv.gz")),
    FIXTURES + "vix_close_2014_2019_arch.csv": sampled(arch("vix/vix.csv.gz")),
    FIXTURES + "sp500_1950_2015_great_tables.csv":
        sampled(wheel_file("great_tables-1.1.0", "great_tables/data/04-sp500.csv")),
    FIXTURES + "vix_ohlc_1990_2026_datahub.csv": vix_ohlc_sample,
    FIXTURES + "msft_1986_2017_pmdarima.csv": sampled(msft),
    FIXTURES + "goog_2004_2013_unnamed_index_bokeh.csv": goog_unnamed_index,
    FIXTURES + "eurusd_1h_2017_unnamed_index_gym_anytrading.csv": eurusd_unnamed_index,
    FIXTURES + "eurusd_1h_ask_2017_gym_anytrading.csv": sampled(eurusd_ask),
    FIXTURES + "googl_2009_2018_gym_anytrading.csv":
        sampled(wheel_file("gym_anytrading-2.0.0", "gym_anytrading/datasets/data/STOCKS_GOOGL.csv")),
    FIXTURES + "ndx_1990_2001_nolds.csv": sampled(wheel_file("nolds-0.6.3", "nolds/datasets/^NDX.csv")),
    FIXTURES + "n225_1990_2001_nolds.csv": sampled(wheel_file("nolds-0.6.3", "nolds/datasets/^N225.csv")),
    # 14 first rows, to include a "null" row
    FIXTURES + "jkse_1997_2001_nolds.csv": sampled(wheel_file("nolds-0.6.3", "nolds/datasets/^JKSE.csv"), first=14),
    FIXTURES + "us_stocks_top100_1990_2012.csv.gz": us_stocks_sample,
    FIXTURES + "quandl_wiki_5stocks_2000_2013_bokeh.csv.gz": quandl_sample,
    FIXTURES + "sp500_20stocks_adjclose_1990_2022_skfolio.csv.gz":
        skfolio("sp500_dataset.csv.gz", "sp500_20stocks_adjclose_1990_2022_skfolio.csv"),
    FIXTURES + "sp500_index_close_1990_2022_skfolio.csv.gz":
        skfolio("sp500_index.csv.gz", "sp500_index_close_1990_2022_skfolio.csv"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", help="the folder with the downloaded wheels and the two clones")
    args = parser.parse_args()
    if not os.path.isdir(args.sources):
        sys.exit(f"error: {args.sources}: no such folder")
    src = Sources(args.sources)
    skipped = 0
    for path, build in OUTPUTS.items():
        try:
            data = build(src)
        except Missing as e:
            print(f"skipped {path}: {e} in {args.sources}", file=sys.stderr)
            skipped += 1
            continue
        with open(path, "wb") as f:
            f.write(data)
        print(f"wrote {path} ({len(data):,} bytes)")
    if skipped:
        print(f"{skipped} of {len(OUTPUTS)} files skipped: their sources are missing", file=sys.stderr)


if __name__ == "__main__":
    main()
