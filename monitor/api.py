"""The Python API: the monitor's store, panels, spillover engine, stored results and rules, for a notebook.

    import monitor

    store = monitor.open_store("data/monitor.sqlite")               # read-only; or open_store(config="config.toml")
    krw = monitor.series_as_of(store, "krw_usd", "2026-03-27")        # pd.Series, as known that day
    rows = monitor.series_as_of(store, "krw_usd", "2026-03-27", vintages=True)  # every vintage known then
    frame = monitor.panel(store, "market_daily", "2026-03-27", config="config.toml")  # what the model estimates
    table = monitor.connectedness(frame, lags=2, horizon=10)          # receivers x transmitters, FROM, TO, NET
    roll = monitor.rolling_connectedness(frame, lags=2, horizon=10, window=250)  # TCI, TO_*, NET_* per date
    tvp = monitor.tvp_connectedness(frame, lags=1, horizon=10)        # the same measures from a TVP-VAR
    monitor.model_results(store, "2026-03-27")                        # one row per stored model
    monitor.model_result(store, "market_daily", "2026-03-27").rolling # the full stored result
    monitor.evaluate_rule("krw_usd_warning", store, "2026-03-27", config="config.toml")  # value, threshold, condition

Every date argument may be a `str` (YYYY-MM-DD), a `datetime.date` or a `pandas.Timestamp` (`series.dates.as_date`
reads them all). Everything is point in time: a value first known after the date is never used. Nothing here
writes to the store: `monitor run` and `monitor fetch` fill it. Errors are `monitor.errors.MonitorError` (bad
input, unknown names) or `series.errors.StoreError` (the store), each one line saying what to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from monitor.alerts.data import RuleData, SeriesInfo, load_rule_data
from monitor.alerts.rules import RuleBase
from monitor.align import model_panel
from monitor.config import DEFAULT_CONFIG, Config, load_config, validate_rules
from monitor.errors import MonitorError
from monitor.models import spillover
from monitor.models.results import ModelResult, load_result, load_results
from monitor.spec import ModelSpec, VariableSpec
from series.dates import DateLike, as_date
from series.store import Store

ConfigLike = Config | str | Path

__all__ = [
    "connectedness",
    "evaluate_rule",
    "model_result",
    "model_results",
    "open_store",
    "panel",
    "rolling_connectedness",
    "series_as_of",
    "tvp_connectedness",
]


def _config(config: ConfigLike | None) -> Config:
    """A loaded config: as given, read from a path, or ./config.toml."""
    if isinstance(config, Config):
        return config
    return load_config(DEFAULT_CONFIG if config is None else config)


# -- the store ------------------------------------------------------------------------------------------------
def open_store(path: str | Path | None = None, *, config: ConfigLike | None = None) -> Store:
    """Open the store read-only (no lock: a daily run may write meanwhile). Close it with `store.close()`, or use
    it in a `with` block.

    path: the SQLite file; without it, the `[paths] store` of `config` (a `Config`, a path to config.toml, or
    ./config.toml).

    >>> store = monitor.open_store("data/monitor.sqlite")            # doctest: +SKIP
    >>> with monitor.open_store(config="config.toml") as store: ...  # doctest: +SKIP
    """
    return Store.open(_config(config).store_path() if path is None else Path(path))


def series_as_of(
    store: Store, series_id: str, as_of: DateLike | None = None, *, vintages: bool = False
) -> pd.Series | pd.DataFrame:
    """A stored series as it was known on `as_of` (None: everything known now).

    Returns a float `pd.Series` indexed by observation date (named `date`), the value in effect on `as_of` for
    each date. With `vintages=True`, a `pd.DataFrame` of every stored row first known on or before `as_of` instead:
    `date`, `value`, `realtime_start` (first known), `fetched_at`, `source`, `run_id`; a revised date has one row
    per vintage.

    >>> monitor.series_as_of(store, "krw_usd", "2026-03-27").tail(2)          # doctest: +SKIP
    date
    2026-03-20    1488.46
    2026-03-23    1492.07
    Name: krw_usd, dtype: float64
    """
    if not vintages:
        return store.latest(series_id) if as_of is None else store.as_of(series_id, as_of)
    rows = store.vintages(series_id)
    if as_of is None:
        return rows
    return rows[rows["realtime_start"] <= pd.Timestamp(as_date(as_of, "as_of"))].reset_index(drop=True)


# -- panels ---------------------------------------------------------------------------------------------------
def panel(
    store: Store,
    model: str | Sequence[str] | ModelSpec,
    as_of: DateLike,
    *,
    config: ConfigLike | None = None,
    freq: str = "D",
    transform: str = "level",
    timing: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Several series aligned as a model sees them on `as_of`: dates x variables, only what was known that day.

    model: the name of a `[[models]]` block (or a `<group>.<market>` model) of `config`: its inputs as the daily
    run picks them (a stale input, or one whose short history would cut the sample too short, is left out, as
    in the run), aligned (daily: KRX sessions, US-timed series moved to the next Seoul session; monthly: month
    ends, a month not yet over left out), transformed and cut at the model's `start`. Or a list of series ids: a
    panel of those, each with `transform`, at frequency `freq` ("D" or "M"), `timing` per series id ("us", "kr",
    "none"; default "none"); nothing is left out. Or a `ModelSpec`.

    `frame.attrs["notes"]` says what the aligner did (rows dropped, values filled forward) and
    `frame.attrs["dropped"]` which inputs were left out and why.

    >>> frame = monitor.panel(store, "market_daily", "2026-03-27", config="config.toml")  # doctest: +SKIP
    >>> frame = monitor.panel(store, ["krw_usd", "kospi"], "2026-03-27", transform="log_diff")  # doctest: +SKIP
    """
    day = as_date(as_of, "as_of")
    dropped: tuple[str, ...] = ()
    if isinstance(model, ModelSpec) or not isinstance(model, str):
        spec = model if isinstance(model, ModelSpec) else _adhoc_spec(model, freq, transform, timing or {})
        data = {v.series_id: store.as_of(v.series_id, day) for v in spec.variables}
    else:
        from monitor.pipeline import inputs_for  # the run's own input selection, so the panel is the model's

        cfg = _config(config)
        spec = _model_spec(cfg, model)
        data = {v.series_id: store.as_of(v.series_id, day) for v in spec.variables}
        spec, dropped = inputs_for(spec, data, cfg.series_infos(), day)
    aligned = model_panel(data, spec, day)
    frame = aligned.frame[list(spec.names)]
    if spec.start is not None:
        frame = frame[frame.index >= pd.Timestamp(spec.start)]
    frame = frame.copy()
    frame.attrs.update(notes=list(aligned.notes), dropped=list(dropped))
    return frame


