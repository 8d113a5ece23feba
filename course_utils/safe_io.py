"""The one door through which the course reads and writes files.

Every file the course opens (an image, a checkpoint, an MNIST file) and every file it
writes (a checkpoint, a saved picture) goes through this module, so that the checks live
in one place instead of being repeated, or forgotten, by each caller:

* **Reading** (:func:`open_regular`, :func:`read_regular`): only *regular files* are
  read. A folder, a FIFO (which would block forever), a device such as ``/dev/zero``
  (which never ends) or a socket is refused before a byte is read, and a size cap is
  checked before reading. The file is opened without blocking and checked with
  ``fstat`` on the open descriptor, so what is checked is what is read.
* **Writing** (:func:`atomic_write`): the bytes go to a hidden temporary file in the
  target's folder (``.<name>.<pid>.<random>.tmp``), which is flushed to disk and only
  then moved over the target with ``os.replace`` (atomic on POSIX and Windows). A
  killed or failed write therefore never leaves a half-written target, and the
  temporary files that a *killed* process could not delete are removed by the next
  write of the same target (:func:`remove_stale_temps`).
* **Errors**: every ``OSError`` (missing, permission denied, file name too long, disk
  full, read-only file system, ...) becomes the caller's own error class (``error=``)
  with a message that says what is wrong and what to do.
"""

from __future__ import annotations

import errno
import glob
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

#: Temporary files of a dead process are removed by the next write of the same target.
#: Where process ids cannot be checked (Windows), a temporary file this old is stale.
STALE_TEMP_SECONDS = 3600

_NAME_CHARS = 100  # the target name's share of a temporary file's name (names are at most 255 bytes)


def _kind(mode: int) -> str:
    """A file type in words, for files that are not regular files."""
    for test, words in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return "not a regular file"


def explain_os_error(err: OSError, path: Path, action: str = "read") -> str:
    """``err`` in words, with what to do about it (``action``: "read" or "write")."""
    code = err.errno
    if code == errno.ENOENT:
        return f"{path} does not exist. Check the path (the current folder is {Path.cwd()})."
    if code in (errno.EACCES, errno.EPERM):
        return (f"Permission denied: you may not {action} {path}. Check its permissions and those of its "
                f"folder (ls -l), or use a file in a folder of your own.")
    if code == errno.ENAMETOOLONG:
        return f"The file name is too long for the file system: {str(path)[:80]}... Use a shorter name."
    if code == errno.ENOTDIR:
        return f"{path}: a part of this path is a file, not a folder. Check the path."
    if code == errno.EISDIR:
        return f"{path} is a folder, not a file. Give the path of a file inside it."
    if code == errno.ELOOP:
        return f"{path} is a symbolic link that points to itself (a loop). Fix or delete the link."
    if code == errno.ENOSPC:
        return f"The disk is full: cannot {action} {path}. Free some space and try again."
    if code == errno.EROFS:
        return f"{path} is on a read-only file system. Choose a folder you can write to."
    return f"Cannot {action} {path}: {err.strerror or err}."


