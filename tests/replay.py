"""Build a replay directory for `monitor fetch --replay DIR` from the real files in ../shared/data.

    python -m tests.replay DEST          (DEST is created; existing files in it are overwritten)

Every file is real published data (see ../shared/data/*/PROVENANCE.md); nothing is invented. What goes where:

Wire-format recordings (served to the sources' own parsers):
- `fredgraph/DEXKOUS.csv`: real/fred_DEXKOUS.csv byte for byte (current format, 1981-04-13 .. 2026-03-27, 494
  empty fields for US holidays).
- `fredgraph/DFEDTARU.csv`, `fredgraph/DFEDTARL.csv`, `fredgraph/DGS10.csv`: the real downloads byte for byte,
  in the legacy `DATE,<ID>` format (DGS10 has `.` for missing days): the replay exercises both layouts.
- `fredgraph/DEXJPUS.csv`: real/fred_DEXJPUS_2015-07_2025-07.csv byte for byte (current format).
- `fredgraph/DFF.csv`: real/fred_DFF_1954_2024-01_excel_resaved.csv (1954-07-01 .. 2024-01-25; dates M/D/YYYY and
  trailing zeros dropped by a spreadsheet) merged with real/fred_DFF_2021-08_2026-08.csv (current format). On the
  903 overlapping days the two agree exactly (checked here: a disagreement stops the build); the newer download is
  kept. Written in the current fredgraph format, `observation_date,DFF`, values with the 2 decimals FRED serves.
- `yahoo/^KS11.csv`: real/yfinance_KS11_daily_1990_2025-01.csv + real/yfinance_KS11_daily_2025-01_2025-02_add.csv
  + samples/yfinance_download_to_csv_KS11_2025-09-08_to_2026-03-06.csv, merged by date (a later file wins a
  date; the three do not overlap), values kept as the text yfinance wrote, in `yf.download(...).to_csv()`'s own
  layout (3 header lines, no BOM). KOSPI has no data from 2025-03-01 to 2025-09-05 here: none of the files
  covers it.

Stand-ins for series whose real files are in no source's wire format (`csv/<series id>.csv`, columns date,value,
in the units config.toml declares; fetch falls back to them in a replay):
- `csv/boj_rate.csv` (%): FRED IRSTCI01JPM156N (OECD, monthly average of Japan's uncollateralized overnight call
  rate), 1992-10 .. 2024-01, from real/fredapi_IRSTCI01JPM156N_japan_call_rate_monthly_1992-10_2024-01.csv.
  A PROXY: the call rate the BOJ targets, not its announced policy rate (the two differ by a few basis points,
  and no value exists for the 2013-2016 monetary-base years' policy rate at all). Chosen over the BOJ download
  (real/boj_basic_loan_rate_and_call_rate_monthly_2010_2023.csv, the same measure) because it covers 1998 on,
  as the series' start asks, and has unambiguous dates. Each monthly average is dated on the LAST day of its
  month, when it is complete, so this daily-frequency series never knows a month's average before it ends.
- `csv/bok_rate.csv` (%): the BOK base rate at month end. 2004-01 .. 2018-12 from
  real/bok_base_rate_monthly_2004_2023.csv (stamped at month end), 2019-01 .. 2025-12 from the ECOS 722Y001
  download real/ecos_722Y001_bok_base_rate_monthly_2019-01_2025-12_wide_transcribed.csv (wide layout, one
  column per month, dated here at month end). On their 59 common months (2019-01 .. 2023-11) the two agree
  exactly (checked here); ECOS, the official source, is kept.
- `csv/exports_total.csv` (thousand USD): the `full`-month rows of
  real/korea_exports_semis_flash_compiled_2025-01_2026-09_transcribed.csv (MOTIE releases compiled by hand; the
  10- and 20-day flash rows are not monthly totals and are dropped), total_exports_bn (billion USD) x 1,000,000.
  Dated on the 1st of the month, as the ecos source dates monthly data. 2025-06 .. 2026-09.
- `csv/foreign_net_kospi.csv` (100 million KRW): the `foreign` column of
  real/kr_investor_flow_kospi_daily_2024-08_2026-08_transcribed.csv, which is in million KRW, divided by 100
  (e.g. 2024-08-05: -1,519,801 million KRW -> -15,198.01, matching the 억원 figure another collector shows).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

REAL = Path("data") / "real"
SAMPLES = Path("data") / "samples"

COPIES = {
    "fredgraph/DEXKOUS.csv": REAL / "fred_DEXKOUS.csv",
    "fredgraph/DFEDTARU.csv": REAL / "fred_DFEDTARU_2008_2024-01.csv",
    "fredgraph/DFEDTARL.csv": REAL / "fred_DFEDTARL_2008_2024-01.csv",
    "fredgraph/DEXJPUS.csv": REAL / "fred_DEXJPUS_2015-07_2025-07.csv",
    "fredgraph/DGS10.csv": REAL / "fred_DGS10_1962_2024-01.csv",
}
KS11_FILES = (
    REAL / "yfinance_KS11_daily_1990_2025-01.csv",
    REAL / "yfinance_KS11_daily_2025-01_2025-02_add.csv",
    SAMPLES / "yfinance_download_to_csv_KS11_2025-09-08_to_2026-03-06.csv",
)


class ReplayBuildError(Exception):
    """The shared files are missing or disagree where they must agree."""


def build_replay_dir(shared: Path, dest: Path) -> Path:
    """Write the replay directory described in the module docstring under `dest` and return `dest`."""
    shared, dest = Path(shared), Path(dest)
    needed = [*COPIES.values(), *KS11_FILES]
    missing = [str(p) for p in needed if not (shared / p).is_file()]
    if missing:
        raise ReplayBuildError(f"missing in {shared}: {', '.join(missing)}")
    for name, source in COPIES.items():
        _write(dest / name, (shared / source).read_bytes())
    _write(dest / "fredgraph" / "DFF.csv", _dff(shared).encode())
    _write(dest / "yahoo" / "^KS11.csv", _ks11(shared).encode())
    for series_id, frame in {
        "boj_rate": _boj_rate(shared),
        "bok_rate": _bok_rate(shared),
        "exports_total": _exports_total(shared),
        "foreign_net_kospi": _foreign_net_kospi(shared),
    }.items():
        _write(dest / "csv" / f"{series_id}.csv", _date_value_csv(frame).encode())
    return dest


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def _date_value_csv(frame: pd.DataFrame) -> str:
    lines = ["date,value"]
    lines += [f"{d:%Y-%m-%d},{v!r}" for d, v in zip(frame["date"], frame["value"], strict=True)]
    return "\n".join(lines) + "\n"


def _dff(shared: Path) -> str:
    old = pd.read_csv(shared / REAL / "fred_DFF_1954_2024-01_excel_resaved.csv", dtype=str, keep_default_na=False)
    new = pd.read_csv(shared / REAL / "fred_DFF_2021-08_2026-08.csv", dtype=str, keep_default_na=False)
    old_s = pd.Series(
        pd.to_numeric(old["DFF"].str.strip().replace({"": None, ".": None})).to_numpy(),
        index=pd.to_datetime(old["DATE"].str.strip(), format="%m/%d/%Y"),
    )
    new_s = pd.Series(
        pd.to_numeric(new["DFF"].str.strip().replace({"": None, ".": None})).to_numpy(),
        index=pd.to_datetime(new["observation_date"].str.strip(), format="%Y-%m-%d"),
    )
    common = old_s.index.intersection(new_s.index)
    diff = (old_s[common] - new_s[common]).abs()
    if (diff > 1e-9).any():
        raise ReplayBuildError(f"the two DFF files disagree on {int((diff > 1e-9).sum())} days, first {diff.idxmax()}")
    merged = pd.concat([old_s[~old_s.index.isin(new_s.index)], new_s]).sort_index()
    lines = ["observation_date,DFF"]
    lines += [f"{d:%Y-%m-%d},{'' if pd.isna(v) else f'{v:.2f}'}" for d, v in merged.items()]
    return "\n".join(lines) + "\n"


def _ks11(shared: Path) -> str:
    frames = []
    for path in KS11_FILES:
        frame = pd.read_csv(shared / path, header=[0, 1], index_col=0, skiprows=[2], dtype=str, encoding="utf-8-sig")
        frames.append(frame)
    columns = frames[0].columns
    if any(not f.columns.equals(columns) for f in frames):
        raise ReplayBuildError("the ^KS11 files do not share yfinance's column layout")
    merged = pd.concat(frames)
    merged = merged[~merged.index.duplicated(keep="last")].sort_index()
    merged.columns.names = ["Price", "Ticker"]
    merged.index.name = "Date"
    text: str = merged.to_csv(lineterminator="\n")
    return text


def _boj_rate(shared: Path) -> pd.DataFrame:
    raw = pd.read_csv(shared / REAL / "fredapi_IRSTCI01JPM156N_japan_call_rate_monthly_1992-10_2024-01.csv")
    month_end = pd.to_datetime(raw["date"]) + pd.offsets.MonthEnd(0)
    return pd.DataFrame({"date": month_end, "value": raw["IRSTCI01JPM156N"].astype(float)})


def _bok_rate(shared: Path) -> pd.DataFrame:
    monthly = pd.read_csv(shared / REAL / "bok_base_rate_monthly_2004_2023.csv", header=None, names=["date", "value"])
    monthly_s = pd.Series(monthly["value"].astype(float).to_numpy(), index=pd.to_datetime(monthly["date"]))
    wide = pd.read_csv(
        shared / REAL / "ecos_722Y001_bok_base_rate_monthly_2019-01_2025-12_wide_transcribed.csv", dtype=str
    )
    months = [c for c in wide.columns if c[:4].isdigit()]
    ecos = pd.Series(
        wide.loc[0, months].astype(float).to_numpy(),
        index=pd.to_datetime(months, format="%Y/%m") + pd.offsets.MonthEnd(0),
    )
    common = monthly_s.index.intersection(ecos.index)
    if (monthly_s[common] - ecos[common]).abs().max() > 1e-9:
        raise ReplayBuildError("the ECOS base-rate download and the monthly file disagree on common months")
    merged = pd.concat([monthly_s[~monthly_s.index.isin(ecos.index)], ecos]).sort_index()
    return pd.DataFrame({"date": merged.index, "value": merged.to_numpy()})


def _exports_total(shared: Path) -> pd.DataFrame:
    raw = pd.read_csv(shared / REAL / "korea_exports_semis_flash_compiled_2025-01_2026-09_transcribed.csv")
    full = raw[raw["period"].str.strip().str.endswith(" full") & raw["total_exports_bn"].notna()]
    dates = pd.to_datetime(full["period"].str.split().str[0] + "-01", format="%Y-%m-%d")
    return pd.DataFrame(
        {"date": dates, "value": (full["total_exports_bn"].astype(float) * 1_000_000).round()}
    ).sort_values("date")


def _foreign_net_kospi(shared: Path) -> pd.DataFrame:
    raw = pd.read_csv(shared / REAL / "kr_investor_flow_kospi_daily_2024-08_2026-08_transcribed.csv")
    return pd.DataFrame({"date": pd.to_datetime(raw["date"]), "value": raw["foreign"].astype(float) / 100})


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.replay DEST", file=sys.stderr)
        return 2
    shared = (Path(__file__).resolve().parents[1] / ".." / "shared").resolve()
    try:
        dest = build_replay_dir(shared, Path(argv[0]))
    except ReplayBuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    count = sum(1 for p in dest.rglob("*") if p.is_file())
    print(f"replay directory {dest}: {count} files; run: monitor fetch --replay {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