def _adhoc_spec(series_ids: Sequence[str], freq: str, transform: str, timing: Mapping[str, str]) -> ModelSpec:
    ids = list(series_ids)
    unknown = sorted(set(timing) - set(ids))
    if unknown:
        raise MonitorError(f"timing names series not in the panel: {', '.join(unknown)}")
    variables = tuple(VariableSpec(sid, transform=transform, timing=timing.get(sid, "none")) for sid in ids)
    return ModelSpec(name="panel", freq=freq, variables=variables, lags=1)


def _model_spec(config: Config, name: str) -> ModelSpec:
    specs = {s.name: s for s in config.model_specs()}
    specs |= {m.spec.name: m.spec for g in config.group_specs() for m in g.markets}
    if name not in specs:
        raise MonitorError(f"unknown model {name!r}; known: {', '.join(sorted(specs)) or 'none'}")
    return specs[name]


# -- the spillover engine -------------------------------------------------------------------------------------
def connectedness(data: pd.DataFrame, lags: int, horizon: int, *, orthogonal: bool = False) -> pd.DataFrame:
    """Diebold-Yilmaz connectedness of a VAR(lags) with a constant, estimated on every row of `data`.

    data: dates x variables, used as given (transform it first, e.g. `panel(...)`). horizon H sums the MA terms
    h = 0..H-1. Generalized FEVD (Pesaran-Shin), or Cholesky in column order with `orthogonal=True`.

    Returns the table in percent: rows receive, columns transmit (each row sums to 100), a `FROM` column, and
    `TO` and `NET` rows; `attrs` holds `tci`, `ctci`, `lags`, `horizon` and `nobs`.

    >>> table = monitor.connectedness(frame, lags=2, horizon=10)   # doctest: +SKIP
    >>> table.attrs["tci"], table.loc["NET"]                       # doctest: +SKIP
    """
    result = spillover.connectedness(data, lags, horizon, orthogonal=orthogonal)
    table = result.frame()
    table.attrs.update(tci=result.tci, ctci=result.ctci, lags=result.lags, horizon=result.horizon, nobs=result.nobs)
    return table


