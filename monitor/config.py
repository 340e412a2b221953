"""Load and validate config.toml, collecting every problem with its key path before anything runs.

Unknown keys are errors everywhere (a typo must never be silently ignored). `load_config` raises one
`ConfigError` that lists every problem as `<key path>: <what is wrong>`, e.g.
`series[3].freq: 'Monthly' is not one of D, B, W, M, Q`.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import re
import tomllib
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.alerts.info import SeriesInfo
from monitor.alerts.rules import KINDS, Rule, RuleBase
from monitor.errors import MonitorError
from monitor.limits import MAX_DRAWS, MAX_HORIZON, MAX_LAGS, MIN_WINDOW
from monitor.spec import BandSpec, GroupSpec, MarketModel, ModelSpec, TvpSettings, VariableSpec
from series.calendars import CALENDARS
from series.preferred import PreferredSpec
from series.spec import DEFAULT_STALE_DAYS, FREQUENCIES, SeriesSpec, SourceRef

if TYPE_CHECKING:
    from monitor.models.flows_at_risk import FarSettings

DEFAULT_CONFIG = Path("config.toml")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
SLUG = r"^[a-z][a-z0-9_]*$"
MARKET = r"^[A-Za-z][A-Za-z0-9_]*$"  # market names in model groups (KR, JP, kospi_it ...)


class ConfigError(MonitorError):
    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path, self.problems = Path(path), problems
        head = f"{path}: {len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__("\n".join([head, *(f"  {p}" for p in problems)]))


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Freq = Literal["D", "B", "W", "M", "Q"]
assert set(Freq.__args__) == set(FREQUENCIES)  # type: ignore[attr-defined]


class PathsBlock(_Block):
    store: str = "data/monitor.sqlite"
    exports: str = "exports"


class RunBlock(_Block):
    timezone: str = "Asia/Seoul"
    calendar: str = "XKRX"  # the session calendar of the daily run
    catch_up_days: int = Field(5, ge=0, le=31)
    heartbeat_url: str = ""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not a time zone name such as Asia/Seoul") from None
        return v

    @field_validator("calendar")
    @classmethod
    def _calendar(cls, v: str) -> str:
        if v not in CALENDARS:
            raise ValueError(f"{v!r} is not one of {', '.join(CALENDARS)}{_suggest(v, list(CALENDARS))}")
        return v


class FetchBlock(_Block):
    timeout_seconds: float = Field(30.0, gt=0)
    retries: int = Field(4, ge=0, le=10)
    # The largest answer a fetch accepts, decompressed (a gzip bomb or a runaway endpoint ends as a schema error).
    max_response_mb: float = Field(50.0, gt=0, le=4096)
    # Per-source base URL overrides (a mirror, a proxy, a local test server): {fred = "http://127.0.0.1:8080"}.
    endpoints: dict[str, str] = {}


class SourceRefBlock(_Block):
    """Another route to the SAME numbers (e.g. FRED API -> fredgraph CSV); never a different measure."""

    source: str
    key: str = Field(min_length=1)
    params: dict[str, Any] = {}
    scale: float = 1.0


class SeriesBlock(_Block):
    id: str = Field(pattern=SLUG)
    label: str = Field(min_length=1)
    source: str
    key: str = Field(min_length=1)
    freq: Freq
    units: str = Field(min_length=1)
    params: dict[str, Any] = {}
    fallback: list[SourceRefBlock] = []
    start: date | None = None
    calendar: Literal["XKRX", "XNYS", "XTKS"] | None = None
    release_lag_days: int = Field(0, ge=0, le=400)
    stale_after_days: int | None = Field(None, gt=0)
    min: float | None = None
    max: float | None = None
    max_jump: float | None = Field(None, gt=0)
    scale: float = 1.0

    @model_validator(mode="after")
    def _range(self) -> SeriesBlock:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


class PreferredBlock(_Block):
    """One quantity from several [[series]], the best-ranked source with data on each date (series/preferred.py):
    e.g. KRW per USD from the Seoul close, else Yahoo KRW=X, else FRED's NY noon rate. Rules and charts name it
    like a series; every value keeps the id of the series it came from."""

    id: str = Field(pattern=SLUG)
    label: str = Field(min_length=1)
    sources: list[str] = Field(min_length=2)  # [[series]] ids, best first


class VariableBlock(_Block):
    series: str
    transform: Literal["level", "diff", "log", "log_diff", "pct_change", "yoy"] = "level"
    agg: Literal["last", "mean", "sum"] = "last"
    timing: Literal["auto", "kr", "us", "none"] = "auto"  # auto: from the series calendar (XNYS -> us)
    name: str | None = None  # column name in the model; defaults to the series id


class BandsBlock(_Block):
    """Bootstrap bands of the spillover measures (monitor/models/bands.py)."""

    level: float = Field(0.9, gt=0, lt=1)  # 0.9: the 5th to 95th percentiles of the draws
    draws: int = Field(500, ge=1, le=MAX_DRAWS)
    block_length: float | None = Field(None, ge=1)  # stationary bootstrap's mean block; absent: iid residuals
    seed: int = Field(0, ge=0)
    interval: Literal["percentile", "bias_corrected"] = "percentile"


class _ModelSettings(_Block):
    """What a [[models]] block and a [[model_groups]] template share: the estimation settings."""

    label: str = ""
    freq: Literal["D", "M"]
    lags: int | Literal["aic", "bic", "hqic"] = "bic"
    max_lags: int = Field(8, ge=1, le=MAX_LAGS)
    horizon: int = Field(10, ge=1, le=MAX_HORIZON)
    window: int | None = Field(None, ge=MIN_WINDOW)
    tvp: bool = False
    orthogonal: bool = False
    start: date | None = None
    bands: BandsBlock | None = None
    frequency: list[float] | None = None  # Barunik-Krehlik band cut points in periods, e.g. [5, 20]
    frequency_grid: int | None = Field(None, ge=1)  # their DFT bins (absent: the horizon)

    @field_validator("frequency")
    @classmethod
    def _frequency(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and (not v or min(v) <= 2 or any(b <= a for a, b in itertools.pairwise(v))):
            raise ValueError("frequency cut points must be increasing periods above 2 observations, e.g. [5, 20]")
        return v

    @field_validator("lags")
    @classmethod
    def _lags(cls, v: int | str) -> int | str:
        if isinstance(v, int) and not 1 <= v <= MAX_LAGS:
            raise ValueError(f"lags must be from 1 to {MAX_LAGS} or one of aic, bic, hqic")
        return v


class ModelBlock(_ModelSettings):
    name: str = Field(pattern=SLUG)
    variables: list[VariableBlock] = Field(min_length=2)


class MarketBlock(_Block):
    name: str = Field(pattern=MARKET)
    label: str = ""
    variables: list[VariableBlock] = Field(min_length=1)


class ModelGroupBlock(_ModelSettings):
    """One model template estimated for each market: the market's variables after the group's common ones.
    Each market's model is named `<group>.<market>` (rules and reports refer to it by that name)."""

    name: str = Field(pattern=SLUG)
    variables: list[VariableBlock] = []  # common to every market (e.g. the US 10-year yield)
    markets: list[MarketBlock] = Field(min_length=1)

    @model_validator(mode="after")
    def _template(self) -> ModelGroupBlock:
        if self.window is None and not self.tvp:
            raise ValueError(
                "a model group needs window = W (rolling) or tvp = true: its summary compares each market's latest "
                "measures with their own history"
            )
        return self


