"""Commits into a results folder: all of a run's files appear, or none of them do.

A writer holds the folder's lock (`folder_lock`) for as long as it writes there. A run's
new files are written in a stage (``OUT/.staging/<id>/new/``, outside every table's
folder), then `commit` moves them into place:

1. it writes the stage's journal: which files go where, and which old files are there;
2. it moves the old run's head (its manifest, or the error.txt of a failed run) aside
   into the stage, so the old run stops being visible before anything else changes;
3. it moves the old run's table files aside, then the new table files into place;
4. it moves the new head into place: this rename is the commit;
5. it deletes the journal, then the stage (with the old files in it).

Every step is a rename within one filesystem, so a kill at any moment leaves a state
that `recover` (run whenever the lock is taken or given back) understands: a journal
whose head is in place is finished (step 5); any other journal is rolled back, the old
files moved back and the new ones removed. A stage without a journal is an unfinished
write and is deleted. Readers that take `commit_guard` (shared) never see a commit half
done; a plain directory read can, for the milliseconds of steps 3–4.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "COMMIT_LOCK",
    "FolderLocked",
    "JournalError",
    "LOCK",
    "STAGING",
    "commit",
    "commit_guard",
    "folder_lock",
    "new_stage",
    "recover",
    "recover_if_idle",
]

STAGING = ".staging"
LOCK = ".flowsim.lock"  # held by a writer for the whole command
COMMIT_LOCK = ".flowsim.commit"  # held by a writer for one commit, shared by readers
JOURNAL = "journal.json"
NEW = "new"
OLD = "old"

log = logging.getLogger(__name__)


class FolderLocked(Exception):
    """Another process is writing the folder."""

    def __init__(self, root: Path, pid: int | None):
        super().__init__(f"{root} is locked by process {pid}")
        self.root = root
        self.pid = pid


class JournalError(Exception):
    """A journal that cannot be read: recovery needs a person; str() is one line."""


# --------------------------------------------------------------------------------------
# Durable renames


def fsync_dir(folder: Path) -> None:
    """Make the renames in `folder` durable (a no-op where directories cannot be opened)."""
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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_durably(path: Path, data: bytes) -> None:
    """Write `path` whole (through a temp file beside it, fsynced, then renamed)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _prune_empty(folder: Path, root: Path) -> None:
    """Remove `folder` and its parents up to (not including) `root` while they are empty."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty, or gone
            return
        folder = folder.parent


# --------------------------------------------------------------------------------------
# Locks


@dataclass
class _Held:
    guard: threading.RLock
    depth: int = 0
    fd: int | None = None


_HELD: dict[Path, _Held] = {}
_HELD_GUARD = threading.Lock()


def _flock(fd: int, shared: bool, block: bool) -> bool:
    """flock `fd`; False if another process holds it and `block` is false."""
    try:
        import fcntl
    except ImportError:  # no flock on this platform: writers are not kept apart
        return True
    flags = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    try:
        fcntl.flock(fd, flags if block else flags | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode("ascii").strip() or "x")
    except (OSError, ValueError, UnicodeDecodeError):
        return None


@contextlib.contextmanager
def folder_lock(root: str | os.PathLike[str], *, block: bool = False) -> Iterator[None]:
    """Hold the folder's writer lock; recover interrupted commits on taking and giving it back.

    Re-entrant within a process (threads of one process wait for each other); another
    process holding it raises `FolderLocked` at once (or waits, with `block`). OSError
    if the lock file cannot be created (a read-only folder).
    """
    root = Path(root).resolve()
    with _HELD_GUARD:
        held = _HELD.setdefault(root, _Held(threading.RLock()))
    with held.guard:
        if held.depth == 0:
            fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            try:
                if not _flock(fd, shared=False, block=block):
                    raise FolderLocked(root, _read_pid(fd))
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
                recover(root)
            except BaseException:
                os.close(fd)  # closing the file releases the flock
                raise
            held.fd = fd
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0:
                try:
                    recover(root)  # leftovers of this process's own interrupted writes
                except (OSError, JournalError):
                    pass  # left for the next writer, which recovers before anything else
                finally:
                    assert held.fd is not None
                    os.close(held.fd)
                    held.fd = None


def holds_lock(root: str | os.PathLike[str]) -> bool:
    """True if this process holds the folder's writer lock."""
    held = _HELD.get(Path(root).resolve())
    return held is not None and held.depth > 0


