"""Reading and checking a file in a second process while the caller writes what was checked (the import).

python-calamine parses the whole sheet before the first row exists, and the validator is Python: on one core
they cost as much as all the database work of an import. ``BatchReader`` runs them in a child process (spawned,
so it shares nothing with the caller's database connection) that sends the checked rows through a pipe in
batches, so that the caller writes batch N while batch N+1 is read and checked: the two cores both work.

The caller acknowledges each batch with the row numbers it refused on its own (a person already registered
elsewhere): the reader keeps the cells of the rows it sent until they are acknowledged, and answers with the
refused ones' cells (``arrived``), so that the failure workbook can be written as the import goes, every
failed row as submitted, without reading the file again. The same code runs in-process for small files,
where starting a process is not worth it.

A large xlsx is read by two child processes, each parsing one part of the sheet (records/split.py), since the
parse of a whole sheet is the longest step and one core would do it while the other waits. Their batches are
handed to the caller in file order, and the same ID number twice in the file is found here, in the caller's
process, over the rows of both parts in order (as ``check_rows_with_cells`` does for one part). When the two
parts do not agree on the header, or either cannot be made, the file is read whole by one child, as before.
"""

from __future__ import annotations

import datetime
import gc
import itertools
import pickle
import queue
import shutil
import socket
import subprocess
import sys
import threading
import traceback
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from xueji.records.check import check_rows_with_cells
from xueji.records.context import RowContext
from xueji.records.split import Cut, sheet_part
from xueji.records.validator import ERROR, DuplicateIdTracker, FieldError
from xueji.records.workbook import DEFAULT_LIMITS, Format, Limits, Table, WorkbookError, _build_columns, open_table

# (sheet row number, the values of the caller's ``columns``, every clean value as JSON text, problems); values
# and JSON are None for a row with errors. Plain values cross the pipe far cheaper than the clean dicts.
Row = tuple[int, tuple[Any, ...] | None, str | None, list[FieldError]]
# A Row as the reader sends it: with the row's clean ID number (None if it has none), for the duplicate check.
_Checked = tuple[int, tuple[Any, ...] | None, str | None, list[FieldError], str | None]
Cells = tuple[int, list[object]]  # (sheet row number, the row's cells as read)


@dataclass(frozen=True)
class SheetInfo:
    """What the caller needs of the opened file besides its rows (plain data: it crosses the pipe)."""

    format: Format
    sheet_name: str
    header_row: int
    header: list[object]
    first_column: int
    preamble: list[list[object]]
    estimated_rows: int | None
    cut: int | None = None  # read as a part of the sheet (records/split.py): where the second part starts

    @classmethod
    def of(cls, table: Table, header: list[object], cut: int | None = None) -> SheetInfo:
        return cls(
            table.format,
            table.sheet_name,
            table.header_row,
            header,
            table.first_column,
            table.preamble,
            table.estimated_rows,
            cut,
        )

    def same_header(self, other: SheetInfo) -> bool:
        """Whether two parts of a sheet found the same header in the same place."""
        return (self.format, self.sheet_name, self.header_row, self.header, self.first_column, self.preamble) == (
            other.format, other.sheet_name, other.header_row, other.header, other.first_column, other.preamble,
        )  # fmt: skip

    def table(self) -> Table:
        """The file's table without rows: what the failure workbook's ``AnnotatedWriter`` needs."""
        columns, unknown = _build_columns(self.header)
        table = Table(self.format, self.sheet_name, self.header_row, columns, self.first_column, unknown, self.preamble)
        table.estimated_rows = self.estimated_rows
        return table


def _json_default(value: object) -> object:
    # Only the exam score (a Decimal) reaches here; orjson writes dates as ISO text itself.
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_text(data: Mapping[str, object]) -> str:
    """A clean row as JSON text: dates as ISO text, scores as exact text. orjson, because the standard
    library's encoder costs 15 µs a row, a tenth of an import's time."""
    return orjson.dumps(data, default=_json_default).decode()


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime.date) else value


