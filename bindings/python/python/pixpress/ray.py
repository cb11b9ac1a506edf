"""Batch jobs over a Ray cluster, on Ray Data: ``pixpress.ray``.

``compress_dataset(source, dest, format="webp", quality=80)`` compresses every
image under ``source`` into ``dest`` on the Ray cluster this process is
connected to (``ray.init()``), with the outputs ``pixpress batch`` writes for
the same options: the same relative paths and names, byte for byte. A re-run
skips what a finished run recorded, after checking it; a worker killed
mid-job only costs its unfinished files, which Ray retries.

The pieces, for pipelines of your own:

- :class:`ImageFiles`, a Ray ``Datasource`` over planned files: each row is one
  input's path, the name its output is rendered from, its bytes (read on the
  worker) and what an earlier run recorded for it;
- :class:`Compressor`, the callable class for ``Dataset.map_batches``: one engine
  per actor, its threads bounded by the actor's ``num_cpus``, every image
  compressed with the GIL released;
- :class:`OutputSink`, a Ray ``Datasink`` that writes each output atomically
  under its planned name and records it in the job's manifest.

The manifest (``DEST/.pixpress-ray/``) holds one JSON line per input: input
path, input BLAKE3, output path, size, CRC32C, status (``done`` or
``failed``), the ``PXP_ERR_*`` code and message of a failure, and the job's
identity (the options, naming rule and strip size it was made with). Write
tasks add parts as they finish; the end of a run folds them into
``manifest.jsonl``. A bad file is recorded with its code and does not fail the
job.

Outputs go to a POSIX directory every worker sees (local, or a shared mount on
a cluster), where a rename is atomic; inputs may also come from any
``pyarrow.fs`` filesystem (S3, GCS, HDFS), listed on the driver.

Requires Ray Data: ``pip install pixpress[ray]``. ``import pixpress`` never
imports Ray.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

try:
    import pyarrow as pa
    import ray
    from ray.data import Datasink, Datasource, ReadTask
    from ray.data.block import BlockMetadata
except ImportError as e:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "pixpress.ray needs Ray Data: pip install 'pixpress[ray]'"
    ) from e

from . import _pixpress
from .errors import FileError, InvalidArgumentError, PixpressError

__all__ = [
    "compress_dataset",
    "plan",
    "ImageFiles",
    "Compressor",
    "OutputSink",
    "JobSpec",
    "MANIFEST_DIR",
]

PathLike = Union[str, "os.PathLike[str]"]

#: The manifest's directory, inside the destination.
MANIFEST_DIR = ".pixpress-ray"

#: The columns of a planned file as it travels from the datasource to the sink.
_SCHEMA = pa.schema(
    [
        ("input", pa.string()),
        ("basis", pa.string()),
        ("in_output", pa.bool_()),
        ("data", pa.large_binary()),
        ("input_blake3", pa.string()),
        ("status", pa.string()),
        ("code", pa.string()),
        ("error", pa.string()),
        ("output", pa.string()),
        ("ext", pa.string()),
        ("record", pa.large_binary()),
        ("size", pa.int64()),
        ("crc32c", pa.int64()),
        ("bytes_in", pa.int64()),
    ]
)


@dataclass(frozen=True)
class JobSpec:
    """What a job is: its options (checked by the core), naming rule and strip
    size. Two runs with the same spec are the same job; a record made by
    another job is never taken as done."""

    options: dict
    naming: str = _pixpress.DEFAULT_NAMING
    strip_pixels: int = _pixpress.DEFAULT_STRIP_PIXELS
    pairs: tuple = field(default=(), compare=False)
    extension: Optional[str] = field(default=None, compare=False)

    @classmethod
    def checked(cls, options: dict, naming: str, strip_pixels: int) -> "JobSpec":
        """Checks the options on the driver: a bad option fails here, before
        any task starts, with the core's typed error."""
        if "interceptor" in options:
            raise InvalidArgumentError(
                "pixpress.ray runs on other processes: metadata interceptors "
                "(Python callables) are not supported there; use metadata options"
            )
        pairs, extension = _pixpress.check_options(**options)
        return cls(dict(options), naming, int(strip_pixels), tuple(pairs), extension)

    @property
    def identity(self) -> str:
        """The job's identity in its manifest records (BLAKE3 of the spec)."""
        text = json.dumps(
            {"options": list(self.pairs), "naming": self.naming, "strip_pixels": self.strip_pixels},
            sort_keys=True,
        )
        return _pixpress.input_hash(text.encode())


