"""Build a replay directory for `monitor fetch --replay DIR` from the real files in ../shared/data.

    python -m tests.replay DEST          (DEST is created; existing files in it are overwritten)

Every value is real published data (see ../shared/data/*/PROVENANCE.md and data/real/incoming/INCOMING.md);
nothing is invented. Where two files cover the same days they must agree exactly (checked here: a disagreement
stops the build). The replay reaches 2026-08-21 for the core series; `README.md`'s demo runs as of that date.

Wire-format recordings (served to the sources' own parsers):
- `fredgraph/DEXKOUS.csv` (current format `observation_date,DEXKOUS`): real/fred_DEXKOUS.csv byte for byte
  (1981-04-13 .. 2026-03-27, empty fields for US holidays), then the days after it from
  incoming/fred_DEXKOUS_1981-04_2026-08_datevaluesource.csv (to 2026-08-14; that file drops missing days).
- `fredgraph/DEXJPUS.csv` (current format): real/fred_DEXJPUS_2015-07_2025-07.csv byte for byte, then the later
  lines of incoming/fred_DEXJPUS_2021-05_2026-05.csv as written (to 2026-05-15).
- `fredgraph/DFEDTARU.csv`, `fredgraph/DFEDTARL.csv`, `fredgraph/DGS10.csv`, in the legacy `DATE,<ID>` layout
  (DGS10 has `.` for missing days), so the replay exercises both fredgraph layouts: the real downloads to
  2024-01 byte for byte, then the later days of incoming/fredapi_<ID>_*.csv (to 2026-06) and of
  incoming/fredapi_cache_33series_2021-05_2026-08.json (to 2026-08-21; DGS10 to 2026-08-20), written with the
  2 decimals FRED serves. Both newer files come from fredapi (missing days dropped).
- `fredgraph/DFF.csv`: real/fred_DFF_1954_2024-01_excel_resaved.csv (1954-07-01 .. 2024-01-25; dates M/D/YYYY and
  trailing zeros dropped by a spreadsheet) merged with real/fred_DFF_2021-08_2026-08.csv (current format). On the
  903 overlapping days the two agree exactly; the newer download is kept. Written in the current fredgraph
  format, `observation_date,DFF`, values with the 2 decimals FRED serves.
- `yahoo/^KS11.csv`: real/yfinance_KS11_daily_1990_2025-01.csv + real/yfinance_KS11_daily_2025-01_2025-02_add.csv
  + samples/yfinance_download_to_csv_KS11_2025-09-08_to_2026-03-06.csv (each row as written), and for every other
  day incoming/yfinance_KS11_daily_1996-12_2026-08.csv (it fills the 2025-03 .. 2025-09 gap and runs to
  2026-08-21), in `yf.download(...).to_csv()`'s own layout (3 header lines, no BOM). The incoming file is
  `yf.download(..., auto_adjust=False)` output with one header line: its cells are kept as the text yfinance
  wrote, only the columns are laid out as the default download (Close, High, Low, Open, Volume; Adj Close,
  equal to Close there, dropped).
- `yahoo/KRW=X.csv`: incoming/yfinance_KRWX_daily_2003-12_2026-08.csv (2003-12-01 .. 2026-08-22, the last row a
  Saturday placeholder Yahoo serves) in the same layout, cells as written.
- `bis/D.JP.csv` (SDMX-CSV 1.0, as the `bis` source asks for it): the BOJ policy rate from
  incoming/bis_cbpol_JP_boj_policy_rate_daily_2021-08_2026-08.csv (BIS WS_CBPOL D.JP, 2021-08-09 .. 2026-08-04,
  the March-July 2024 0-0.1% range stored as its midpoint 0.05, as BIS does), one row per day. The history before
  2021-08 is not in any file in the BIS layout, so the replay's `boj_rate` starts there.
- `boj/FM01_STRDCLUCON.json` (the BOJ API's getDataCode JSON, one page): the uncollateralised overnight call rate
  from incoming/boj_FM01_STRDCLUCON_tona_daily_2021-08_2026-08.csv (2021-08-02 .. 2026-08-05).

- `fredgraph/VIXCLS.csv` (current format `observation_date,VIXCLS`):
  incoming/fred_VIXCLS_1990_2026-08_datevaluesource.csv (a fredgraph download with missing days dropped,
  1990-01-02 .. 2026-08-20), 2 decimals as FRED serves them;
  checked against the fredapi cache's VIXCLS on every common day.
- `mof/jgbcme_all.csv` (MOF's English JGB history, all tenors): incoming/mof_jgbcme_all_1974-09_2026-04.csv byte
  for byte (CRLF, `-` for missing, 1974-09-24 .. 2026-04-30).
- `mof/jgbcme.csv` (MOF's current-month file, same layout): the 10Y days after 2026-04-30 from
  incoming/mof_jgb10y_daily_2021-08_2026-08.csv (to 2026-08-06; written as MOF writes them, `2.813`), checked
  against the history file on their 1,156 common days. No file has the other tenors after April 2026, so they are
  `-` (missing) there: the replay's `jgb_2y` ends 2026-04-30. (MOF's own file holds one month; this one four.)

Stand-ins for series whose real files fit no source's wire format (`csv/<series id>.csv`, columns date,value,
in the units config.toml declares; fetch falls back to them in a replay):
- `csv/bok_rate.csv` (%): the BOK base rate at month end. 2004-01 .. 2018-12 from
  real/bok_base_rate_monthly_2004_2023.csv (stamped at month end), 2019-01 .. 2025-12 from the ECOS 722Y001
  download real/ecos_722Y001_bok_base_rate_monthly_2019-01_2025-12_wide_transcribed.csv (wide layout, one
  column per month, dated here at month end). On their 59 common months (2019-01 .. 2023-11) the two agree
  exactly (checked here); ECOS, the official source, is kept. No 2026 file exists (INCOMING.md section 5).
- `csv/exports_total.csv` (thousand USD): the `full`-month rows of
  real/korea_exports_semis_flash_compiled_2025-01_2026-09_transcribed.csv (MOTIE releases compiled by hand; the
  10- and 20-day flash rows are not monthly totals and are dropped), total_exports_bn (billion USD) x 1,000,000.
  Dated on the 1st of the month, as the ecos source dates monthly data. 2025-06 .. 2026-09.
- `csv/exports_semis.csv` (USD): incoming/kcs_korea_export_HS8542_monthly_2012-06_2026-06.csv, the customs
  (KCS) exports of HS 8542 in thousand USD x 1,000, dated on the 1st of the month. The customs API serves a year
  per request and its recordings are named by page within the request's window, so a fixed recording cannot
  answer the windows different as-of dates ask for; the stand-in can.
- `csv/foreign_net_kospi.csv` (100 million KRW): the `foreign` column of
  real/kr_investor_flow_kospi_daily_2024-08_2026-08_transcribed.csv, which is in million KRW, divided by 100
  (e.g. 2024-08-05: -1,519,801 million KRW -> -15,198.01, matching the 억원 figure another collector shows).

- `csv/us_2y.csv` (%): FRED's DGS2 as DGS10 minus T10Y2Y from incoming/fredapi_cache_33series_2021-05_2026-08.json
  (2021-05-24 .. 2026-08-20). FRED defines T10Y2Y as DGS10 - DGS2, both published to 2 decimals, so the
  difference rounded to 2 decimals is DGS2 exactly; no DGS2 download is in ../shared.

No data in any form for `sp500` (FRED SP500) and `usd_broad` (FRED DTWEXBGS): their replay fetches fail.
Not used: the Yahoo VIX file (FRED's VIXCLS is configured), the FDR KOSPI file (its last
rows are intraday snapshots), and the monthly call-rate proxy the replay used for `boj_rate` before the BIS file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

REAL = Path("data") / "real"
INCOMING = REAL / "incoming"
SAMPLES = Path("data") / "samples"

FRED_CACHE = INCOMING / "fredapi_cache_33series_2021-05_2026-08.json"
# fredgraph downloads in the legacy `DATE,<ID>` layout, extended by the newer fredapi files (then the cache).
LEGACY = {
    "DFEDTARU": (REAL / "fred_DFEDTARU_2008_2024-01.csv", INCOMING / "fredapi_DFEDTARU_2008-12_2026-06.csv"),
    "DFEDTARL": (REAL / "fred_DFEDTARL_2008_2024-01.csv", INCOMING / "fredapi_DFEDTARL_2008-12_2026-06.csv"),
    "DGS10": (REAL / "fred_DGS10_1962_2024-01.csv", INCOMING / "fredapi_DGS10_1962_2026-06.csv"),
}
DEXKOUS = (REAL / "fred_DEXKOUS.csv", INCOMING / "fred_DEXKOUS_1981-04_2026-08_datevaluesource.csv")
DEXJPUS = (REAL / "fred_DEXJPUS_2015-07_2025-07.csv", INCOMING / "fred_DEXJPUS_2021-05_2026-05.csv")
KS11_FILES = (
    REAL / "yfinance_KS11_daily_1990_2025-01.csv",
    REAL / "yfinance_KS11_daily_2025-01_2025-02_add.csv",
    SAMPLES / "yfinance_download_to_csv_KS11_2025-09-08_to_2026-03-06.csv",
)
KS11_INCOMING = INCOMING / "yfinance_KS11_daily_1996-12_2026-08.csv"
KRWX = INCOMING / "yfinance_KRWX_daily_2003-12_2026-08.csv"
BIS_JP = INCOMING / "bis_cbpol_JP_boj_policy_rate_daily_2021-08_2026-08.csv"
TONA = INCOMING / "boj_FM01_STRDCLUCON_tona_daily_2021-08_2026-08.csv"
HS8542 = INCOMING / "kcs_korea_export_HS8542_monthly_2012-06_2026-06.csv"
VIXCLS = INCOMING / "fred_VIXCLS_1990_2026-08_datevaluesource.csv"
JGB_HISTORY = INCOMING / "mof_jgbcme_all_1974-09_2026-04.csv"
JGB_10Y = INCOMING / "mof_jgb10y_daily_2021-08_2026-08.csv"
YF_COLUMNS = ("Close", "High", "Low", "Open", "Volume")  # yf.download's default (auto_adjust=True) layout


class ReplayBuildError(Exception):
    """The shared files are missing or disagree where they must agree."""


def needed_files() -> list[Path]:
    legacy = [p for pair in LEGACY.values() for p in pair]
    files = [*legacy, *DEXKOUS, *DEXJPUS, FRED_CACHE, *KS11_FILES, KS11_INCOMING, KRWX, BIS_JP, TONA, HS8542]
    return [*files, VIXCLS, JGB_HISTORY, JGB_10Y]


def build_replay_dir(shared: Path, dest: Path) -> Path:
    """Write the replay directory described in the module docstring under `dest` and return `dest`."""
    shared, dest = Path(shared), Path(dest)
    missing = [str(p) for p in needed_files() if not (shared / p).is_file()]
    if missing:
        raise ReplayBuildError(f"missing in {shared}: {', '.join(missing)}")
    cache = json.loads((shared / FRED_CACHE).read_text())["series"]
    for fred_id, (old, newer) in LEGACY.items():
        _write(dest / "fredgraph" / f"{fred_id}.csv", _legacy_extended(shared, fred_id, old, newer, cache))
    _write(dest / "fredgraph" / "DEXKOUS.csv", _dexkous(shared))
    _write(dest / "fredgraph" / "DEXJPUS.csv", _dexjpus(shared))
    _write(dest / "fredgraph" / "DFF.csv", _dff(shared).encode())
    _write(dest / "yahoo" / "^KS11.csv", _ks11(shared).encode())
    _write(dest / "yahoo" / "KRW=X.csv", _yf_layout(_yf_rows(shared / KRWX), "KRW=X").encode())
    _write(dest / "bis" / "D.JP.csv", _bis_jp(shared).encode())
    _write(dest / "boj" / "FM01_STRDCLUCON.json", _boj_tona(shared).encode())
    _write(dest / "fredgraph" / "VIXCLS.csv", _vixcls(shared, cache).encode())
    _write(dest / "mof" / "jgbcme_all.csv", (shared / JGB_HISTORY).read_bytes())
    _write(dest / "mof" / "jgbcme.csv", _jgb_current(shared).encode())
    for series_id, frame in {
        "bok_rate": _bok_rate(shared),
        "exports_total": _exports_total(shared),
        "exports_semis": _exports_semis(shared),
        "foreign_net_kospi": _foreign_net_kospi(shared),
        "us_2y": _us_2y(cache),
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


def _values(path: Path, date_col: str, value_col: str, date_format: str = "%Y-%m-%d") -> pd.Series:
    """A date -> float series of a CSV file; blank and '.' cells (FRED's missing days) are left out."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    text = raw[value_col].str.strip()
    keep = ~text.isin(["", "."])
    return pd.Series(
        pd.to_numeric(text[keep]).to_numpy(),
        index=pd.to_datetime(raw.loc[keep, date_col].str.strip(), format=date_format),
    ).sort_index()


def _check_agree(a: pd.Series, b: pd.Series, what: str) -> None:
    common = a.index.intersection(b.index)
    diff = (a[common] - b[common]).abs()
    if (diff > 1e-9).any():
        raise ReplayBuildError(f"{what}: the files disagree on {int((diff > 1e-9).sum())} days, first {diff.idxmax()}")


def _append_after(old_text: str, later: pd.Series, decimals: int) -> bytes:
    """The old file as it is, then one `date,value` line per later day (in the file's own line ending)."""
    newline = "\r\n" if "\r\n" in old_text else "\n"
    body = old_text if old_text.endswith(newline) else old_text + newline
    body += "".join(f"{d:%Y-%m-%d},{v:.{decimals}f}{newline}" for d, v in later.items())
    return body.encode()


def _legacy_extended(shared: Path, fred_id: str, old: Path, newer: Path, cache: dict[str, list]) -> bytes:
    old_s = _values(shared / old, "DATE", fred_id)
    newer_s = _values(shared / newer, "Date", "Value")
    cached = pd.Series({pd.Timestamp(d): float(v) for d, v in cache[fred_id]}).sort_index()
    _check_agree(old_s, newer_s, f"{fred_id} (download vs fredapi file)")
    _check_agree(newer_s, cached, f"{fred_id} (fredapi file vs fredapi cache)")
    later = pd.concat([newer_s, cached[cached.index > newer_s.index.max()]])
    return _append_after((shared / old).read_text(), later[later.index > old_s.index.max()], 2)


def _dexkous(shared: Path) -> bytes:
    old, newer = DEXKOUS
    old_s = _values(shared / old, "observation_date", "DEXKOUS")
    newer_s = _values(shared / newer, "date", "value")
    _check_agree(old_s, newer_s, "DEXKOUS")
    return _append_after((shared / old).read_text(), newer_s[newer_s.index > old_s.index.max()], 2)


def _dexjpus(shared: Path) -> bytes:
    old, newer = DEXJPUS
    old_s = _values(shared / old, "observation_date", "DEXJPUS")
    _check_agree(old_s, _values(shared / newer, "observation_date", "DEXJPUS"), "DEXJPUS")
    last = old_s.index.max().strftime("%Y-%m-%d")  # blank days are kept too: the lines are taken as written
    later = [ln for ln in (shared / newer).read_text().splitlines()[1:] if ln.split(",")[0] > last]
    old_text = (shared / old).read_text()
    return (old_text + ("" if old_text.endswith("\n") else "\n") + "".join(ln + "\n" for ln in later)).encode()


def _dff(shared: Path) -> str:
    old_s = _values(shared / REAL / "fred_DFF_1954_2024-01_excel_resaved.csv", "DATE", "DFF", "%m/%d/%Y")
    new = pd.read_csv(shared / REAL / "fred_DFF_2021-08_2026-08.csv", dtype=str, keep_default_na=False)
    new_s = pd.Series(
        pd.to_numeric(new["DFF"].str.strip().replace({"": None, ".": None})).to_numpy(),
        index=pd.to_datetime(new["observation_date"].str.strip(), format="%Y-%m-%d"),
    )
    _check_agree(old_s, new_s.dropna(), "DFF")
    merged = pd.concat([old_s[~old_s.index.isin(new_s.index)], new_s]).sort_index()
    lines = ["observation_date,DFF"]
    lines += [f"{d:%Y-%m-%d},{'' if pd.isna(v) else f'{v:.2f}'}" for d, v in merged.items()]
    return "\n".join(lines) + "\n"


def _yf_rows(path: Path) -> dict[str, list[str]]:
    """date -> [Close, High, Low, Open, Volume] cells as written, from a one-header-line yfinance CSV."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if missing := [c for c in ("Date", *YF_COLUMNS) if c not in raw.columns]:
        raise ReplayBuildError(f"{path.name} lacks yfinance columns {missing}")
    return {row["Date"]: [row[c] for c in YF_COLUMNS] for _, row in raw.iterrows()}


def _yf_layout(rows: dict[str, list[str]], ticker: str) -> str:
    """`yf.download(ticker).to_csv()`'s layout: three header lines, then one line per session, by date."""
    lines = ["Price," + ",".join(YF_COLUMNS), "Ticker," + ",".join([ticker] * len(YF_COLUMNS)), "Date" + "," * 5]
    lines += [",".join([d, *rows[d]]) for d in sorted(rows)]
    return "\n".join(lines) + "\n"


def _ks11(shared: Path) -> str:
    rows: dict[str, list[str]] = {}
    for path in KS11_FILES:
        frame = pd.read_csv(shared / path, header=[0, 1], index_col=0, skiprows=[2], dtype=str, encoding="utf-8-sig")
        if tuple(frame.columns.get_level_values(0)) != YF_COLUMNS:
            raise ReplayBuildError(f"{path.name} is not in yfinance's column layout")
        rows.update({str(d): list(r) for d, r in zip(frame.index, frame.to_numpy(), strict=True)})
    newer = _yf_rows(shared / KS11_INCOMING)
    closes = pd.Series({pd.Timestamp(d): float(r[0]) for d, r in rows.items() if r[0]})
    # The files hold yfinance's float32 noise; a relative 1e-6 is far below a KOSPI tick (0.01 points).
    common = [d for d in rows if d in newer and rows[d][0] and newer[d][0]]
    bad = [d for d in common if abs(float(newer[d][0]) / closes[pd.Timestamp(d)] - 1) > 1e-6]
    if bad:
        raise ReplayBuildError(f"^KS11: the files disagree on {len(bad)} closes, first {bad[0]}")
    return _yf_layout({**newer, **rows}, "^KS11")


def _bis_jp(shared: Path) -> str:
    rate = _values(shared / BIS_JP, "DATE", "CLOSE", "%Y%m%d")
    head = "DATAFLOW,FREQ,REF_AREA,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,UNIT_MULT,DECIMALS,TITLE,OBS_STATUS"
    lines = [head]
    row = "BIS:WS_CBPOL(1.0),D,JP,{:%Y-%m-%d},{:g},368,0,3,Japan - Policy rate - daily,A"
    lines += [row.format(d, v) for d, v in rate.items()]
    return "\n".join(lines) + "\n"


def _boj_tona(shared: Path) -> str:
    rate = _values(shared / TONA, "DATE", "CLOSE", "%Y%m%d")
    start, end = rate.index.min(), rate.index.max()
    body = {
        "STATUS": 200,
        "MESSAGEID": "M181000I",
        "MESSAGE": "Successfully completed",
        "DATE": f"{end:%Y-%m-%d}T09:00:00.000+09:00",
        "PARAMETER": {
            "FORMAT": "JSON",
            "LANG": "EN",
            "DB": "FM01",
            "STARTDATE": f"{start:%Y%m}",
            "ENDDATE": f"{end:%Y%m}",
            "STARTPOSITION": "",
        },
        "NEXTPOSITION": None,
        "RESULTSET": [
            {
                "SERIES_CODE": "STRDCLUCON",
                "NAME_OF_TIME_SERIES": "Call Rate, Uncollateralized Overnight/Average",
                "UNIT": "percent per annum",
                "FREQUENCY": "DAILY",
                "CATEGORY": "Call Rates",
                "LAST_UPDATE": int(f"{end:%Y%m%d}"),
                "VALUES": {
                    "SURVEY_DATES": [int(f"{d:%Y%m%d}") for d in rate.index],
                    "VALUES": [round(float(v), 4) for v in rate.to_numpy()],
                },
            }
        ],
    }
    return json.dumps(body, separators=(",", ":"))


def _vixcls(shared: Path, cache: dict[str, list]) -> str:
    vix = _values(shared / VIXCLS, "date", "value")
    _check_agree(vix, pd.Series({pd.Timestamp(d): float(v) for d, v in cache["VIXCLS"]}), "VIXCLS")
    return "observation_date,VIXCLS\n" + "".join(f"{d:%Y-%m-%d},{v:.2f}\n" for d, v in vix.items())


def _jgb_current(shared: Path) -> str:
    """MOF's current-month layout holding the 10Y days the history file does not reach (see the docstring)."""
    lines = (shared / JGB_HISTORY).read_text().splitlines()
    head, columns = lines[0], lines[1].split(",")
    history = pd.Series(
        {pd.to_datetime(r[0], format="%Y/%m/%d"): r[columns.index("10Y")] for r in (ln.split(",") for ln in lines[2:])}
    )
    history = pd.to_numeric(history[history != "-"])
    ten = _values(shared / JGB_10Y, "DATE", "CLOSE", "%Y%m%d")
    _check_agree(history, ten, "JGB 10Y (MOF history vs the daily 10Y file)")
    rows = [
        ",".join(f"{v:g}" if c == "10Y" else f"{d.year}/{d.month}/{d.day}" if c == "Date" else "-" for c in columns)
        for d, v in ten[ten.index > history.index.max()].items()
    ]
    return "\r\n".join([head, lines[1], *rows]) + "\r\n"


def _us_2y(cache: dict[str, list]) -> pd.DataFrame:
    ten = pd.Series({pd.Timestamp(d): float(v) for d, v in cache["DGS10"]})
    spread = pd.Series({pd.Timestamp(d): float(v) for d, v in cache["T10Y2Y"]})
    both = pd.concat([ten, spread], axis=1, join="inner")
    two = (both[0] - both[1]).round(2).sort_index()
    return pd.DataFrame({"date": two.index, "value": two.to_numpy()})


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


def _exports_semis(shared: Path) -> pd.DataFrame:
    raw = pd.read_csv(shared / HS8542, dtype=str, encoding="utf-8-sig")
    period, amount = raw.columns[0], raw.columns[4]  # 기간 (YYYY-MM), 수출 금액 (exports, thousand USD)
    dates = pd.to_datetime(raw[period].str.strip() + "-01", format="%Y-%m-%d")
    return pd.DataFrame({"date": dates, "value": raw[amount].astype(float) * 1_000}).sort_values("date")


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