class _Producer:
    """Reads and checks the file batch by batch, skipping the first ``skip`` rows (already committed by an
    earlier run; their ID numbers are still sent, so that a later duplicate of one of them is recognised).
    With ``part`` (0 or 1) it reads only that part of the sheet (records/split.py), written into ``work_dir``;
    the first part reads the whole file when the sheet cannot be cut, the second then reads nothing."""

    def __init__(
        self,
        path: str,
        ctx: RowContext,
        columns: Sequence[str],
        skip: int,
        batch_size: int,
        limits: Limits,
        part: int | None = None,
        work_dir: str | None = None,
    ):
        self.path, self.ctx, self.columns, self.skip, self.batch_size = path, ctx, tuple(columns), skip, batch_size
        self.limits, self.part, self.work_dir = limits, part, work_dir
        self.count = 0
        self._table: Table | None = None
        self._sent: deque[dict[int, list[object]]] = deque()  # cells of the rows sent, per unacknowledged batch

    def open(self) -> SheetInfo | None:
        """What the file is, or None for a second part when the sheet is not cut."""
        cut = None
        if self.part is not None and self.work_dir is not None:
            out = Path(self.work_dir) / f"part{self.part}.xlsx"
            limits = self.limits
            cut = sheet_part(
                self.path, out, part=self.part, head_rows=limits.header_search_rows, max_rows=limits.max_rows
            )
            if cut is not None:
                # A part is stored uncompressed, so larger than the upload whose size was checked.
                limits = replace(limits, max_file_bytes=max(limits.max_file_bytes, out.stat().st_size))
                table = open_table(out, limits)
                if self.part == 0 and (table.last_row or 0) < cut.row:
                    self._table = table
                elif self.part == 1 and (rows := _after_the_cut(table, cut)) is not None:
                    self._table = replace(table, _rows=rows)
                else:
                    cut = None  # a row out of its place in the sheet: the cut would lose or repeat it
            if cut is None and self.part == 1:
                return None
        if self._table is None:
            self._table = open_table(self.path, self.limits)
        # The header row again, as cells in their places (blank where no column was read).
        header: list[object] = [""] * (max((c.index for c in self._table.columns), default=-1) + 1)
        for column in self._table.columns:
            header[column.index] = column.header
        return SheetInfo.of(self._table, header, cut.row if cut else None)

    def batches(self) -> Iterator[tuple[list[_Checked], list[Cells]]]:
        """(rows, the cells of the rows with errors) per batch."""
        assert self._table is not None
        rows: list[_Checked] = []
        failed: list[Cells] = []
        sent: dict[int, list[object]] = {}
        skip, columns = self.skip, self.columns
        for number, clean, errors, cells in check_rows_with_cells(self._table, self.ctx, duplicates=False):
            self.count += 1
            id_number = clean.get("id_number")
            if not isinstance(id_number, str):
                id_number = None
            if self.count <= skip:
                # Neither values nor problems: a row to skip, sent for the caller's duplicate check only.
                rows.append((number, None, None, [], id_number))
            elif errors and any(e.severity == ERROR for e in errors):
                rows.append((number, None, None, errors, id_number))
                failed.append((number, cells))
            else:
                get = clean.get
                values = tuple([_plain(get(key)) for key in columns])
                rows.append((number, values, json_text(clean), errors, id_number))
                sent[number] = cells
            if len(rows) >= self.batch_size:
                self._sent.append(sent)
                yield rows, failed
                rows, failed, sent = [], [], {}
        if rows:
            self._sent.append(sent)
            yield rows, failed

    def ack(self, refused: Iterable[int]) -> list[Cells]:
        """The oldest unacknowledged batch is written; ``refused`` are its rows the writer did not take: their
        cells, as read."""
        sent = self._sent.popleft()
        return [(number, sent[number]) for number in refused]


def _after_the_cut(table: Table, cut: Cut) -> Iterator[tuple[int, list[object]]] | None:
    """The second part's rows from the cut on, or None if it has a row before the cut that is not of the header
    area (a row written out of its place: the first part would not have it)."""
    rows = table.rows()
    for number, cells in rows:
        if number >= cut.row:
            return itertools.chain([(number, cells)], rows)
        if number not in cut.head:
            return None
    return iter(())