# A variable's timing from its series' home market: a US close is known in Seoul the next session.
_TIMING = {"XNYS": "us", "XKRX": "kr"}


class ReceiverBlock(_Block):
    name: str = Field(pattern=SLUG)
    kind: Literal["email", "file"] = "email"
    to: list[str] = Field(default_factory=list)
    from_: str = Field("", alias="from")
    host: str = ""
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password_env: str = ""
    directory: str = ""  # kind = "file": where the .eml files go
    ca_file: str = ""  # PEM file of CA certificates to trust (an internal CA); default: the system store
    timeout_seconds: float = Field(30.0, gt=0)
    severities: list[Literal["info", "warning", "critical"]] = ["warning", "critical"]
    repeat_interval_days: int = Field(7, ge=0)  # re-send a still-firing alert after this many days; 0 = never

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, v: str) -> str:
        if v and not ENV_NAME.match(v):
            # Looks like a password pasted into the config: say so without echoing it.
            raise ValueError(
                "must be the NAME of an environment variable (e.g. MONITOR_SMTP_PASSWORD), never the password itself"
            )
        return v

    @model_validator(mode="after")
    def _complete(self) -> ReceiverBlock:
        if self.kind == "email":
            missing = [k for k, v in (("to", self.to), ("from", self.from_), ("host", self.host)) if not v]
            if missing:
                raise ValueError(f"an email receiver needs {', '.join(missing)}")
        return self