def _manifest_dir(dest: str) -> str:
    return os.path.join(dest, MANIFEST_DIR)


def read_manifest(dest: PathLike) -> dict:
    """The records of every earlier run into ``dest``, by input path (the
    latest record of each input)."""
    folder = _manifest_dir(os.fspath(dest))
    records: dict = {}
    paths = [os.path.join(folder, "manifest.jsonl")]
    parts = os.path.join(folder, "parts")
    if os.path.isdir(parts):
        paths += [os.path.join(parts, p) for p in sorted(os.listdir(parts)) if p.endswith(".jsonl")]
    for path in paths:
        try:
            with open(path, "rb") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            continue
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # parts are written atomically; a stray line is skipped
            records[record["input"]] = record
    return records


def _write_json_lines(path: str, records: Iterable[dict]) -> None:
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
    _pixpress.write_planned_output(path, text.encode())


def _is_local(filesystem: Any) -> bool:
    if filesystem is None:
        return True
    import pyarrow.fs

    return isinstance(filesystem, pyarrow.fs.LocalFileSystem)


def plan(
    source: Union[PathLike, Sequence[PathLike]],
    dest: PathLike,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    naming: str = _pixpress.DEFAULT_NAMING,
    filesystem: Any = None,
    extension: Optional[str] = None,
) -> list:
    """The files a job over ``source`` takes, in ``pixpress batch``'s order:
    dicts with ``input``, ``basis`` (what the naming rule renders the output
    name from), ``in_output``, and ``code``/``error`` for a file that fails
    before it starts.

    Local paths are planned by the core's planner, the one ``pixpress batch``
    uses (symlinks, loops, the output tree and collisions handled alike).
    Inputs on another ``pyarrow.fs`` filesystem are listed on the driver and
    selected by the same globs and extensions.
    """
    sources = [os.fspath(s) for s in ([source] if isinstance(source, (str, os.PathLike)) else source)]
    dest = os.fspath(dest)
    if _is_local(filesystem):
        rows = _pixpress.plan_files(sources, dest, list(include), list(exclude), naming, extension)
        for row in rows:
            row["input"], row["basis"] = os.fspath(row["input"]), os.fspath(row["basis"])
        return rows
    import pyarrow.fs

    rows = []
    for root in sources:
        info = filesystem.get_file_info(root)
        name = os.path.basename(root.rstrip("/"))
        if info.type == pyarrow.fs.FileType.File:
            files = [(root, "")]
        elif info.type == pyarrow.fs.FileType.Directory:
            listed = filesystem.get_file_info(pyarrow.fs.FileSelector(root, recursive=True))
            found = sorted(
                (f.path, os.path.relpath(f.path, root))
                for f in listed
                if f.type == pyarrow.fs.FileType.File
            )
            taken = _pixpress.selects([r for _, r in found], list(include), list(exclude))
            files = [f for f, keep in zip(found, taken) if keep]
        else:
            raise _pixpress_io_error(root)
        for path, relative in files:
            basis = relative or name
            if relative and len(sources) > 1:
                basis = os.path.join(name, relative)
            rows.append({"input": path, "basis": basis, "in_output": False, "code": None, "error": None})
    return rows


def _pixpress_io_error(path: str) -> PixpressError:
    return FileError(f"{path}: no such file or directory")


