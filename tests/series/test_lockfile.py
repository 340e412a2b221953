"""The store's lock file: the lock for the platform, and what it does here (two holders, the holder's note).
Contention between two processes is tested through the store (tests/series/test_store.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from series import lockfile


@pytest.mark.parametrize(
    ("platform", "expected"),
    [("win32", lockfile.WindowsLock), ("linux", lockfile.PosixLock), ("darwin", lockfile.PosixLock)],
)
def test_the_lock_is_chosen_by_platform(platform: str, expected: type) -> None:
    assert lockfile.implementation(platform) is expected


def test_this_machine_uses_its_platforms_lock() -> None:
    assert lockfile.LOCK is lockfile.implementation(sys.platform)


def test_a_second_holder_is_refused_until_the_first_releases(tmp_path: Path) -> None:
    # Two opens of the same file are two holders (flock and msvcrt.locking both lock per open file).
    first, second = lockfile.open_lock_file(tmp_path / "x.lock"), lockfile.open_lock_file(tmp_path / "x.lock")
    try:
        assert lockfile.LOCK.acquire(first)
        assert not lockfile.LOCK.acquire(second)
        lockfile.LOCK.release(first)
        assert lockfile.LOCK.acquire(second)
    finally:
        os.close(first)
        os.close(second)


def test_the_holders_note_is_readable_by_the_one_who_waits(tmp_path: Path) -> None:
    holder, waiter = lockfile.open_lock_file(tmp_path / "x.lock"), lockfile.open_lock_file(tmp_path / "x.lock")
    try:
        assert lockfile.LOCK.acquire(holder)
        lockfile.write_note(holder, b'{"writer": "a much longer first note"}')
        lockfile.write_note(holder, b'{"writer": "run"}')  # replaced whole, no tail of the longer one left
        assert not lockfile.LOCK.acquire(waiter)
        assert lockfile.read_note(waiter) == b'{"writer": "run"}'
    finally:
        os.close(holder)
        os.close(waiter)