class SilenceBlock(_Block):
    """Mute alerts whose labels match every matcher (a value starting with ~ is a regular expression) through
    `expires` (the last day it mutes)."""

    matchers: dict[str, str] = Field(min_length=1)
    expires: date
    comment: str = ""
    created_by: str = ""

    @field_validator("matchers")
    @classmethod
    def _regexes(cls, v: dict[str, str]) -> dict[str, str]:
        for key, value in v.items():
            if value.startswith("~"):
                try:
                    re.compile(value[1:])
                except re.error as e:
                    raise ValueError(f"matcher {key} = {value!r} is not a valid regular expression: {e}") from None
        return v


class ComputeBlock(_Block):
    scheduler: Literal["serial", "processes", "dask"] = "serial"
    workers: int = Field(2, ge=1)
    address: str = ""


class DriverBlock(_Block):
    """One flows-at-risk driver (monitor.models.flows_at_risk.DriverSpec)."""

    name: str = Field(pattern=SLUG)
    series: str
    transform: Literal["level", "diff", "log_diff"] = "level"
    periods: int = Field(20, ge=1)
    minus: str | None = None


class FlowsAtRiskBlock(_Block):
    """Capital flows at risk (monitor.models.flows_at_risk): quantile forecasts of the next `horizon` sessions'
    cumulative `flows`; drivers absent: VIX, the US-JP 10-year gap's change, KRW momentum, the BOK-Fed gap."""

    name: str = Field(pattern=SLUG)
    label: str = ""
    flows: str = "foreign_net_kospi"
    horizon: int = Field(20, ge=1, le=250)
    window: int | None = Field(None, ge=20)
    min_obs: int = Field(120, ge=10)
    refit_every: int = Field(5, ge=1)
    drivers: list[DriverBlock] | None = None


