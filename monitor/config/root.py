"""The whole file as one object: `Config`, its blocks, and what the rest of the monitor reads from them (series
and model specs, the facts rules need about each series, paths resolved against the config's folder)."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from monitor.alerts.info import SeriesInfo
from monitor.alerts.rules import Rule
from monitor.config.base import Block
from monitor.config.models import TIMING, ModelBlock, ModelGroupBlock, ModelSettings, VariableBlock
from monitor.config.receivers import Receiver
from monitor.config.series import PreferredBlock, SeriesBlock
from monitor.config.settings import ComputeBlock, FetchBlock, PathsBlock, RunBlock
from monitor.config.silences import SilenceBlock
from monitor.spec import BandSpec, GroupSpec, MarketModel, ModelSpec, TvpSettings, VariableSpec
from series.spec import DEFAULT_STALE_DAYS, SeriesSpec, SourceRef

if TYPE_CHECKING:
    from series.preferred import PreferredSpec


class Config(Block):
    paths: PathsBlock = PathsBlock()
    run: RunBlock = RunBlock()
    fetch: FetchBlock = FetchBlock()
    compute: ComputeBlock = ComputeBlock()
    series: list[SeriesBlock] = Field(min_length=1)
    preferred: list[PreferredBlock] = []
    models: list[ModelBlock] = []
    model_groups: list[ModelGroupBlock] = []
    rules: list[Rule] = []
    receivers: list[Receiver] = []  # a block of a registered notifier kind (monitor.notify.registry)
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
        from series.preferred import PreferredSpec  # pandas: loaded by the run, not by validating the file

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
        """Every model a rule or report may name: [[models]] and each market of [[model_groups]]."""
        return [m.name for m in self.models] + [f"{g.name}.{m.name}" for g in self.model_groups for m in g.markets]

    def _model(self, m: ModelSettings, name: str, variables: list[VariableBlock], label: str) -> ModelSpec:
        blocks = self.series_by_id()
        specs = tuple(
            VariableSpec(
                series_id=v.series,
                transform=v.transform,
                aggregation=v.agg,
                timing=TIMING.get(blocks[v.series].calendar or "", "none") if v.timing == "auto" else v.timing,
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
