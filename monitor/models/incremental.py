"""Which rolling windows a daily run must compute, given the model inputs stored with yesterday's result.

A rolling window's measures (and its bootstrap bands, `monitor.models.bands`) depend on its own rows only. Each
morning brings new rows and revises a few recent ones (the aligner's forward-filled tail is replaced by the values
published since), so a window has to be computed again only when it is new or contains a row whose value changed.
`plan_update` compares today's model frame with the stored one row by row and says which windows those are; the
others keep their stored measures and bands. It asks for a full recompute (and says why) when nothing can be
reused: other variables, another sample start, stored rows that do not line up, or a revision reaching into every
stored window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# A stored value counts as revised when it moved by more than this fraction of its column's size. Below that the
# window's measures move less than the engine's own rounding (~1e-14 of their size on well-conditioned data), and
# values read back from storage are bit-identical anyway (JSON keeps 17 significant digits).
REVISED = 1e-12


@dataclass(frozen=True)
class UpdatePlan:
    """The windows of today's frame (dated at their last row) and which of them to compute.

    ends: every window's last date; compute: True where the window is new or holds a revised row. `full` plans
    compute everything and `why` says why nothing could be reused; otherwise `why` says what changed.
    """

    ends: pd.Index
    compute: np.ndarray
    new: int
    revised: int
    first_revised: pd.Timestamp | None
    full: bool
    why: str
    stored: bool = True  # False: there was nothing stored to reuse (a first run)

    @property
    def recomputed(self) -> pd.Index:
        return self.ends[self.compute]

    @property
    def kept(self) -> pd.Index:
        return self.ends[~self.compute]

    def summary(self) -> dict[str, object]:
        """What run.json says about the rolling measures of this run."""
        return {
            "windows": len(self.ends),
            "recomputed": int(self.compute.sum()),
            "new": self.new,
            "revised": self.revised,
            "full": self.full,
            "why": self.why,
        }

    def note(self) -> str:
        n, total = int(self.compute.sum()), len(self.ends)
        if not self.stored:
            return f"rolling measures: all {total} windows computed ({self.why})"
        if self.full:
            return f"rolling measures recomputed in full ({total} windows): {self.why}"
        return f"rolling measures: {n} of {total} windows computed ({self.why}); the others kept from the last run"


def full_plan(frame: pd.DataFrame, window: int, why: str, *, stored: bool = True) -> UpdatePlan:
    """Every window of `frame` computed, for the reason `why` (stored=False: there was nothing to reuse)."""
    ends = frame.index[window - 1 :]
    return UpdatePlan(ends, np.ones(len(ends), dtype=bool), len(ends), 0, None, True, why, stored)


def revised(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Per row of two frames' values on the same dates: True where a value moved by more than REVISED of its
    column's size, or appeared or went missing (the one reading of "revised" of every model that reuses stored
    work)."""
    scale = np.maximum(np.nanmax(np.abs(old), axis=0, initial=0.0), np.finfo(float).tiny)
    moved = np.abs(new - old) > REVISED * scale
    return np.asarray((moved | (np.isnan(old) != np.isnan(new))).any(axis=1))


def plan_update(stored: pd.DataFrame | None, frame: pd.DataFrame, window: int, stored_ends: pd.Index) -> UpdatePlan:
    """Plan today's rolling windows of `frame` against the `stored` model frame whose windows ended at
    `stored_ends` (the stored rolling result's dates)."""
    ends = frame.index[window - 1 :]

    def full(why: str) -> UpdatePlan:
        return full_plan(frame, window, why)

    if stored is None:
        return full("the stored result has no model inputs to compare with (made by an earlier version)")
    if list(stored.columns) != list(frame.columns):
        return full("the model's variables changed since the last run")
    if len(stored) < window or not stored_ends.equals(stored.index[window - 1 :]):
        return full("the stored rolling result does not line up with its stored inputs")
    common = min(len(stored), len(frame))
    same_dates = np.asarray(stored.index[:common] == frame.index[:common])
    k = common if same_dates.all() else int(np.argmin(same_dates))  # rows before k have the same dates
    if k < len(stored):
        what = "ends" if k == len(frame) else "has other dates"
        first = stored.index[k]
        return full(f"today's data {what} from {first:%Y-%m-%d} on, inside the stored windows")
    revised_rows = revised(stored.to_numpy(dtype=float), frame.to_numpy(dtype=float)[: len(stored)])
    dirty = np.zeros(len(frame), dtype=bool)
    dirty[: len(stored)] = revised_rows
    dirty[len(stored) :] = True  # new rows
    # A window ending at row e holds rows e - W + 1 .. e: it is dirty when any of them is.
    counts = np.concatenate([[0], np.cumsum(dirty)])
    last = np.arange(window - 1, len(frame))
    compute = counts[last + 1] - counts[last + 1 - window] > 0
    n_revised = int(revised_rows.sum())
    first = frame.index[int(np.argmax(revised_rows))] if n_revised else None
    new_windows = len(frame) - len(stored)
    stored_windows = len(stored_ends)
    touched = int(compute[:stored_windows].sum())
    if stored_windows and touched == stored_windows:
        return full(f"{n_revised} stored row(s) were revised from {first:%Y-%m-%d}, inside every stored window")
    parts = [f"{new_windows} new"] if new_windows else []
    if n_revised:
        parts.append(
            f"{touched} holding the {n_revised} row(s) revised since the last run, the first dated {first:%Y-%m-%d}"
        )
    why = "; ".join(parts) if parts else "nothing new or revised"
    return UpdatePlan(ends, compute, new_windows, touched, first, False, why)