class Config(_Block):
    paths: PathsBlock = PathsBlock()
    run: RunBlock = RunBlock()
    fetch: FetchBlock = FetchBlock()
    compute: ComputeBlock = ComputeBlock()
    series: list[SeriesBlock] = Field(min_length=1)
    preferred: list[PreferredBlock] = []
    models: list[ModelBlock] = []
    model_groups: list[ModelGroupBlock] = []
    flows_at_risk: list[FlowsAtRiskBlock] = []
    rules: list[Rule] = []
    receivers: list[ReceiverBlock] = []
    silences: list[SilenceBlock] = []

    # Set by load_config: the folder relative paths are resolved against.
    base_dir: Annotated[Path, Field(exclude=True)] = Path(".")

    def series_by_id(self) -> dict[str, SeriesBlock]:
        return {s.id: s for s in self.series}

    def store_path(self) -> Path:
        return self._resolve(self.paths.store)

    def exports_dir(self) -> Path:
        return self._resolve(self.paths.exports)

    def resolve_path(self, p: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        return self._resolve(p)

    def _resolve(self, p: str) -> Path:
        path = Path(p).expanduser()
        return path if path.is_absolute() else (self.base_dir / path)

    def series_infos(self) -> dict[str, SeriesInfo]:
        """What rules and alert messages need to know about each series."""
        infos = {
            s.id: SeriesInfo(s.id, s.label, s.units, s.freq, s.stale_after_days or DEFAULT_STALE_DAYS[s.freq], s.source)
            for s in self.series
        }
        for p in self.preferred:
            first = infos[p.sources[0]]
            # Its stale limit is the loosest of its sources': it is stale only once every source it could use is.
            limit = max(infos[sid].stale_days for sid in p.sources)
            infos[p.id] = SeriesInfo(p.id, p.label, first.units, first.freq, limit, "preferred", tuple(p.sources))
        return infos

    def series_specs(self) -> list[SeriesSpec]:
        return [self._spec(s) for s in self.series]

    def preferred_specs(self) -> list[PreferredSpec]:
        return [PreferredSpec(p.id, p.label, tuple(p.sources)) for p in self.preferred]

    def model_specs(self) -> list[ModelSpec]:
        """The [[models]] blocks (the markets of [[model_groups]] are in `group_specs`)."""
        return [self._model(m, m.name, m.variables, m.label) for m in self.models]

    def group_specs(self) -> list[GroupSpec]:
        """Each [[model_groups]] block: its template applied to each market (model `<group>.<market>`)."""
        return [
            GroupSpec(
                name=g.name,
                label=g.label or g.name,
                markets=tuple(
                    MarketModel(
                        m.name,
                        m.label or m.name,
                        self._model(
                            g,
                            f"{g.name}.{m.name}",
                            [*g.variables, *m.variables],
                            f"{g.label or g.name}: {m.label or m.name}",
                        ),
                    )
                    for m in g.markets
                ),
            )
            for g in self.model_groups
        ]

    def model_names(self) -> list[str]:
        """Every model a rule or report may name: [[models]], each market of [[model_groups]], [[flows_at_risk]]."""
        names = [m.name for m in self.models] + [f"{g.name}.{m.name}" for g in self.model_groups for m in g.markets]
        return names + [f.name for f in self.flows_at_risk]

    def far_settings(self) -> list[tuple[str, str, FarSettings]]:
        """(name, label, settings) of every [[flows_at_risk]] block."""
        from monitor.models.flows_at_risk import DEFAULT_DRIVERS, DriverSpec, FarSettings

        out = []
        for f in self.flows_at_risk:
            settings = FarSettings(
                horizon=f.horizon,
                window=f.window,
                min_obs=f.min_obs,
                refit_every=f.refit_every,
                flows=f.flows,
                drivers=DEFAULT_DRIVERS
                if f.drivers is None
                else tuple(DriverSpec(d.name, d.series, d.transform, d.periods, d.minus) for d in f.drivers),
            )
            out.append((f.name, f.label or f.name, settings))
        return out

    def _model(self, m: _ModelSettings, name: str, variables: list[VariableBlock], label: str) -> ModelSpec:
        blocks = self.series_by_id()
        specs = tuple(
            VariableSpec(
                series_id=v.series,
                transform=v.transform,
                aggregation=v.agg,
                timing=_TIMING.get(blocks[v.series].calendar or "", "none") if v.timing == "auto" else v.timing,
                name=v.name or v.series,
            )
            for v in variables
        )
        bands = m.bands
        return ModelSpec(
            name=name,
            freq=m.freq,
            variables=specs,
            lags=m.lags,
            max_lags=m.max_lags,
            horizon=m.horizon,
            window=m.window,
            tvp=TvpSettings() if m.tvp else None,
            orthogonal=m.orthogonal,
            start=m.start,
            label=label,
            bands=BandSpec(bands.level, bands.draws, bands.block_length, bands.seed, bands.interval) if bands else None,
            frequency=tuple(m.frequency) if m.frequency is not None else None,
            frequency_grid=m.frequency_grid,
        )

    def _ref(self, source: str, key: str, params: dict[str, Any], scale: float) -> SourceRef:
        from series import sources

        if sources.get(source).key_is_path:
            key = str(self._resolve(key))
        return SourceRef(source, key, MappingProxyType(dict(params)), scale)

    def _spec(self, s: SeriesBlock) -> SeriesSpec:
        return SeriesSpec(
            id=s.id,
            label=s.label,
            freq=s.freq,
            units=s.units,
            primary=self._ref(s.source, s.key, s.params, s.scale),
            fallbacks=tuple(self._ref(f.source, f.key, f.params, f.scale) for f in s.fallback),
            start=s.start,
            calendar=s.calendar,
            release_lag_days=s.release_lag_days,
            stale_after_days=s.stale_after_days,
            valid_min=s.min,
            valid_max=s.max,
            max_jump=s.max_jump,
        )


# ------------------------------------------------------------------------------------------------------------
def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Read and validate a config file; raise ConfigError listing every problem at once."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            path, ["file not found: pass --config PATH or run from the folder with config.toml"]
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(path, [f"cannot read the file: {e}"]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, [f"not valid TOML: {e}"]) from None
    return validate_config(raw, path)


def validate_config(raw: dict[str, Any], path: Path | str = "config.toml") -> Config:
    path = Path(path)
    problems: list[str] = []
    config: Config | None = None
    rules, rule_problems = validate_rules(raw.get("rules", []))
    try:
        # Rules are validated by kind above (one message per problem, with the kind's own keys).
        config = Config.model_validate({**raw, "rules": rules, "base_dir": path.resolve().parent})
    except ValidationError as e:
        problems += [describe_error(err, Config) for err in e.errors()]
    problems += rule_problems
    problems += non_finite(raw)
    # Cross-block checks read the raw tables, so they are reported even when a block failed validation above.
    problems += _cross_checks(raw)
    problems += rule_references(raw)
    if problems:
        raise ConfigError(path, problems)
    assert config is not None
    return config


def non_finite(value: Any, where: str = "") -> list[str]:
    """Every nan or inf anywhere in the file (TOML allows both): no threshold, limit or setting means them, and a
    nan threshold would silently never fire."""
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{where}: {value} is not a finite number"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in non_finite(v, f"{where}.{k}" if where else str(k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in non_finite(v, f"{where}[{i}]")]
    return []


def _items(raw: dict[str, Any], section: str) -> list[tuple[int, dict[str, Any]]]:
    items = raw.get(section)
    return [(i, x) for i, x in enumerate(items) if isinstance(x, dict)] if isinstance(items, list) else []


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _cross_checks(raw: dict[str, Any]) -> list[str]:
    """Checks that span blocks: duplicate ids, references between blocks, source-specific parameters."""
    from series import sources

    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, s in _items(raw, "series"):
        sid = s.get("id")
        if isinstance(sid, str):
            if sid in seen:
                problems.append(f"series[{i}].id: duplicate id {sid!r} (first used by series[{seen[sid]}])")
            seen.setdefault(sid, i)
        refs = [(f"series[{i}]", s.get("source"), s.get("params", {}), s.get("key"))]
        fallbacks = _list(s.get("fallback"))
        refs += [
            (f"series[{i}].fallback[{j}]", f.get("source"), f.get("params", {}), f.get("key"))
            for j, f in enumerate(fallbacks)
            if isinstance(f, dict)
        ]
        for where, source, params, key in refs:
            if not isinstance(source, str):
                continue  # reported by the block validation
            try:
                src = sources.get(source)
            except KeyError as e:
                problems.append(f"{where}.source: {e.args[0]}")
                continue
            key_problem = src.key_problem(key) if isinstance(key, str) and key.strip() else ""
            if key_problem:
                problems.append(f"{where}.key: {key!r} {key_problem}")
            if not isinstance(params, dict):
                continue
            if src.params_model is None:
                if params:
                    problems.append(f"{where}.params: source {source!r} takes no params")
                continue
            try:
                src.params_model.model_validate(params)
            except ValidationError as e:
                problems += [describe_error(err, src.params_model, prefix=f"{where}.params") for err in e.errors()]
    units = {s["id"]: s.get("units") for _, s in _items(raw, "series") if isinstance(s.get("id"), str)}
    for i, p in _items(raw, "preferred"):
        pid = p.get("id")
        if isinstance(pid, str) and pid in seen:
            problems.append(f"preferred[{i}].id: {pid!r} is already a [[series]] id")
        named = [sid for sid in _list(p.get("sources")) if isinstance(sid, str)]
        for j, sid in enumerate(named):
            if sid not in units:
                problems.append(f"preferred[{i}].sources[{j}]: unknown series {sid!r}{_suggest(sid, list(units))}")
        if len({units[sid] for sid in named if sid in units}) > 1:
            problems.append(f"preferred[{i}].sources: the series have different units; one quantity, one unit")
    fetch = raw.get("fetch")
    endpoints = fetch.get("endpoints") if isinstance(fetch, dict) else None
    for name, url in endpoints.items() if isinstance(endpoints, dict) else ():
        if name not in sources.names():
            problems.append(f"fetch.endpoints.{name}: unknown source{_suggest(name, sources.names())}")
        elif not sources.get(name).redirectable:
            problems.append(f"fetch.endpoints.{name}: cannot be redirected (its library makes its own requests)")
        elif not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url):
            problems.append(f"fetch.endpoints.{name}: {url!r} is not a base URL such as http://127.0.0.1:8080")
    for section in ("models", "model_groups", "rules", "receivers"):
        names: dict[str, int] = {}
        for i, item in _items(raw, section):
            name = item.get("name")
            if not isinstance(name, str):
                continue
            if name in names:
                problems.append(
                    f"{section}[{i}].name: duplicate name {name!r} (first used by {section}[{names[name]}])"
                )
            names.setdefault(name, i)
    for i, m in _items(raw, "models"):
        variables = _list(m.get("variables"))
        for j, v in enumerate(variables):
            ref = v.get("series") if isinstance(v, dict) else None
            if isinstance(ref, str) and ref not in seen:
                problems.append(f"models[{i}].variables[{j}].series: unknown series {ref!r}{_suggest(ref, list(seen))}")
        if m.get("window") is not None and m.get("tvp"):
            problems.append(f"models[{i}]: choose either window (rolling) or tvp = true, not both")
    for i, g in _items(raw, "model_groups"):
        where = f"model_groups[{i}]"
        if g.get("window") is not None and g.get("tvp"):
            problems.append(f"{where}: choose either window (rolling) or tvp = true, not both")
        common = [
            (f"{where}.variables[{j}]", v) for j, v in enumerate(_list(g.get("variables"))) if isinstance(v, dict)
        ]
        markets: dict[str, int] = {}
        for k, market in enumerate(_list(g.get("markets"))):
            if not isinstance(market, dict):
                continue
            mwhere = f"{where}.markets[{k}]"
            mname = market.get("name")
            if isinstance(mname, str):
                if mname in markets:
                    problems.append(
                        f"{mwhere}.name: duplicate market {mname!r} (first used by markets[{markets[mname]}])"
                    )
                markets.setdefault(mname, k)
            own = [
                (f"{mwhere}.variables[{j}]", v)
                for j, v in enumerate(_list(market.get("variables")))
                if isinstance(v, dict)
            ]
            first: dict[str, str] = {}
            for key, v in [*common, *own]:
                name = v.get("name") or v.get("series")
                if isinstance(name, str):
                    if name in first:
                        problems.append(
                            f"{key}: variable {name!r} is already in this market's model (from {first[name]}); "
                            'give one of them another name = "..."'
                        )
                    first.setdefault(name, key)
            if len(common) + len(own) < 2:
                problems.append(
                    f"{mwhere}.variables: a market's model needs at least two variables with the common ones"
                )
        for key, v in common + [
            (f"{where}.markets[{k}].variables[{j}]", v)
            for k, market in enumerate(_list(g.get("markets")))
            if isinstance(market, dict)
            for j, v in enumerate(_list(market.get("variables")))
            if isinstance(v, dict)
        ]:
            ref = v.get("series")
            if isinstance(ref, str) and ref not in seen:
                problems.append(f"{key}.series: unknown series {ref!r}{_suggest(ref, list(seen))}")
    return problems