def open_regular(path: str | os.PathLike, *, error: type[Exception], what: str = "file",
                 max_bytes: int | None = None, missing: str | None = None) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file of at most ``max_bytes`` bytes.

    Args:
        path: the file.
        error: the exception class to raise (the caller's: ``ImageLoadError``, ...).
        what: what the file should be, for messages ("image", "checkpoint", ...).
        max_bytes: refuse larger files before reading them.
        missing: the message when the file does not exist (default: "... does not exist").

    Returns:
        An open binary file; the caller closes it (``with open_regular(...) as f``).
    """
    path = Path(path).expanduser()
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO must not wait for a writer
    except OSError as err:
        if err.errno == errno.ENOENT and missing is not None:
            raise error(missing) from err
        raise error(explain_os_error(err, path)) from err
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = _kind(st.st_mode)
            hint = ("Give the path of a file inside it." if kind == "a folder"
                    else "Only regular files are read.")
            raise error(f"{path} is {kind}, not {_an(what)} file. {hint}")
        if max_bytes is not None and st.st_size > max_bytes:
            raise error(f"{path} is {st.st_size / 2**20:,.0f} MB, more than the {max_bytes / 2**20:,.0f} MB "
                        f"that {_an(what)} file may have. Is it the right file?")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike, *, error: type[Exception], what: str = "file",
                 max_bytes: int, missing: str | None = None) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` bytes (see :func:`open_regular`)."""
    path = Path(path).expanduser()
    with open_regular(path, error=error, what=what, max_bytes=max_bytes, missing=missing) as f:
        try:
            data = f.read(max_bytes + 1)  # a file that grows while it is read stops at the cap
        except OSError as err:
            raise error(explain_os_error(err, path)) from err
    if len(data) > max_bytes:
        raise error(f"{path} grew beyond {max_bytes / 2**20:,.0f} MB while it was read. "
                    "Is it still being written?")
    return data


def _temp_prefix(path: Path) -> str:
    return f".{path.name[:_NAME_CHARS]}."


def _make_temp(path: Path) -> tuple[int, str]:
    """A new hidden temporary file next to ``path``, named after it and this process."""
    return tempfile.mkstemp(dir=path.parent, prefix=f"{_temp_prefix(path)}{os.getpid()}.", suffix=".tmp")


def _an(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, but belongs to someone else
    return True


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that killed writes of ``path`` left behind; return them.

    A temporary file is stale when the process that wrote it no longer runs (its id is
    in the name), or, on Windows, where that cannot be asked safely, when it is older
    than :data:`STALE_TEMP_SECONDS`. Files named by older versions (no process id) are
    stale. Temporary files of a save that is still running are left alone.
    """
    path = Path(path)
    prefix = _temp_prefix(path)
    removed = []
    for tmp in path.parent.glob(glob.escape(prefix) + "*.tmp"):
        pid_text = tmp.name[len(prefix):].split(".", 1)[0]
        try:
            if os.name == "nt":  # os.kill would end the process there
                stale = time.time() - tmp.stat().st_mtime > STALE_TEMP_SECONDS
            else:
                stale = not pid_text.isdigit() or not _alive(int(pid_text))
            if stale:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            continue  # already gone, or not ours to delete: it does not block this write
    return removed


def refuse_folder(path: Path, *, error: type[Exception], what: str = "file") -> None:
    """Raise ``error`` if ``path`` cannot name a file to write: a folder, ``.``, or an unusable path."""
    if path.name in ("", ".", ".."):
        raise error(f"{path} is not a file name. Give the path of {_an(what)} file, e.g. 'out/result.png'.")
    try:
        is_folder = stat.S_ISDIR(os.stat(path).st_mode)
    except OSError as err:
        if err.errno not in (errno.ENOENT, errno.ENOTDIR):
            raise error(explain_os_error(err, path, "write")) from err
        is_folder = False  # a missing folder is created; a file in the way is reported then
    if is_folder:
        raise error(f"{path} is a folder. Give the path of {_an(what)} file inside it, "
                    f"e.g. {path / 'result'}.")


def _check_target(path: Path, error: type[Exception], what: str) -> None:
    refuse_folder(path, error=error, what=what)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise error(f"Cannot create the folder for {path}. " + explain_os_error(err, path.parent, "write"))\
            from err


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None], *,
                 error: type[Exception], what: str = "file") -> Path:
    """Write a file so that it is either completely written or not changed at all.

    ``write(f)`` writes the content to ``f``, a temporary file next to ``path``; the
    temporary file is then flushed to disk and moved over ``path``. On any failure or
    interruption the temporary file is deleted and ``path`` keeps its old content; the
    temporary file of a *killed* process is deleted by the next write of ``path``.

    Raises:
        error: when ``path`` is a folder, or its folder cannot be created or written.
    """
    path = Path(path).expanduser()
    _check_target(path, error, what)
    remove_stale_temps(path)
    try:
        fd, tmp = _make_temp(path)
    except OSError as err:
        raise error(explain_os_error(err, path, "write")) from err
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise error(explain_os_error(err, path, "write")) from err
        raise
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Flush the rename to disk too (POSIX; not every file system supports it)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_writable(path: str | os.PathLike, *, error: type[Exception], what: str = "file") -> Path:
    """Make sure that :func:`atomic_write` can write ``path``, before hours of work depend on it.

    Creates the folder if needed and creates and deletes a temporary file in it.
    """
    path = Path(path).expanduser()
    _check_target(path, error, what)
    try:
        fd, tmp = _make_temp(path)
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise error(explain_os_error(err, path, "write")) from err
    return path
