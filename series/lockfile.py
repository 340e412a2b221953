"""An exclusive lock on an open file that the operating system drops when its holder dies, on every platform:
`flock` on POSIX, `msvcrt.locking` on Windows. `series.store` uses it for the single-writer lock.

Both lock a region the holder's note (who holds the lock, written at offset 0) does not overlap: Windows locks
are mandatory, so a lock on the note itself would keep the next writer from reading whom it waits for. (flock
locks the whole file but is advisory: reads are never blocked.)
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from typing import Any, Protocol

# Where the Windows lock sits: one byte far beyond any holder's note. Windows allows locking past the end of a
# file, and the file does not grow.
_WINDOWS_OFFSET = 1 << 30


class FileLock(Protocol):
    @staticmethod
    def acquire(fd: int) -> bool:
        """Take the lock without waiting: True when taken, False when another holder has it."""
        ...

    @staticmethod
    def release(fd: int) -> None: ...


class PosixLock:
    @staticmethod
    def acquire(fd: int) -> bool:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    @staticmethod
    def release(fd: int) -> None:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


class WindowsLock:
    @staticmethod
    def acquire(fd: int) -> bool:
        msvcrt = _msvcrt()
        os.lseek(fd, _WINDOWS_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as e:
            if e.errno in (errno.EACCES, errno.EDEADLK):  # the region is locked by another handle
                return False
            raise
        return True

    @staticmethod
    def release(fd: int) -> None:
        msvcrt = _msvcrt()
        os.lseek(fd, _WINDOWS_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def _msvcrt() -> Any:
    # Imported by name: the module exists only on Windows, and type checkers on other systems know none of it.
    return importlib.import_module("msvcrt")


def implementation(platform: str = sys.platform) -> type[FileLock]:
    """The lock for `platform` (a `sys.platform` value)."""
    return WindowsLock if platform == "win32" else PosixLock


LOCK = implementation()


def open_lock_file(path: os.PathLike[str] | str) -> int:
    """Open (creating) a lock file for reading and writing, in binary mode on Windows too."""
    return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)


def write_note(fd: int, note: bytes) -> None:
    """Replace the holder's note at the start of the file (portable: no pwrite on Windows)."""
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, note)


def read_note(fd: int, limit: int = 4096) -> bytes:
    """The holder's note (at most `limit` bytes)."""
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, limit)