class ImageFiles(Datasource):
    """A Ray ``Datasource`` over planned files (see :func:`plan`): one read task
    per ``rows_per_task`` files, each reading its files on the worker.

    A file an earlier run of the same job finished (``done``: the record's
    input BLAKE3 still matches and its output still has the recorded size and
    CRC32C) is passed on as ``skipped`` without its bytes; anything else is
    read for :class:`Compressor`.
    """

    def __init__(
        self,
        rows: Sequence[dict],
        dest: PathLike,
        job: JobSpec,
        *,
        done: Optional[dict] = None,
        filesystem: Any = None,
        rows_per_task: int = 32,
    ) -> None:
        super().__init__()
        self._rows = list(rows)
        self._dest = os.fspath(dest)
        self._job = job
        self._done = done or {}
        self._filesystem = filesystem
        self._rows_per_task = max(1, int(rows_per_task))

    def estimate_inmemory_data_size(self) -> Optional[int]:
        return None

    def get_read_tasks(self, parallelism: int, per_task_row_limit=None, data_context=None) -> list:
        tasks = []
        for start in range(0, len(self._rows), self._rows_per_task):
            chunk = self._rows[start : start + self._rows_per_task]
            done = {r["input"]: self._done[r["input"]] for r in chunk if r["input"] in self._done}
            read = _Reader(chunk, done, self._dest, self._filesystem)
            meta = BlockMetadata(
                num_rows=len(chunk),
                size_bytes=None,
                input_files=[r["input"] for r in chunk],
                exec_stats=None,
            )
            tasks.append(ReadTask(read, meta, schema=_SCHEMA))
        return tasks


@dataclass
class _Reader:
    """One read task: reads its files, and checks what an earlier run did."""

    rows: list
    done: dict
    dest: str
    filesystem: Any

    def __call__(self) -> Iterator[pa.Table]:
        yield pa.Table.from_pylist([self._read(row) for row in self.rows], schema=_SCHEMA)

    def _read(self, row: dict) -> dict:
        out = {"input": row["input"], "basis": row["basis"], "in_output": bool(row.get("in_output"))}
        if row.get("code"):
            return {**out, "status": "failed", "code": row["code"], "error": row["error"]}
        try:
            data = self._read_bytes(row["input"])
        except OSError as e:
            return {**out, "status": "failed", "code": FileError.code, "error": f"{row['input']}: {e}"}
        blake3 = _pixpress.input_hash(data)
        prior = self.done.get(row["input"])
        if prior is not None and self._intact(prior, blake3):
            return {
                **out,
                "status": "skipped",
                "input_blake3": blake3,
                "output": prior["output"],
                "size": prior["size"],
                "crc32c": prior["crc32c"],
                "bytes_in": len(data),
            }
        return {**out, "status": "todo", "data": data, "input_blake3": blake3, "bytes_in": len(data)}

    def _read_bytes(self, path: str) -> bytes:
        if _is_local(self.filesystem):
            with open(path, "rb") as f:
                return f.read()
        with self.filesystem.open_input_file(path) as f:
            return f.read()

    def _intact(self, prior: dict, blake3: str) -> bool:
        if prior.get("input_blake3") != blake3:
            return False
        try:
            with open(os.path.join(self.dest, prior["output"]), "rb") as f:
                data = f.read()
        except OSError:
            return False
        return len(data) == prior["size"] and _pixpress.output_checksum(data) == prior["crc32c"]


class Compressor:
    """The callable class for ``Dataset.map_batches`` (``batch_format="pyarrow"``):
    compresses every ``todo`` row's bytes into what ``pixpress batch`` writes
    for them, with the GIL released. Ray makes one per actor; its engine uses
    as many threads as ``RAYON_NUM_THREADS``, which :func:`compress_dataset`
    sets to the actor's ``num_cpus``. A bad image becomes a ``failed`` row with
    its ``PXP_ERR_*`` code, never an exception."""

    def __init__(self, job: JobSpec) -> None:
        self._job = job

    def __call__(self, batch: pa.Table) -> pa.Table:
        return pa.Table.from_pylist([self._compress(row) for row in batch.to_pylist()], schema=_SCHEMA)

    def _compress(self, row: dict) -> dict:
        if row["status"] != "todo":
            return row
        data = row.pop("data")
        try:
            out = _pixpress.compress_as_batch(data, self._job.strip_pixels, **self._job.options)
        except PixpressError as e:
            return {**row, "status": "failed", "code": e.code, "error": str(e)}
        record = out.metadata.get("restore_record")
        return {**row, "status": "compressed", "data": bytes(out), "ext": out.extension, "record": record}


