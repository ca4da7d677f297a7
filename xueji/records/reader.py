"""Reading and checking a file in a second process while the caller writes what was checked (the import).

python-calamine parses the whole sheet before the first row exists, and the validator is Python: on one core
they cost as much as all the database work of an import. ``BatchReader`` runs them in a child process (spawned,
so it shares nothing with the caller's database connection) that sends the checked rows through a pipe in
batches, so that the caller writes batch N while batch N+1 is read and checked: the two cores both work.

The caller acknowledges each batch with the row numbers it refused on its own (a person already registered
elsewhere): the reader keeps the cells of the rows it sent until they are acknowledged, and hands back the
refused ones at the end, so that the failure workbook has every failed row as submitted without reading the
file again. The same code runs in-process for small files, where starting a process is not worth it.
"""

from __future__ import annotations

import datetime
import pickle
import queue
import socket
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from xueji.records.check import check_rows_with_cells
from xueji.records.context import RowContext
from xueji.records.validator import ERROR, FieldError
from xueji.records.workbook import DEFAULT_LIMITS, Format, Limits, Table, WorkbookError, _build_columns, open_table

# (sheet row number, the values of the caller's ``columns``, every clean value as JSON text, problems); values
# and JSON are None for a row with errors. Plain values cross the pipe far cheaper than the clean dicts.
Row = tuple[int, tuple[Any, ...] | None, str | None, list[FieldError]]
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

    @classmethod
    def of(cls, table: Table, header: list[object]) -> SheetInfo:
        return cls(
            table.format,
            table.sheet_name,
            table.header_row,
            header,
            table.first_column,
            table.preamble,
            table.estimated_rows,
        )

    def table(self) -> Table:
        """The file's table without rows: what ``write_annotated`` needs besides the rows it is given."""
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
    earlier run; they are still checked, so that a later duplicate of one of them is recognised)."""

    def __init__(
        self,
        path: str,
        ctx: RowContext,
        columns: Sequence[str],
        skip: int,
        batch_size: int,
        keep_limit: int,
        limits: Limits,
    ):
        self.path, self.ctx, self.columns, self.skip, self.batch_size = path, ctx, tuple(columns), skip, batch_size
        self.keep_limit, self.limits = keep_limit, limits
        self.count = 0
        self._table: Table | None = None
        self._sent: deque[dict[int, list[object]]] = deque()  # cells of the rows sent, per unacknowledged batch
        self._refused: list[Cells] | None = []

    def open(self) -> SheetInfo:
        self._table = open_table(self.path, self.limits)
        # The header row again, as cells in their places (blank where no column was read).
        header: list[object] = [""] * (max((c.index for c in self._table.columns), default=-1) + 1)
        for column in self._table.columns:
            header[column.index] = column.header
        return SheetInfo.of(self._table, header)

    def batches(self) -> Iterator[tuple[list[Row], list[Cells]]]:
        """(rows, the cells of the rows with errors) per batch."""
        assert self._table is not None
        rows: list[Row] = []
        failed: list[Cells] = []
        sent: dict[int, list[object]] = {}
        skip, columns = self.skip, self.columns
        for number, clean, errors, cells in check_rows_with_cells(self._table, self.ctx):
            self.count += 1
            if self.count <= skip:
                continue
            if errors and any(e.severity == ERROR for e in errors):
                rows.append((number, None, None, errors))
                failed.append((number, cells))
            else:
                get = clean.get
                rows.append((number, tuple([_plain(get(key)) for key in columns]), json_text(clean), errors))
                sent[number] = cells
            if len(rows) >= self.batch_size:
                self._sent.append(sent)
                yield rows, failed
                rows, failed, sent = [], [], {}
        if rows:
            self._sent.append(sent)
            yield rows, failed

    def ack(self, refused: Iterable[int]) -> None:
        """The oldest unacknowledged batch is written; ``refused`` are its rows the writer did not take."""
        sent = self._sent.popleft()
        if self._refused is None:
            return
        self._refused.extend((number, sent[number]) for number in refused)
        if len(self._refused) > self.keep_limit:
            self._refused = None  # too many to hold: the caller reads the file again for its failure workbook

    def refused_cells(self) -> list[Cells] | None:
        return self._refused


class BatchReader:
    """Iterate for (rows, failed rows' cells) per batch, each good row giving the clean values of ``columns``
    (dates as ISO text) and all of them as JSON; ``ack`` each batch after writing it; ``finish`` for the
    row count and the refused rows' cells. Use as a context manager: leaving it stops the child process."""

    def __init__(
        self,
        path: str | Path,
        ctx: RowContext,
        *,
        columns: Sequence[str],
        skip: int = 0,
        batch_size: int = 1000,
        keep_limit: int = 20_000,
        in_process: bool = False,
        limits: Limits = DEFAULT_LIMITS,
    ):
        args = (str(path), ctx, tuple(columns), skip, batch_size, keep_limit, limits)
        self._producer: _Producer | None = None
        self._process: Any = None
        self._conn: Connection | None = None
        if not in_process:
            # A fresh interpreter running this module (not multiprocessing's spawn, which would run the
            # caller's main script again), talking over a socket pair.
            ours, theirs = socket.socketpair()
            with ours, theirs:
                try:
                    self._process = subprocess.Popen(
                        [sys.executable, "-m", "xueji.records.reader", str(theirs.fileno())],
                        pass_fds=(theirs.fileno(),),
                        stdin=subprocess.DEVNULL,
                    )
                except OSError:  # no interpreter to start (an embedded Python): read here instead
                    in_process = True
                else:
                    self._conn = Connection(ours.detach())
        if in_process:
            self._producer = _Producer(*args)
            self.info = self._producer.open()
            return
        assert self._conn is not None
        try:
            self._conn.send(args)
            self.info = self._receive("info")[1]
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> BatchReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _receive(self, *expected: str) -> tuple[Any, ...]:
        assert self._conn is not None
        try:
            message = self._conn.recv()
        except EOFError:
            raise RuntimeError("the reader process ended without an answer") from None
        if message[0] == "error":
            raise WorkbookError(message[1])
        if message[0] == "crash":
            raise RuntimeError(f"the reader process failed:\n{message[1]}")
        if message[0] not in expected:
            raise RuntimeError(f"the reader process sent {message[0]!r}, expected {expected}")
        return message  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[tuple[list[Row], list[Cells]]]:
        if self._producer is not None:
            yield from self._producer.batches()
            return
        while True:
            message = self._receive("rows", "end")
            if message[0] == "end":
                self._count = message[1]
                return
            yield message[1], message[2]

    def ack(self, refused: Iterable[int]) -> None:
        if self._producer is not None:
            self._producer.ack(refused)
        else:
            assert self._conn is not None
            self._conn.send(("ack", list(refused)))

    def finish(self) -> tuple[int, list[Cells] | None]:
        """(rows in the file, the refused rows' cells or None when there were too many to keep). Call after the
        last batch is acknowledged."""
        if self._producer is not None:
            return self._producer.count, self._producer.refused_cells()
        assert self._conn is not None
        self._conn.send(("fin",))
        return self._count, self._receive("refused")[1]

    def close(self) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        assert self._conn is not None
        self._conn.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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

    def send(self, message: tuple[Any, ...]) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def close(self) -> None:
        """Wait until everything queued is sent (or the caller is found gone)."""
        self._queue.put(None)
        self._thread.join()


def _serve(conn: Connection, *args: Any) -> None:
    """The child process: read, check, send; keep the sent rows' cells until their batch is acknowledged."""
    producer = _Producer(*args)
    outbox = _Outbox(conn)
    try:
        outbox.send(("info", producer.open()))
        for rows, failed in producer.batches():
            outbox.send(("rows", rows, failed))
            while conn.poll():
                _answer(conn, outbox, producer)
        outbox.send(("end", producer.count))
        while not _answer(conn, outbox, producer):
            pass
    except WorkbookError as error:
        outbox.send(("error", error.message))
    except (OSError, EOFError):
        pass  # the caller is gone (stopped, or its worker was killed): nothing to do
    except BaseException:
        outbox.send(("crash", traceback.format_exc()))
    finally:
        outbox.close()
        conn.close()


def _answer(conn: Connection, outbox: _Outbox, producer: _Producer) -> bool:
    """Handle one message from the caller; True once it asked for the refused rows (the end)."""
    message = conn.recv()
    if message[0] == "ack":
        producer.ack(message[1])
        return False
    outbox.send(("refused", producer.refused_cells()))
    return True


if __name__ == "__main__":
    # Through the module's own name, so that what crosses the pipe pickles as xueji.records.reader's classes.
    from xueji.records import reader

    _connection = Connection(int(sys.argv[1]))
    reader._serve(_connection, *_connection.recv())