class _Child:
    """A reader process: a fresh interpreter running this module (not multiprocessing's spawn, which would run
    the caller's main script again), talking over two socket pairs: one for its batches, one for its answers to
    acknowledgements (the refused rows' cells), so that those are read without reading ahead of the batches
    (a part that runs ahead has all of its batches queued in front of any answer)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        ours_back, theirs_back = socket.socketpair()
        with ours, theirs, ours_back, theirs_back:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "xueji.records.reader", str(theirs.fileno()), str(theirs_back.fileno())],
                pass_fds=(theirs.fileno(), theirs_back.fileno()),
                stdin=subprocess.DEVNULL,
            )
            self.conn = Connection(ours.detach())
            self.answers = Connection(ours_back.detach())
        self.count = 0

    def receive(self, *expected: str) -> tuple[Any, ...]:
        try:
            message = self.conn.recv()
        except EOFError:
            raise RuntimeError("the reader process ended without an answer") from None
        if message[0] == "error":
            raise WorkbookError(message[1])
        if message[0] == "crash":
            raise RuntimeError(f"the reader process failed:\n{message[1]}")
        if message[0] not in expected:
            raise RuntimeError(f"the reader process sent {message[0]!r}, expected {expected}")
        return message  # type: ignore[no-any-return]

    def answer(self) -> list[Cells]:
        """The next answer to an acknowledgement that refused rows: their cells."""
        try:
            return self.answers.recv()  # type: ignore[no-any-return]
        except EOFError:
            raise RuntimeError("the reader process ended without an answer") from None

    def close(self, *, kill: bool = False) -> None:
        """Stop the process: it ends when it finds the connection closed; ``kill`` for one not worth waiting for."""
        self.conn.close()
        self.answers.close()
        if kill:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class BatchReader:
    """Iterate for (rows, failed rows' cells) per batch, each good row giving the clean values of ``columns``
    (dates as ISO text) and all of them as JSON; ``ack`` each batch after writing it; ``arrived`` for the
    refused rows' cells; ``finish`` for the row count and the cells still owed. Use as a context manager:
    leaving it stops the child processes.

    ``split_from_bytes``: an xlsx of at least this size (and no ``skip``) is read in two parts by two processes.
    A row whose ID number an earlier row of the file has fails here, as in ``check_rows_with_cells``; when it
    was otherwise good, its number is among those to ``ack`` as refused, like the rows the writer refuses."""

    def __init__(
        self,
        path: str | Path,
        ctx: RowContext,
        *,
        columns: Sequence[str],
        skip: int = 0,
        batch_size: int = 1000,
        in_process: bool = False,
        limits: Limits = DEFAULT_LIMITS,
        split_from_bytes: int | None = None,
    ):
        self._args = (str(path), ctx, tuple(columns), skip, batch_size, limits)
        self._producer: _Producer | None = None
        self._children: list[_Child] = []
        self._pending: deque[_Child | None] = deque()  # whose batch each unacknowledged one is
        self._expected: deque[_Child] = deque()  # who owes refused cells, in the order of the acknowledgements
        self._ready: list[list[Cells]] = []
        self._duplicates = DuplicateIdTracker()
        self._work_dir: str | None = None
        if not in_process:
            try:
                self._start(
                    split=split_from_bytes is not None
                    and skip == 0
                    and Path(path).stat().st_size >= split_from_bytes
                    and zipfile.is_zipfile(path)
                )
            except OSError:  # no interpreter to start (an embedded Python): read here instead
                self.close()
                in_process = True
            except BaseException:
                self.close()
                raise
        if in_process:
            self._producer = _Producer(*self._args)
            info = self._producer.open()
            assert info is not None
            self.info = info

    def _start(self, *, split: bool) -> None:
        if split:
            # Beside the file and named after it: a run killed with its worker leaves it behind, and the
            # job's next run (the stale job is queued again) clears it first.
            source = Path(self._args[0])
            work_dir = source.parent / f".{source.name}.parts"
            shutil.rmtree(work_dir, ignore_errors=True)
            work_dir.mkdir()
            self._work_dir = str(work_dir)
            first, second = _Child(), _Child()
            self._children = [first, second]
            first.conn.send((*self._args, 0, self._work_dir))
            second.conn.send((*self._args, 1, self._work_dir))
            one: SheetInfo | None = None
            two: SheetInfo | None = None
            try:
                one = first.receive("info")[1]
                message = second.receive("info", "nosplit")
                two = message[1] if message[0] == "info" else None
            except (WorkbookError, RuntimeError):
                pass  # read whole below: a file's own error is given by the reader of the whole file
            if one is not None and one.cut is None:  # the first part read the whole file
                second.close(kill=True)
                self._children = [first]
                self.info = one
                return
            if one is not None and two is not None and one.cut == two.cut and one.same_header(two):
                self.info = replace(one, estimated_rows=two.estimated_rows)
                return
            for child in self._children:
                child.close(kill=True)
            self._children = []
        child = _Child()
        self._children = [child]
        child.conn.send(self._args)
        self.info = child.receive("info")[1]

    def __enter__(self) -> BatchReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _batches(self) -> Iterator[tuple[_Child | None, list[_Checked], list[Cells]]]:
        if self._producer is not None:
            for rows, failed in self._producer.batches():
                yield None, rows, failed
            return
        for child in self._children:
            while True:
                message = child.receive("rows", "end")
                if message[0] == "end":
                    child.count = message[1]
                    break
                yield child, message[1], message[2]

    def __iter__(self) -> Iterator[tuple[list[Row], list[Cells]]]:
        check = self._duplicates.check
        for child, checked, failed in self._batches():
            rows: list[Row] = []
            for number, values, data, errors, id_number in checked:
                duplicate = check(number, id_number) if id_number is not None else None
                if values is None and not errors:
                    continue  # committed by an earlier run (the reader's ``skip``): only its ID number counts
                if duplicate is not None:
                    rows.append((number, None, None, [*errors, duplicate]))
                else:
                    rows.append((number, values, data, errors))
            self._pending.append(child)
            if rows:
                yield rows, failed
            else:
                self.ack(())

    def ack(self, refused: Iterable[int]) -> None:
        """The oldest batch not yet acknowledged is written; ``refused``: its rows the caller did not take (a
        duplicate found here is among them). Their cells come back through ``arrived``."""
        child = self._pending.popleft()
        numbers = list(refused)
        if child is None:
            assert self._producer is not None
            cells = self._producer.ack(numbers)
            if numbers:
                self._ready.append(cells)
            return
        child.conn.send(("ack", numbers))
        if numbers:
            self._expected.append(child)

    def arrived(self, *, wait: bool = False) -> list[list[Cells]]:
        """The refused rows' cells that have come back, one list per acknowledgement that refused rows, in the
        order of the acknowledgements; ``wait`` for all of them."""
        while self._expected and (wait or self._expected[0].answers.poll()):
            self._ready.append(self._expected.popleft().answer())
        ready, self._ready = self._ready, []
        return ready

    def finish(self) -> tuple[int, list[list[Cells]]]:
        """(rows in the file, the refused rows' cells not yet taken from ``arrived``). Call after the last batch
        is acknowledged."""
        rest = self.arrived(wait=True)
        if self._producer is not None:
            return self._producer.count, rest
        for child in self._children:
            child.conn.send(("fin",))
            child.receive("done")
        return sum(child.count for child in self._children), rest

    def close(self) -> None:
        children, self._children = self._children, []
        for child in children:
            child.close()
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None


class _Outbox:
    """Sends from a thread, up to ``depth`` messages ahead of the caller: a socket holds far less than one batch,
    and without this the reader would wait for the caller to finish writing a batch before it could check the
    next one. Every message goes through here, so they arrive in order."""

    def __init__(self, conn: Connection, depth: int = 4):
        self._conn = conn
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._pump, name="xueji-reader-send", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._conn.send_bytes(data)
                except OSError as error:  # the caller is gone: drop the rest
                    self._error = error

    def send(self, message: object) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def close(self) -> None:
        """Wait until everything queued is sent (or the caller is found gone)."""
        self._queue.put(None)
        self._thread.join()


def _serve(conn: Connection, answers: Connection, *args: Any) -> None:
    """The child process: read, check, send; keep the sent rows' cells until their batch is acknowledged."""
    producer = _Producer(*args)
    # The second part of a cut sheet runs ahead of the caller, who writes the first part's rows before any of
    # its own: it queues all of its batches (a bounded share of the file) instead of waiting.
    outbox = _Outbox(conn, depth=0 if producer.part == 1 else 4)
    replies = _Outbox(answers, depth=0)  # never blocks this thread, whenever the caller reads them
    try:
        info = producer.open()
        if info is None:
            outbox.send(("nosplit",))
            return
        outbox.send(("info", info))
        for rows, failed in producer.batches():
            outbox.send(("rows", rows, failed))
            while conn.poll():
                _answer(conn, outbox, replies, producer)
        outbox.send(("end", producer.count))
        while not _answer(conn, outbox, replies, producer):
            pass
    except WorkbookError as error:
        outbox.send(("error", error.message))
    except (OSError, EOFError):
        pass  # the caller is gone (stopped, or its worker was killed): nothing to do
    except BaseException:
        outbox.send(("crash", traceback.format_exc()))
    finally:
        replies.close()
        outbox.close()
        answers.close()
        conn.close()


def _answer(conn: Connection, outbox: _Outbox, replies: _Outbox, producer: _Producer) -> bool:
    """Handle one message from the caller; True once it said it has finished (the end)."""
    message = conn.recv()
    if message[0] == "ack":
        cells = producer.ack(message[1])
        if message[1]:
            replies.send(cells)
        return False
    outbox.send(("done",))
    return True


if __name__ == "__main__":
    # Through the module's own name, so that what crosses the pipe pickles as xueji.records.reader's classes.
    from xueji.records import reader

    # The reader makes millions of short-lived lists, strings and dicts and no reference cycles: with the default
    # thresholds the cyclic collector spent 3-8% of this process's CPU scanning them for nothing, and still 3% at
    # a threshold of 50,000. It is off: this process lives for one file, and what it frees it frees by counting.
    gc.disable()
    _connection, _answers = Connection(int(sys.argv[1])), Connection(int(sys.argv[2]))
    try:
        _arguments = _connection.recv()
    except EOFError:  # the caller stopped before giving any work (it read the file another way)
        sys.exit(0)
    reader._serve(_connection, _answers, *_arguments)
