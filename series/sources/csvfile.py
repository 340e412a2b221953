"""`csv`: an in-house CSV file (path = the series key, a date column and a value column)."""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator

from series.errors import SourceSchemaError, SourceUnavailable
from series.sources.base import CallContext, Request, Response, Source, Window
from series.sources.registration import register
from series.spec import SeriesSpec, SourceRef

if TYPE_CHECKING:
    import pandas as pd
else:
    from series.lazy import pandas as pd


class CsvParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date_column: str = "date"
    value_column: str = "value"
    date_format: str | None = None  # strftime format; None lets pandas infer ISO dates
    sep: str = ","
    encoding: str = "utf-8-sig"  # utf-8 with or without a BOM; cp949 for KOSIS downloads
    skiprows: int = 0
    thousands: str | None = None
    na_values: list[str] = [".", "", "NA", "N/A", "-", "null", "nan"]

    # Checked here so that check-config names them: at run time they would fail on every fetch of the series.
    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str) -> str:
        try:
            text = codecs.lookup(v)._is_text_encoding  # False for bytes-to-bytes codecs such as hex or zlib
        except LookupError:
            text = False
        if not text:
            raise ValueError(f"{v!r} is not a text encoding Python knows (e.g. utf-8-sig, cp949)")
        return v

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                pd.to_datetime(pd.Series(["2000-01-31"]), format=v, errors="coerce")
            except (ValueError, re.error) as e:
                raise ValueError(f"{v!r} is not a strftime format such as %d/%m/%Y: {e}") from None
        return v

    @field_validator("sep")
    @classmethod
    def _sep(cls, v: str) -> str:
        if not v:
            raise ValueError("must not be empty (e.g. ',' or ';')")
        return v


@register
class CsvSource(Source):
    name = "csv"
    description = "in-house CSV file: path, date column, value column"
    params_model = CsvParams
    redirectable = False
    key_is_path = True  # the config loader resolves the key relative to config.toml's folder

    def build_query(self, ref: SourceRef, spec: SeriesSpec, window: Window, env: Mapping[str, str]) -> Request:
        path = Path(ref.key)

        def read(_: CallContext) -> bytes:
            try:
                return path.read_bytes()
            except OSError as e:
                raise SourceUnavailable(
                    f"cannot read {path}: {e.strerror}", source=self.name, series=spec.id, retryable=False
                ) from None

        return Request(
            url=path.as_uri() if path.is_absolute() else str(path),
            replay_name=f"csv/{spec.id}.csv",
            call=read,
            host="file",
        )

    def extract(self, response: Response, ref: SourceRef, spec: SeriesSpec) -> Any:
        p = CsvParams(**ref.params)
        try:
            frame = pd.read_csv(
                io.BytesIO(response.body),
                sep=p.sep,
                encoding=p.encoding,
                skiprows=p.skiprows,
                thousands=p.thousands,
                dtype=str,
                keep_default_na=False,
            )
        except (ValueError, LookupError, UnicodeDecodeError, pd.errors.ParserError) as e:
            raise SourceSchemaError(
                f"not a readable CSV file: {e}", source=self.name, series=spec.id, url=str(ref.key)
            ) from None
        missing = [c for c in (p.date_column, p.value_column) if c not in frame.columns]
        if missing:
            raise SourceSchemaError(
                f"column {', '.join(map(repr, missing))} not in the file; its columns are "
                f"{', '.join(map(str, frame.columns))} (set params.date_column / params.value_column)",
                source=self.name,
                series=spec.id,
                url=str(ref.key),
            )
        return frame[[p.date_column, p.value_column]]

    def parse(self, raws: list[Any], ref: SourceRef, spec: SeriesSpec) -> pd.DataFrame:
        p = CsvParams(**ref.params)
        frame = pd.concat(raws, ignore_index=True)
        text_dates = frame[p.date_column].str.strip()
        dates = pd.to_datetime(text_dates, format=p.date_format, errors="coerce")
        bad_dates = text_dates[dates.isna() & (text_dates != "")]
        if len(bad_dates):
            raise SourceSchemaError(
                f"{len(bad_dates)} unreadable dates in column {p.date_column!r}, first {bad_dates.iloc[0]!r} "
                "(set params.date_format)",
                source=self.name,
                series=spec.id,
                url=str(ref.key),
            )
        text = frame[p.value_column].str.strip()
        missing = text.isin(p.na_values)
        if p.thousands:
            text = text.str.replace(p.thousands, "", regex=False)
        values = pd.to_numeric(text.where(~missing), errors="coerce")
        bad = text[values.isna() & ~missing]
        if len(bad):
            raise SourceSchemaError(
                f"{len(bad)} non-numeric values in column {p.value_column!r}, first {bad.iloc[0]!r} "
                "(add it to params.na_values if it means missing)",
                source=self.name,
                series=spec.id,
                url=str(ref.key),
            )
        out = pd.DataFrame({"date": dates.dt.normalize(), "value": values.astype("float64")})
        return out[out["date"].notna()].reset_index(drop=True)