def rolling_connectedness(
    data: pd.DataFrame, lags: int, horizon: int, window: int, *, orthogonal: bool = False
) -> pd.DataFrame:
    """Connectedness on every window of `window` rows of `data`, dated at the window's last row.

    Columns: `TCI`, `cTCI`, `TO_<v>`, `FROM_<v>`, `NET_<v>`, `NPT_<v>` and `NPDC_<vi>_<vj>` (positive: vi is a
    net transmitter to vj), as the daily run stores them.

    >>> monitor.rolling_connectedness(frame, lags=2, horizon=10, window=250)["TCI"]  # doctest: +SKIP
    """
    return spillover.rolling_connectedness(data, lags, horizon, window, orthogonal=orthogonal)


def tvp_connectedness(
    data: pd.DataFrame,
    lags: int,
    horizon: int,
    *,
    kappa1: float = 0.99,
    kappa2: float = 0.99,
    prior_window: int | None = None,
    orthogonal: bool = False,
) -> pd.DataFrame:
    """TVP-VAR connectedness (Antonakakis, Chatziantoniou & Gabauer 2020) for every date of `data`: the columns of
    `rolling_connectedness`. The prior is an OLS VAR on the first `prior_window` rows (None: 200 - lags, clamped
    to what there is); those dates are a burn-in, later dates use no later data. `attrs["prior_window"]` says how
    many rows it took.

    >>> monitor.tvp_connectedness(frame, lags=1, horizon=10)["TCI"]  # doctest: +SKIP
    """
    result = spillover.tvp_connectedness(data, lags, horizon, kappa1, kappa2, prior_window, orthogonal=orthogonal)
    frame = result.frame.copy()
    frame.attrs.update(prior_window=result.prior_window)
    return frame


# -- stored results -------------------------------------------------------------------------------------------
def model_results(store: Store, as_of: DateLike | None = None) -> pd.DataFrame:
    """The model results stored by `monitor run` for `as_of` (each model's latest on or before it; None: the
    latest), one row per model: `as_of`, `method`, `lags`, `horizon`, `window`, `nobs`, `sample_start`,
    `sample_end`, `tci` (the current table's: the latest window's for rolling models), `dropped`, `error`.

    >>> monitor.model_results(store, "2026-03-27")[["method", "tci"]]   # doctest: +SKIP
    """
    rows = []
    for name, r in load_results(store, as_of).items():
        table = r.current_table
        rows.append(
            {
                "model": name,
                "as_of": r.as_of,
                "method": r.method,
                "lags": r.lags,
                "horizon": r.horizon,
                "window": r.window,
                "nobs": r.nobs,
                "sample_start": r.sample_start,
                "sample_end": r.sample_end,
                "tci": table.tci if table is not None else float("nan"),
                "dropped": "; ".join(r.dropped),
                "error": r.error,
            }
        )
    columns = ["as_of", "method", "lags", "horizon", "window", "nobs", "sample_start", "sample_end"]
    columns += ["tci", "dropped", "error"]
    return pd.DataFrame(rows, columns=["model", *columns]).set_index("model")


def model_result(store: Store, model: str, as_of: DateLike | None = None) -> ModelResult:
    """The full result of one model stored for `as_of` (its latest on or before it; None: the latest):
    `.current_table.frame()` the connectedness table, `.rolling` the per-date measures (with `_lo`/`_hi` band
    columns when the model has bands), `.bands`, `.irf`, `.granger`, `.notes`, `.dropped`.

    >>> monitor.model_result(store, "market_daily", "2026-03-27").rolling["TCI"]   # doctest: +SKIP
    """
    result = load_result(store, model, as_of)
    if result is None:
        known = sorted(load_results(store, as_of))
        when = f" on or before {as_date(as_of, 'as_of')}" if as_of is not None else ""
        raise MonitorError(f"no stored result of model {model!r}{when}; stored: {', '.join(known) or 'none'}")
    return result