def validate_rules(raw: Any) -> tuple[list[RuleBase], list[str]]:
    """Each `[[rules]]` block against the model of its kind; every problem with its key path."""
    if not isinstance(raw, list):
        return [], ["rules: expected an array of tables ([[rules]] blocks)"]
    rules: list[RuleBase] = []
    problems: list[str] = []
    kinds = ", ".join(KINDS)
    for i, block in enumerate(raw):
        where = f"rules[{i}]"
        if not isinstance(block, dict):
            problems.append(f"{where}: expected a table, got {block!r}")
            continue
        kind = block.get("kind")
        if kind is None:
            problems.append(f"{where}.kind: required key is missing (one of {kinds})")
            continue
        cls = KINDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            problems.append(f"{where}.kind: {kind!r} is not one of {kinds}{_suggest(str(kind), list(KINDS))}")
            continue
        try:
            rule = cls.model_validate(block)
        except ValidationError as e:
            problems += [describe_error(err, cls, prefix=where) for err in e.errors()]
            continue
        found = [f"{where}.annotations.{key}: {msg}" for key, msg in rule.template_problems()]
        problems += found
        if not found:
            rules.append(rule)
    return rules, problems


def rule_references(raw: dict[str, Any]) -> list[str]:
    """Series, models and model variables that rules name must exist (read from the raw blocks, so a rule with
    other problems still has its references checked)."""
    series = [s["id"] for _, s in _items(raw, "series") if isinstance(s.get("id"), str)]
    series += [p["id"] for _, p in _items(raw, "preferred") if isinstance(p.get("id"), str)]
    models: dict[str, list[str]] = {}
    for _, m in _items(raw, "models"):
        if isinstance(m.get("name"), str):
            models[m["name"]] = _variable_names(m.get("variables"))
    for _, f in _items(raw, "flows_at_risk"):
        if isinstance(f.get("name"), str):
            models[f["name"]] = []
    for _, g in _items(raw, "model_groups"):
        for market in _list(g.get("markets")):
            if isinstance(g.get("name"), str) and isinstance(market, dict) and isinstance(market.get("name"), str):
                names = _variable_names(g.get("variables")) + _variable_names(market.get("variables"))
                models[f"{g['name']}.{market['name']}"] = names
    problems = []
    for i, block in _items(raw, "rules"):
        where = f"rules[{i}]"
        kind = KINDS.get(block["kind"]) if isinstance(block.get("kind"), str) else None
        if kind is None:
            continue  # reported by validate_rules
        for key, sid in kind.series_refs(block):
            if sid not in series:
                problems.append(f"{where}.{key}: unknown series {sid!r}{_suggest(sid, series)}")
        model = block.get(kind.model_key) if kind.model_key else None
        if not isinstance(model, str):
            continue
        if model not in models:
            problems.append(f"{where}.{kind.model_key}: unknown model {model!r}{_suggest(model, list(models))}")
            continue
        for key in kind.variable_keys:
            var = block.get(key)
            if isinstance(var, str) and var not in models[model]:
                problems.append(
                    f"{where}.{key}: model {model} has no variable {var!r}{_suggest(var, models[model])} "
                    f"(its variables: {', '.join(models[model])})"
                )
    return problems