class OutputSink(Datasink):
    """A Ray ``Datasink`` that puts each compressed output in place under
    ``dest`` by the job's naming rule, atomically and never over an input, and
    writes one manifest part per block (named by its inputs, so a retried
    write task replaces its own part). The summary of the run is in
    :attr:`summary` once the write completes."""

    def __init__(self, dest: PathLike, job: JobSpec, inputs_in_output: Sequence[str] = ()) -> None:
        self._dest = os.fspath(dest)
        self._job = job
        self._inputs_in_output = list(inputs_in_output)
        self.summary: dict = {}

    def write(self, blocks: Iterable[Any], ctx: Any) -> dict:
        summary = _empty_summary()
        identity = self._job.identity
        for block in blocks:
            records = []
            for row in block.to_pylist():
                record = self._put(row, identity)
                records.append(record)
                _count(summary, row, record)
            if records:
                name = _pixpress.input_hash("\n".join(r["input"] for r in records).encode())
                _write_json_lines(os.path.join(_manifest_dir(self._dest), "parts", name[:32] + ".jsonl"), records)
        return summary

    def _put(self, row: dict, identity: str) -> dict:
        record = {
            "input": row["input"],
            "input_blake3": row.get("input_blake3"),
            "job": identity,
            "output": row.get("output"),
            "size": row.get("size"),
            "crc32c": row.get("crc32c"),
            "status": "done",
            "code": None,
            "error": None,
        }
        if row["status"] == "compressed":
            relative = os.fspath(_pixpress.output_name(self._job.naming, row["basis"], row["ext"]))
            data = row["data"]
            try:
                _pixpress.write_planned_output(
                    os.path.join(self._dest, relative),
                    data,
                    row.get("record"),
                    [row["input"], *self._inputs_in_output] if row["in_output"] else [row["input"]],
                )
            except PixpressError as e:
                return {**record, "status": "failed", "code": e.code, "error": str(e), "output": None}
            return {**record, "output": relative, "size": len(data), "crc32c": _pixpress.output_checksum(data)}
        if row["status"] == "failed":
            return {**record, "status": "failed", "code": row["code"], "error": row["error"]}
        return record  # skipped: the earlier record stands

    def on_write_complete(self, write_result: Any) -> None:
        summary = _empty_summary()
        for part in write_result.write_returns:
            for key, value in part.items():
                summary[key] += value
        self.summary = summary


def _empty_summary() -> dict:
    return {"files": 0, "compressed": 0, "skipped": 0, "failed": 0, "bytes_in": 0, "bytes_out": 0}


def _count(summary: dict, row: dict, record: dict) -> None:
    summary["files"] += 1
    if record["status"] == "failed":
        summary["failed"] += 1
        return
    summary["skipped" if row["status"] == "skipped" else "compressed"] += 1
    summary["bytes_in"] += row.get("bytes_in") or 0
    summary["bytes_out"] += record.get("size") or 0