# -- rules ----------------------------------------------------------------------------------------------------
def evaluate_rule(
    rule: str | Mapping[str, Any] | RuleBase,
    data: Store | pd.Series | Mapping[str, pd.Series],
    as_of: DateLike,
    *,
    config: ConfigLike | None = None,
) -> pd.DataFrame:
    """A rule evaluated over history as known on `as_of`: one row per observation date, with `value` (the
    statistic), `threshold`, `condition` (True where the rule holds) and the kind's own columns. `for` and
    `keep_firing_for` are applied by the alert engine on top of `condition`.

    rule: the name of a `[[rules]]` block of `config`, a dict written like one (`{"name": "krw_high", "kind":
    "level", "series": "krw_usd", "op": ">=", "threshold": 1450}`), or a parsed rule.
    data: a store (the series as known on `as_of`, their health, and for spillover rules the rolling results the
    last run on or before `as_of` stored), a `pd.Series` (the one series a single-series rule reads), or a mapping
    series id -> `pd.Series`; observations dated after `as_of` are ignored.
    config: where a named rule is found and the series' labels, units and stale limits come from (a `Config`, a
    path, or ./config.toml when `rule` is a name).

    A rule with several instances (data_health: one per series) has an `instance` column.

    >>> monitor.evaluate_rule({"name": "krw_high", "kind": "level", "series": "krw_usd", "op": ">=",
    ...                        "threshold": 1450}, store, "2026-03-27").tail(1)     # doctest: +SKIP
    """
    day = as_date(as_of, "as_of")
    cfg = _config(config) if config is not None or isinstance(rule, str) else None
    parsed = _rule(rule, cfg)
    infos = dict(cfg.series_infos()) if cfg is not None else {}
    rule_data = _rule_data(parsed, data, day, infos)
    frames = []
    for ev in parsed.evaluate(rule_data):
        frame = ev.frame.copy()
        if ev.instance:
            frame.insert(0, "instance", ",".join(f"{k}={v}" for k, v in sorted(ev.instance.items())))
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["value", "threshold", "condition"])
    return pd.concat(frames) if len(frames) > 1 else frames[0]


def _rule(rule: str | Mapping[str, Any] | RuleBase, config: Config | None) -> RuleBase:
    if isinstance(rule, RuleBase):
        return rule
    if isinstance(rule, str):
        assert config is not None
        rules = {r.name: r for r in config.rules}
        if rule not in rules:
            raise MonitorError(f"unknown rule {rule!r}; known: {', '.join(rules) or 'none'}")
        return rules[rule]
    parsed, problems = validate_rules([dict(rule)])
    if problems:
        raise MonitorError("the rule is not valid: " + "; ".join(p.replace("rules[0].", "", 1) for p in problems))
    return parsed[0]


def _rule_data(
    rule: RuleBase, data: Store | pd.Series | Mapping[str, pd.Series], day: Any, infos: dict[str, SeriesInfo]
) -> RuleData:
    needed = rule.series_ids()
    for sid in needed:
        infos.setdefault(sid, SeriesInfo(sid))
    if isinstance(data, Store):
        results = {}
        for name in rule.model_names():
            stored = load_result(data, name, day)
            if stored is not None and stored.rolling is not None and not stored.error:
                results[name] = stored.rolling
        if needed or rule.model_names():
            chosen = [infos[s] for s in needed]
            # A preferred series is resolved from its sources: they are read too.
            chosen += [infos.get(src) or SeriesInfo(src) for info in chosen for src in info.prefer]
        else:  # a rule that names no input (data_health on "*") reads every series
            chosen = [*infos.values(), *(SeriesInfo(sid) for sid in data.summaries() if sid not in infos)]
        return load_rule_data(data, {i.id: i for i in chosen}.values(), day, results=results)
    if isinstance(data, pd.Series):
        ids = [s for s in needed if s != "*"]
        if len(ids) != 1:
            raise MonitorError(
                f"rule {rule.name} reads {len(ids)} series ({', '.join(ids) or 'none'}): pass a mapping "
                "series id -> pd.Series or a store, not one series"
            )
        data = {ids[0]: data}
    cut = pd.Timestamp(day)
    series = {sid: s[s.index <= cut].astype(float) for sid, s in data.items()}
    return RuleData(day, series, {**infos, **{sid: infos.get(sid) or SeriesInfo(sid) for sid in series}})