@contextlib.contextmanager
def commit_guard(root: Path, *, shared: bool) -> Iterator[None]:
    """Exclusive for one commit (writers), shared while reading files (readers).

    A reader of a folder it cannot write, where no writer ever made the lock file,
    reads unguarded: no commit can be under way there.
    """
    path = root / COMMIT_LOCK
    try:
        fd = os.open(path, (os.O_RDONLY if shared else os.O_RDWR | os.O_CREAT) | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        if shared and exc.errno in (errno.ENOENT, errno.EACCES, errno.EROFS):
            yield
            return
        raise
    try:
        _flock(fd, shared=shared, block=True)
        yield
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------
# Stages and commits


def new_stage(root: Path, label: str) -> Path:
    """A fresh stage folder under ``root/.staging``; write new files into its ``new/``."""
    stage = root / STAGING / f"{label}.{os.getpid()}.{secrets.token_hex(4)}"
    (stage / NEW).mkdir(parents=True)
    return stage


@dataclass(frozen=True)
class _Plan:
    head: dict[str, str] | None  # {"name": in new/, "to": relative path, "sha256": …}
    parts: list[dict[str, str]]  # [{"name": in new/, "to": relative path}]
    old_heads: list[str]  # relative paths that held the old run's head(s)
    old_parts: list[str]  # relative paths that held the old run's table files

    @classmethod
    def load(cls, path: Path) -> _Plan:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(data["head"], list(data["parts"]), list(data["old_heads"]), list(data["old_parts"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise JournalError(
                f"{path}: an unreadable commit journal ({exc}); check the run it names, "
                f"then delete {path.parent}"
            ) from None


def commit(
    root: Path,
    stage: Path,
    *,
    head: tuple[str, str] | None,
    parts: dict[str, str],
    replaces: list[str],
    heads_of_old: list[str],
) -> None:
    """Move the stage's new files into place, replacing an old run, as one commit.

    `head` is (name in new/, relative destination), placed last; None removes the old run
    only. `parts` maps names in new/ to relative destinations. `heads_of_old` and
    `replaces` are the relative paths of the old run's head(s) and other files: those that
    exist are moved aside first and deleted only once the commit is done. The caller
    holds `folder_lock`.
    """
    plan = _Plan(
        head=None
        if head is None
        else {"name": head[0], "to": head[1], "sha256": sha256_of(stage / NEW / head[0])},
        parts=[{"name": name, "to": to} for name, to in parts.items()],
        old_heads=[rel for rel in heads_of_old if (root / rel).is_file()],
        old_parts=[rel for rel in replaces if (root / rel).is_file()],
    )
    with commit_guard(root, shared=False):
        write_durably(stage / JOURNAL, json.dumps(plan.__dict__, indent=1).encode("utf-8"))
        try:
            _apply(root, stage, plan)
        except BaseException:
            # An error here (not a kill: that is recovered later) is undone now, so the
            # caller's error leaves the folder as it was.
            with contextlib.suppress(Exception):
                _roll_back(root, stage, plan)
            raise
        _finish(root, stage, plan)


def _apply(root: Path, stage: Path, plan: _Plan) -> None:
    touched: set[Path] = set()
    (stage / OLD).mkdir(exist_ok=True)
    for i, rel in enumerate(plan.old_heads):
        os.replace(root / rel, stage / OLD / f"h{i}")
        touched.add((root / rel).parent)
    for folder in touched:  # the old run is invisible before any of its files move
        fsync_dir(folder)
    for i, rel in enumerate(plan.old_parts):
        os.replace(root / rel, stage / OLD / f"p{i}")
        touched.add((root / rel).parent)
    for part in plan.parts:
        target = root / part["to"]
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / NEW / part["name"], target)
        touched.add(target.parent)
    for folder in touched:  # every table file durable before the head says "complete"
        fsync_dir(folder)
    fsync_dir(stage / OLD)
    if plan.head is not None:
        target = root / plan.head["to"]
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / NEW / plan.head["name"], target)
        fsync_dir(target.parent)


def _finish(root: Path, stage: Path, plan: _Plan) -> None:
    """The commit is done: drop the journal (the point of no return for a removal), tidy up."""
    (stage / JOURNAL).unlink()
    fsync_dir(stage)
    shutil.rmtree(stage, ignore_errors=True)
    for rel in plan.old_heads + plan.old_parts:
        if not (root / rel).exists():
            _prune_empty((root / rel).parent, root)


def _committed(root: Path, plan: _Plan) -> bool:
    if plan.head is None:
        return False  # a removal is done only once its journal is gone
    target = root / plan.head["to"]
    return target.is_file() and sha256_of(target) == plan.head["sha256"]


def _roll_back(root: Path, stage: Path, plan: _Plan) -> None:
    """Undo an unfinished commit (each step safe to repeat if this is interrupted too)."""
    for i, rel in enumerate(plan.old_parts):
        aside = stage / OLD / f"p{i}"
        if aside.is_file():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(aside, root / rel)  # over the new file, if it was placed
    for part in plan.parts:
        if part["to"] not in plan.old_parts:  # no old file there: whatever is there is new
            with contextlib.suppress(FileNotFoundError):
                (root / part["to"]).unlink()
            _prune_empty((root / part["to"]).parent, root)
    for folder in {(root / rel).parent for rel in plan.old_parts}:
        fsync_dir(folder)
    for i, rel in enumerate(plan.old_heads):  # the old run is visible again only now
        aside = stage / OLD / f"h{i}"
        if aside.is_file():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(aside, root / rel)
            fsync_dir((root / rel).parent)
    (stage / JOURNAL).unlink()
    shutil.rmtree(stage, ignore_errors=True)


def recover(root: Path) -> list[str]:
    """Finish or roll back every interrupted commit and delete unfinished writes.

    The caller holds `folder_lock`. Returns one line per commit it finished or undid.
    """
    staging = root / STAGING
    if not staging.is_dir():
        return []
    done = []
    with commit_guard(root, shared=False):
        for stage in sorted(staging.iterdir()):
            if not stage.is_dir():
                stage.unlink(missing_ok=True)  # a journal's temp file
                continue
            journal = stage / JOURNAL
            if journal.is_file():
                plan = _Plan.load(journal)
                what = plan.head["to"] if plan.head else (plan.old_heads or ["(nothing)"])[0]
                if _committed(root, plan):
                    _finish(root, stage, plan)
                    done.append(f"{root}: finished the interrupted commit of {what}")
                else:
                    _roll_back(root, stage, plan)
                    done.append(f"{root}: rolled back the interrupted commit of {what}")
                log.warning("%s", done[-1])
            else:
                shutil.rmtree(stage, ignore_errors=True)
        with contextlib.suppress(OSError):
            staging.rmdir()
    return done


def recover_if_idle(root: Path) -> None:
    """Recover the folder if it needs it and no writer is at work (a reader's courtesy)."""
    staging = root / STAGING
    if not staging.is_dir() or holds_lock(root):
        return
    with contextlib.suppress(OSError, FolderLocked, JournalError):
        with folder_lock(root):
            pass


def plan_of(stage: Path) -> dict[str, Any] | None:
    """The journal of a stage, as written (for tests and diagnosis)."""
    path = stage / JOURNAL
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