def _variable_names(variables: Any) -> list[str]:
    names = [v.get("name") or v.get("series") for v in _list(variables) if isinstance(v, dict)]
    return [n for n in names if isinstance(n, str)]


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _loc(loc: tuple[int | str, ...], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def describe_error(err: Any, root: type[BaseModel], prefix: str = "") -> str:
    loc = tuple(p for p in err["loc"] if p != "from_")
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    # Union members add their type name to the location (e.g. "int", "literal['aic','bic']"): drop them.
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("int", "str", "float"))))
    where = _loc(loc, prefix)
    if kind == "extra_forbidden":
        parent = loc[:-1]
        allowed = _allowed_keys(root, parent)
        return f"{where}: unknown key{_suggest(str(loc[-1]), allowed)}"
    if kind == "missing":
        return f"{where}: required key is missing"
    if kind == "literal_error":
        expected = ctx.get("expected", "").replace("'", "").replace(" or ", ", ")
        return f"{where}: {value!r} is not one of {expected}"
    if kind == "string_pattern_mismatch":
        return f"{where}: {value!r} must be lowercase letters, digits and underscores, starting with a letter"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        wanted = kind.split("_")[0].replace("dict", "table").replace("list", "array").replace("bool", "true/false")
        if kind.startswith("date"):
            wanted = "a date (YYYY-MM-DD)"
        return f"{where}: expected {wanted}, got {value!r}"
    if kind == "value_error":
        return f"{where}: {str(err['msg']).removeprefix('Value error, ')}"
    return f"{where}: {err['msg']}" + ("" if isinstance(value, (dict, list)) else f" (got {value!r})")


def _allowed_keys(root: type[BaseModel], parent: tuple[int | str, ...]) -> list[str]:
    """Field names of the block that holds an unknown key, for a 'did you mean' hint."""
    model: Any = root
    for part in parent:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        ann = field.annotation
        candidates = (ann, *getattr(ann, "__args__", ()))
        model = next((a for a in candidates if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return [f.alias or name for name, f in model.model_fields.items()]


def secret_values(config: Config, env: dict[str, str] | None = None) -> tuple[str, ...]:
    """Every form of every secret of a run, so logs, messages and the store can redact them: the one registry of
    `series.sources.secret_values`, with each receiver's password_env (and its login, for SMTP AUTH's forms)."""
    from series import sources

    env = dict(os.environ) if env is None else env
    receivers = [r for r in config.receivers if r.password_env]
    return sources.secret_values(
        env, [r.password_env for r in receivers], [(r.username, r.password_env) for r in receivers]
    )
