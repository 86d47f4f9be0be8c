"""The stored log of one run, capped: the head and the tail are kept, the middle is counted.

A step that prints a gigabyte must not put a gigabyte into the service's state database. The
first half of the budget passes through at once (so the log stays live); after that, lines are
held in a bounded tail buffer and the oldest are dropped (counted in bytes and lines). When the
run ends, :meth:`LogCap.close` writes one line saying how much was dropped, then the tail.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable


class LogCap:
    def __init__(self, sink: Callable[[list[str]], None], limit: int) -> None:
        self.sink = sink
        self.head_left = limit // 2
        self.tail_limit = limit - limit // 2
        self.tail: deque[str] = deque()
        self.tail_bytes = 0
        self.dropped_bytes = 0
        self.dropped_lines = 0
        self.closed = False

    def __call__(self, lines: list[str]) -> None:
        if self.closed:
            self.sink(lines)
            return
        out: list[str] = []
        for line in lines:
            size = len(line.encode("utf-8", "replace")) + 1
            if self.head_left >= size and not self.tail:
                self.head_left -= size
                out.append(line)
                continue
            self.head_left = 0  # the head is complete: everything else goes through the tail
            self.tail.append(line)
            self.tail_bytes += size
            while self.tail_bytes > self.tail_limit and self.tail:
                old = self.tail.popleft()
                self.tail_bytes -= len(old.encode("utf-8", "replace")) + 1
                self.dropped_bytes += len(old.encode("utf-8", "replace")) + 1
                self.dropped_lines += 1
        if out:
            self.sink(out)

    def close(self) -> None:
        """Flush: the "dropped" line (if anything was) and the tail. Later lines pass straight through."""
        if self.closed:
            return
        self.closed = True
        out: list[str] = []
        if self.dropped_bytes:
            out.append(f"... log capped: {self.dropped_bytes} bytes ({self.dropped_lines} lines) dropped from the "
                       "middle; the first and the last lines are kept ([local] log_bytes) ...")
        out.extend(self.tail)
        self.tail.clear()
        if out:
            self.sink(out)
