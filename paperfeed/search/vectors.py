"""The vector index: nearest papers by embedding, a base usearch (HNSW) file plus segments.

The embeddings themselves live in the database (``PaperEmbedding``) so they survive
anything that happens to this folder; the files here are a derived index that
``paperfeed reindex`` (or a follower's bootstrap) rebuilds without running the model.

Updating in place. Rewriting one big file per batch cost time in proportion to the
index (~0.8 GB read and written per batch at a million papers). Instead:

* ``base-<gen>.usearch``: the bulk of the vectors, memory-mapped read-only by readers.
* ``seg-<gen>.usearch`` + ``seg-<gen>.keys.npy``: one small segment per batch of
  changes. The keys file lists every key the batch touched (added, replaced or
  removed); a key touched by generation g hides its copies in every older part.
* ``manifest.json``: which base and segments make the index now. Writers (one at a
  time: an ``flock`` on ``vectors.lock``) write new files first, fsync them, then
  replace the manifest atomically (``os.replace``); readers re-read the manifest when
  its mtime changes and map only the files they do not have yet, so nobody ever sees
  a half-written index.
* Compaction (``compact``, run in the background by the follower): every 4
  consecutive segments of one level merge into one of the next level (each vector is
  rewritten log4(n) times), and when the segments hold more than a tenth of the base,
  they merge into a new base. Compaction works on a snapshot of the manifest and swaps
  its result in under the writer lock, so writers are never blocked for its duration.

A crash leaves either the old manifest or the new one; files that no manifest names are
removed by the next compaction or rebuild (only they may: a compaction's new files are
unlisted until it swaps them in, and both hold ``compact.lock``). A reader that finds a
listed file gone (a compaction removed it after the reader read the manifest) reads the
manifest again. Whatever was not yet in the manifest is re-applied from the
change log, because the follower moves its position only after ``update`` returns.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from usearch.index import Index

# Below this many vectors an exhaustive scan is as fast as the graph and exact.
EXACT_BELOW = 20_000
# HNSW beam width per query. At 500k papers recall@10 against exact search is 0.909 at
# 64, 0.943 at 128 and 0.977 at 256, for +3.5 ms on a query that spends ~25 ms embedding
# itself (docs/benchmarks.md, "Vector search recall").
EXPANSION_SEARCH = 256
DTYPE = "f16"  # half the memory of f32; loses nothing measurable in cosine ranking
FANOUT = 4  # segments of one level that merge into one of the next
BASE_FRACTION = 0.1  # segments holding more than this share of the base merge into it
BASE_MERGE_MIN = 50_000  # ... and at least this many vectors (a small base is cheap to search)
MANIFEST = "manifest.json"
LEGACY = "vectors.usearch"


class _Part:
    """One mapped file (base or segment) and the keys it touched."""

    def __init__(self, index: Index | None, gen: int, touched: np.ndarray):
        self.index, self.gen, self.touched = index, gen, touched

    def __len__(self) -> int:
        return 0 if self.index is None else len(self.index)


class VectorIndex:
    def __init__(self, directory: Path, ndim: int = 384):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.manifest_path = self.directory / MANIFEST
        self.ndim = ndim
        self._stamp: int | None = None
        self._parts: list[_Part] = []  # base first, then segments oldest first
        self._files: dict[str, _Part] = {}
        self._latest: dict[int, int] = {}  # key -> newest segment generation touching it
        self._live = 0
        self._lock = threading.Lock()

    def _new(self) -> Index:
        return Index(ndim=self.ndim, metric="cos", dtype=DTYPE, connectivity=16,
                     expansion_add=128, expansion_search=EXPANSION_SEARCH)

    # -- the manifest -------------------------------------------------------------------

    def _read_manifest(self) -> dict:
        try:
            return json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            pass
        if (self.directory / LEGACY).exists():  # one file, as written before segments
            return {"base": {"gen": 0, "file": LEGACY}, "segments": [], "next": 1,
                    "base_size": None}
        return {"base": None, "segments": [], "next": 1}

    def _write_manifest(self, manifest: dict) -> None:
        _write_atomically(self.manifest_path, json.dumps(manifest).encode())

    def _file_stamp(self) -> int | None:
        for path, sign in ((self.manifest_path, 1), (self.directory / LEGACY, -1)):
            try:
                return sign * os.stat(path).st_mtime_ns
            except FileNotFoundError:
                pass
        return None

    # -- reading ------------------------------------------------------------------------

    def _refresh(self) -> None:
        for _ in range(20):
            try:
                return self._load()
            except (FileNotFoundError, RuntimeError, ValueError):
                # A writer replaced the manifest and removed files the one we read names
                # (after a compaction): read the new manifest.
                time.sleep(0.01)
        self._load()

    def _load(self) -> None:
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            manifest = self._read_manifest()
            files: dict[str, _Part] = {}
            parts = []
            base = manifest["base"]
            if base:
                parts.append(self._part(base["file"], base["gen"], None))
            for seg in manifest["segments"]:
                parts.append(self._part(seg["file"], seg["gen"], seg["keys"]))
            for part_name, part in zip(_names(manifest), parts, strict=True):
                files[part_name] = part
            latest: dict[int, int] = {}
            for part in parts[1 if base else 0:]:
                latest.update(dict.fromkeys(part.touched.tolist(), part.gen))
            self._files, self._parts, self._latest = files, parts, latest
            self._live = self._count_live(bool(base))
            for part in parts:
                if part.index is not None:
                    self.ndim = part.index.ndim
            self._stamp = stamp

    def _part(self, file: str | None, gen: int, keys: str | None) -> _Part:
        name = file or keys
        if name in self._files:
            return self._files[name]
        index = Index.restore(str(self.directory / file), view=True) if file else None
        touched = (np.load(self.directory / keys) if keys else np.zeros(0, np.uint64))
        return _Part(index, gen, touched)

    def _count_live(self, has_base: bool) -> int:
        latest = np.fromiter(self._latest, dtype=np.uint64, count=len(self._latest))
        live = 0
        for i, part in enumerate(self._parts):
            if part.index is None:
                continue
            if i == 0 and has_base:  # a vectorised lookup: the base may hold millions
                hidden = int(np.count_nonzero(part.index.contains(latest))) if len(latest) else 0
                live += len(part) - hidden
            else:
                live += sum(1 for k in part.touched.tolist()
                            if self._latest.get(k) == part.gen and k in part.index)
        return live

    def _is_live(self, key: int, gen: int) -> bool:
        return self._latest.get(key, -1) <= gen

    def stamp(self) -> int | None:
        """When the index last changed (its manifest, replaced by every write)."""
        return self._file_stamp()

    def reader(self) -> list[_Part]:
        self._refresh()
        return self._parts

    def __len__(self) -> int:
        self._refresh()
        return self._live

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(id, cosine similarity) of the ``k`` nearest, best first."""
        parts = self.reader()
        if k <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32)
        found: list[tuple[float, int]] = []
        for part in parts:
            found += self._search_part(part, query, k)
        found.sort()
        return [(key, 1.0 - dist) for dist, key in found[:k]]

    def _search_part(self, part: _Part, query: np.ndarray, k: int) -> list[tuple[float, int]]:
        size = len(part)
        if not size:
            return []
        ask = min(k, size)
        while True:
            matches = part.index.search(query, ask, exact=size < EXACT_BELOW)
            hits = [(float(d), int(key)) for key, d in zip(matches.keys, matches.distances,
                                                            strict=True)
                    if self._is_live(int(key), part.gen)]
            # Superseded copies took places: ask for more until k live ones or all.
            if len(hits) >= k or ask >= size:
                return hits
            ask = min(size, ask * 2)

    def get(self, ids: list[int]) -> dict[int, np.ndarray]:
        parts = self.reader()
        found: dict[int, np.ndarray] = {}
        for pid in ids:
            for part in reversed(parts):
                if part.index is not None and self._is_live(pid, part.gen) and pid in part.index:
                    found[pid] = np.asarray(part.index.get(np.uint64(pid)), dtype=np.float32)
                    break
        return found

    # -- writing ------------------------------------------------------------------------

    @contextmanager
    def _writing(self, *, collect: bool = False) -> Iterator[dict]:
        """The manifest to change, under the writer lock; ``collect``: remove files it no
        longer names (only with ``compact.lock`` held: a compaction's new files are
        unlisted until it swaps them in)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "vectors.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            manifest = self._read_manifest()
            yield manifest
            self._write_manifest(manifest)
            if collect:
                self._remove_unlisted(manifest)

    def update(self, ids: Iterable[int], vectors: np.ndarray, remove: Iterable[int] = ()) -> None:
        """Add or replace ``ids`` with ``vectors`` and drop ``remove``: one new segment.

        Costs time in proportion to the batch: the base and the older segments are
        not read.
        """
        keys = np.asarray(list(ids), dtype=np.uint64)
        gone = np.asarray(sorted(set(remove) - set(keys.tolist())), dtype=np.uint64)
        if not len(keys) and not len(gone):
            return
        with self._writing() as manifest:
            gen = manifest["next"]
            manifest["next"] = gen + 1
            file = None
            if len(keys):
                vectors = np.asarray(vectors, dtype=np.float32)
                self.ndim = vectors.shape[1]
                index = self._new()
                index.add(keys, np.asarray(vectors, dtype=np.float32))
                file = f"seg-{gen}.usearch"
                _save_index(index, self.directory / file)
            keys_file = f"seg-{gen}.keys.npy"
            _save_keys(np.concatenate([keys, gone]), self.directory / keys_file)
            manifest["segments"].append({"gen": gen, "file": file, "keys": keys_file,
                                         "level": 0, "size": int(len(keys) + len(gone))})

    def add(self, ids: np.ndarray | list[int], vectors: np.ndarray) -> None:
        """Insert or replace these vectors."""
        self.update(ids, vectors)

    def remove(self, ids: list[int]) -> None:
        self.update([], np.zeros((0, self.ndim), np.float32), remove=ids)

    def rebuild(self, batches, total: int | None = None) -> int:  # noqa: ARG002
        """Replace the whole index with the vectors ``batches`` yields as (ids, vectors)."""
        index = None
        for ids, vectors in batches:
            if len(ids):
                vectors = np.asarray(vectors, dtype=np.float32)
                if index is None:
                    self.ndim = vectors.shape[1]
                    index = self._new()
                index.add(np.asarray(ids, dtype=np.uint64), vectors)
        if index is None:
            index = self._new()
        self.directory.mkdir(parents=True, exist_ok=True)
        # compact.lock first, as compact() takes them: no compaction's output is unlisted.
        with open(self.directory / "compact.lock", "w") as compacting:
            fcntl.flock(compacting, fcntl.LOCK_EX)
            with self._writing(collect=True) as manifest:
                gen = manifest["next"]
                manifest["next"] = gen + 1
                file = f"base-{gen}.usearch"
                _save_index(index, self.directory / file)
                manifest["base"] = {"gen": gen, "file": file}
                manifest["base_size"] = len(index)
                manifest["segments"] = []
        return len(index)

    def _remove_unlisted(self, manifest: dict) -> None:
        listed = set(_names(manifest, keys_too=True))
        for path in self.directory.iterdir():
            if path.suffix in (".usearch", ".npy") and path.name not in listed:
                path.unlink(missing_ok=True)  # readers keep their mapping of it

    # -- compaction ---------------------------------------------------------------------

    def needs_compaction(self) -> bool:
        manifest = self._read_manifest()
        return _plan(manifest) is not None

    def compact(self) -> bool:
        """Do one merge step if one is due (see the module docstring); True if it did."""
        with open(self.directory / "compact.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False  # someone else compacts
            snapshot = self._read_manifest()
            plan = _plan(snapshot)
            if plan is None:
                return False
            into_base, run = plan
            merged = self._merge(snapshot, run, into_base)
            with self._writing(collect=True) as manifest:
                gens = {seg["gen"] for seg in run}
                manifest["segments"] = [s for s in manifest["segments"] if s["gen"] not in gens]
                if into_base:
                    manifest["base"], manifest["base_size"] = merged, merged.pop("size")
                else:
                    position = sum(1 for s in manifest["segments"] if s["gen"] < merged["gen"])
                    manifest["segments"].insert(position, merged)
            return True

    def _merge(self, manifest: dict, run: list[dict], into_base: bool) -> dict:
        gen = run[-1]["gen"]
        latest: dict[int, dict] = {}
        for seg in run:
            for key in np.load(self.directory / seg["keys"]).tolist():
                latest[key] = seg
        base = manifest["base"]
        if into_base and base:
            index = Index.restore(str(self.directory / base["file"]))
            stale = np.asarray([k for k in latest if k in index], dtype=np.uint64)
            if len(stale):
                index.remove(stale)
        else:
            index = self._new()
        for seg in run:
            if not seg["file"]:
                continue
            part = Index.restore(str(self.directory / seg["file"]), view=True)
            keys = [k for k in np.asarray(part.keys, dtype=np.uint64).tolist()
                    if latest[k] is seg]
            if keys:
                index.add(np.asarray(keys, dtype=np.uint64),
                          np.asarray(part.get(np.asarray(keys, dtype=np.uint64)),
                                     dtype=np.float32))
        nonce = uuid.uuid4().hex[:8]
        if into_base:
            file = f"base-{gen}-{nonce}.usearch"
            _save_index(index, self.directory / file)
            return {"gen": gen, "file": file, "size": len(index)}
        file = f"seg-{gen}-{nonce}.usearch" if len(index) else None
        if file:
            _save_index(index, self.directory / file)
        keys_file = f"seg-{gen}-{nonce}.keys.npy"
        _save_keys(np.asarray(list(latest), dtype=np.uint64), self.directory / keys_file)
        return {"gen": gen, "file": file, "keys": keys_file, "level": run[0]["level"] + 1,
                "size": len(latest)}


def _plan(manifest: dict) -> tuple[bool, list[dict]] | None:
    """(into the base?, the contiguous run of segments to merge), or None."""
    segments = manifest["segments"]
    if not segments:
        return None
    base_size = manifest.get("base_size")
    if base_size is None and manifest["base"]:  # a legacy file: size unknown, assume large
        base_size = 10**9
    total = sum(s["size"] for s in segments)
    if manifest["base"] and total > max(BASE_FRACTION * base_size, BASE_MERGE_MIN):
        return True, segments
    for start in range(len(segments) - FANOUT + 1):
        run = segments[start:start + FANOUT]
        if len({s["level"] for s in run}) == 1:
            return False, run
    return None


def _names(manifest: dict, keys_too: bool = False) -> list[str]:
    names = []
    if manifest["base"]:
        names.append(manifest["base"]["file"])
    for seg in manifest["segments"]:
        if keys_too:
            names += [n for n in (seg["file"], seg["keys"]) if n]
        else:
            names.append(seg["file"] or seg["keys"])
    return names


def _save_index(index: Index, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    index.save(str(tmp))
    with open(tmp, "rb+") as written:
        os.fsync(written.fileno())
    os.replace(tmp, path)


def _save_keys(keys: np.ndarray, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, np.asarray(keys, dtype=np.uint64))
    with open(tmp, "rb+") as written:
        os.fsync(written.fileno())
    os.replace(tmp, path)


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