def compress_dataset(
    source: Union[PathLike, Sequence[PathLike]],
    dest: PathLike,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    naming: str = _pixpress.DEFAULT_NAMING,
    strip_pixels: int = _pixpress.DEFAULT_STRIP_PIXELS,
    filesystem: Any = None,
    num_cpus: float = 1,
    concurrency: Optional[Union[int, tuple]] = None,
    rows_per_task: int = 32,
    io_cpus: float = 0.25,
    print_summary: bool = False,
    **options: Any,
) -> dict:
    """Compresses every image under ``source`` (paths or directories, local or
    on ``filesystem``) into the directory ``dest`` on the connected Ray cluster
    (``ray.init()`` is called when Ray is not running), as ``pixpress batch``
    with the same options, naming rule and ``strip_pixels`` would.

    ``options`` are the core's vocabulary (``format``, ``quality``, ``resize``,
    ...), checked here before any task starts. Each actor takes ``num_cpus``
    CPUs and its engine as many threads; ``concurrency`` bounds the actors
    (an int for a fixed pool, ``(min, max)`` to autoscale; default: from one up
    to the cluster's CPUs over ``num_cpus``). Read and
    write tasks take ``io_cpus`` each (file I/O and hashing, little CPU; a
    whole CPU each would starve the actors). Blocks hold ``rows_per_task``
    files: at most what a killed worker makes Ray redo.

    Returns the summary: files, compressed, skipped (done by an earlier run and
    verified), failed, bytes_in, bytes_out, seconds, and failures (input,
    code, error). Ray Data's progress bars show the run.
    """
    job = JobSpec.checked(options, naming, strip_pixels)
    dest = os.path.abspath(os.fspath(dest))
    started = time.monotonic()
    rows = plan(source, dest, include=include, exclude=exclude, naming=naming, filesystem=filesystem, extension=job.extension)
    records = read_manifest(dest)
    identity = job.identity
    done = {k: v for k, v in records.items() if v.get("status") == "done" and v.get("job") == identity}
    inputs_in_output = [r["input"] for r in rows if r.get("in_output")]
    if not ray.is_initialized():
        ray.init()
    if concurrency is None:
        cpus = ray.cluster_resources().get("CPU", 1)
        concurrency = (1, max(1, int(cpus // max(num_cpus, 1e-9))))
    if isinstance(concurrency, int):
        actors = ray.data.ActorPoolStrategy(size=concurrency)
    else:
        actors = ray.data.ActorPoolStrategy(min_size=concurrency[0], max_size=concurrency[1])
    sink = OutputSink(dest, job, inputs_in_output)
    if rows:
        threads = str(max(1, int(num_cpus)))
        (
            ray.data.read_datasource(
                ImageFiles(rows, dest, job, done=done, filesystem=filesystem, rows_per_task=rows_per_task),
                override_num_blocks=max(1, -(-len(rows) // max(1, rows_per_task))),
                num_cpus=io_cpus,
            )
            .map_batches(
                Compressor,
                fn_constructor_kwargs={"job": job},
                batch_format="pyarrow",
                batch_size=None,
                num_cpus=num_cpus,
                compute=actors,
                runtime_env={"env_vars": {"RAYON_NUM_THREADS": threads}},
            )
            .write_datasink(sink, ray_remote_args={"num_cpus": io_cpus})
        )
    summary = {**_empty_summary(), **sink.summary}
    records = read_manifest(dest)
    planned = {r["input"] for r in rows}
    fold_manifest(dest, [records[k] for k in sorted(records)])
    summary["seconds"] = time.monotonic() - started
    summary["failures"] = [
        (r["input"], r["code"], r["error"])
        for k, r in sorted(records.items())
        if k in planned and r["status"] == "failed"
    ]
    if print_summary:
        print(format_summary(summary))
    return summary


def fold_manifest(dest: PathLike, records: Sequence[dict]) -> None:
    """Writes ``records`` as the manifest of ``dest`` (atomically), then
    removes the parts they came from."""
    folder = _manifest_dir(os.fspath(dest))
    _write_json_lines(os.path.join(folder, "manifest.jsonl"), records)
    parts = os.path.join(folder, "parts")
    if os.path.isdir(parts):
        for name in os.listdir(parts):
            if name.endswith(".jsonl"):
                os.unlink(os.path.join(parts, name))


def format_summary(summary: dict) -> str:
    """The summary as the CLI prints its own."""
    lines = [
        f"{summary['files']} files: {summary['compressed']} compressed, "
        f"{summary['skipped']} skipped (done before), {summary['failed']} failed "
        f"in {summary.get('seconds', 0):.1f} s",
        f"{summary['bytes_in']} bytes in, {summary['bytes_out']} bytes out",
    ]
    lines += [f"  {code}  {path}: {error}" for path, code, error in summary.get("failures", [])]
    return "\n".join(lines)
