"""Files that survive corruption: atomic writes, content digests, and caches that say so.

Every model, checkpoint and result the package writes goes through this module:

- :func:`atomic_write` writes to a temporary file in the target's folder, flushes it to
  disk (``fsync``), renames it over the target (``os.replace``: a reader sees the old file
  or the new one, never half of one) and flushes the folder. An interrupted write removes
  its temporary file; one killed outright leaves it behind, and the next write to the same
  folder removes temporary files whose writing process is gone.
- :func:`seal` and :func:`unseal` protect a whole zip file (NumPy's ``.npz``, PyTorch's
  ``.pt``): the SHA-256 of every byte before it goes into the zip's own comment field, so
  the file stays a normal archive that ``np.load`` and ``torch.load`` read, and a flipped
  byte anywhere, a truncated tail or a file written by something else is caught before
  anything is parsed (a zip's CRCs cover the compressed data only, not its headers).
- :func:`digest` is a SHA-256 over a canonical encoding of plain data, NumPy arrays and
  torch tensors (names, dtypes, shapes and bytes), for JSON records, which store the
  digest of their content beside it.
- :class:`CorruptFile` (a ValueError) names the file and what is wrong with it.
  :func:`cache_problem` reports a bad cache file in one line, and the caller trains again;
  :func:`write_cache` returns False with a one-line warning when the cache cannot be
  written (a read-only folder), so a finished run is never lost for want of a cache.

Every public function checks its arguments first (``lstm_tutorial.checks``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from lstm_tutorial import checks


class CorruptFile(ValueError):
    """A checkpoint or cache file that cannot be trusted; the message names the file."""


class CacheWarning(UserWarning):
    """A cache file was unusable (and is being rebuilt), or could not be written."""


# ------------------------------------------------------------------------------ digests


def _feed(h: Any, value: Any) -> None:
    """Feed a canonical, type-tagged encoding of ``value`` to the hash ``h``."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().cpu().contiguous().numpy()
    if isinstance(value, np.ndarray):
        h.update(b"A" + f"{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, Mapping):
        h.update(b"M%d:" % len(value))
        for key in sorted(value, key=lambda k: (type(k).__name__, str(k))):
            _feed(h, key)  # typed: the key 1 and the key "1" differ
            _feed(h, value[key])
    elif isinstance(value, list | tuple):
        h.update(b"L%d:" % len(value))
        for item in value:
            _feed(h, item)
    elif isinstance(value, np.generic):
        _feed(h, value.item())
    elif value is None or isinstance(value, bool | int | float | str):
        h.update(b"J" + json.dumps(value, allow_nan=True).encode() + b";")
    else:
        raise checks.ArgumentTypeError(
            f"value must be plain data (dicts, lists, numbers, strings, None), arrays or "
            f"tensors; it holds {checks.describe(value)}"
        )


def digest(value: Any) -> str:
    """SHA-256 (hex) of plain data, arrays and tensors: equal content gives equal digests,
    whatever the container; a changed byte, key, dtype or shape changes it."""
    h = hashlib.sha256()
    _feed(h, value)
    return h.hexdigest()


# ------------------------------------------------------------------------------- writes

_TMP = re.compile(r"^\.(?P<name>.+)\.pid(?P<pid>\d+)\.[^.]+\.tmp$")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but belongs to someone else
        return True
    return True


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporary files of :func:`atomic_write` in ``folder`` whose writing
    process no longer runs (a write killed outright). Returns what was removed."""
    folder = checks.path("folder", folder)
    removed = []
    with contextlib.suppress(OSError):
        for entry in Path(folder).iterdir():
            match = _TMP.match(entry.name)
            if match and not _process_alive(int(match["pid"])):
                with contextlib.suppress(OSError):
                    entry.unlink()
                    removed.append(entry)
    return removed


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Write ``path`` through ``write(file)`` so that it appears whole or not at all.

    The temporary file lives next to ``path`` (same file system, so the rename is atomic),
    is flushed to disk before the rename, and is removed if ``write`` raises or the process
    is interrupted. Raises OSError (e.g. PermissionError) when the folder is not writable.
    """
    path = checks.path("path", path)
    checks.function("write", write)
    if path.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.pid{os.getpid()}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(
            tmp, 0o644
        )  # mkstemp makes the file private; a cache need not be
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    return path


def write_cache(path: str | Path, write: Callable[[IO[bytes]], None]) -> bool:
    """:func:`atomic_write` for a cache: True if written; False, with a one-line
    :class:`CacheWarning`, if the folder cannot be written (the caller keeps its result)."""
    try:
        atomic_write(path, write)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        warnings.warn(
            f"could not cache {path}: {reason}; the result is returned but not saved",
            CacheWarning,
            stacklevel=3,
        )
        return False
    return True


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as JSON (sorted keys), atomically."""
    try:
        text = json.dumps(data, sort_keys=True, allow_nan=True, indent=1)
    except TypeError as err:
        raise checks.ArgumentTypeError(
            f"data must be JSON data: {err}"
        ) from None
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


# ---------------------------------------------------------------------------- zip seals

_EOCD = b"PK\x05\x06"  # the end-of-central-directory record: the last 22 bytes of a zip
_SEAL = b"lstm_tutorial sha256:"
_SEAL_LENGTH = len(_SEAL) + 64


def seal(data: bytes) -> bytes:
    """A zip archive (without a comment) with the SHA-256 of its bytes as its comment."""
    checks.instance("data", data, bytes, "bytes")
    if len(data) < 22 or data[-22:-18] != _EOCD or data[-2:] != b"\0\0":
        raise ValueError(
            "data must be the bytes of a zip archive without a comment"
        )
    body = data[:-2]  # all but the comment length, which the seal sets
    checksum = hashlib.sha256(body).hexdigest().encode()
    return body + _SEAL_LENGTH.to_bytes(2, "little") + _SEAL + checksum


def unseal(path: str | Path) -> bytes:
    """The bytes of the sealed zip at ``path``, after checking its seal; :class:`CorruptFile`
    naming the file if it is empty, has no seal (damaged, older, or written by something
    else) or its bytes do not match the seal."""
    data = read_bytes(path)
    trailer = data[-_SEAL_LENGTH:]
    length = data[-_SEAL_LENGTH - 2 : -_SEAL_LENGTH]
    if not trailer.startswith(_SEAL) or length != _SEAL_LENGTH.to_bytes(
        2, "little"
    ):
        raise CorruptFile(
            f"{path} has no integrity seal: it is truncated or damaged, of an older format, "
            "or was not written by lstm_tutorial"
        )
    body = data[: -_SEAL_LENGTH - 2]
    if hashlib.sha256(body).hexdigest().encode() != trailer[len(_SEAL) :]:
        raise CorruptFile(
            f"{path} is corrupt: its bytes do not match its seal (a damaged byte)"
        )
    return data


def sealed_writer(
    serialise: Callable[[IO[bytes]], None],
) -> Callable[[IO[bytes]], None]:
    """A ``write`` for :func:`atomic_write` that serialises a zip into memory, seals it and
    writes it."""
    checks.function("serialise", serialise)
    buffer = io.BytesIO()
    serialise(buffer)
    data = seal(buffer.getvalue())
    return lambda handle: handle.write(data)


# -------------------------------------------------------------------------------- reads


def read_bytes(path: str | Path) -> bytes:
    """The bytes of ``path``; :class:`CorruptFile` if it is empty, FileNotFoundError if
    missing."""
    path = checks.path("path", path)
    if path.is_dir():
        raise CorruptFile(f"{path} is a folder, not a file")
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    data = path.read_bytes()
    if not data:
        raise CorruptFile(f"{path} is empty (an interrupted write?)")
    return data


def check_digest(path: str | Path, stored: Any, content: Any) -> None:
    """Raise :class:`CorruptFile` unless ``stored`` is the digest of ``content``."""
    if not isinstance(stored, str) or stored != digest(content):
        raise CorruptFile(
            f"{path} is corrupt: its content does not match the digest stored with it "
            "(a changed or damaged byte)"
        )


def cache_problem(
    path: str | Path, err: BaseException, log: Callable[[str], None] | None
) -> None:
    """Report in one line that the cache file ``path`` is unusable and will be rebuilt:
    through ``log`` if given, else as a :class:`CacheWarning` (never silently)."""
    checks.instance("err", err, BaseException, "an exception")
    checks.optional(checks.function, "log", log)
    reason = str(err).replace(str(path), "").strip(" :") or type(err).__name__
    line = f"cache file {path} is unusable ({reason}); training again"
    if log is not None:
        log(line)
    else:
        warnings.warn(line, CacheWarning, stacklevel=3)
