"""Reading a user's CSV table of measurements, with one clear error per problem."""

from __future__ import annotations

import csv
import math
import os

import numpy as np

__all__ = ["TableError", "read_table", "MIN_ROWS"]

#: Fewer rows than this cannot be split into training and validation data.
MIN_ROWS = 10


class TableError(ValueError):
    """A CSV file that cannot be used as data; the message says why in one line."""


def read_table(path, columns=None, dropna=False, min_rows=MIN_ROWS):
    """Read the numeric ``columns`` (all when None) of the CSV file ``path``.

    Returns ``(header, data)``: the chosen column names and a float array
    ``(rows, len(header))``. Raises :class:`TableError` for a missing or empty file,
    duplicate or unknown column names, non-numeric cells, rows with NaN or inf (dropped
    instead with ``dropna``) and fewer than ``min_rows`` rows.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise TableError(f"{path}: no such file")
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if any(cell.strip() for cell in r)]
    if not rows:
        raise TableError(f"{path}: the file is empty")
    header = [name.strip() for name in rows[0]]
    seen = set()
    for name in header:
        if name in seen:
            raise TableError(f"{path}: the column name {name!r} appears more than once")
        seen.add(name)
    wanted = header if columns is None else list(columns)
    missing = [c for c in wanted if c not in seen]
    if missing:
        raise TableError(f"{path}: no column {missing[0]!r} in the header {header}")
    index = [header.index(c) for c in wanted]
    data = np.empty((len(rows) - 1, len(wanted)))
    for r, row in enumerate(rows[1:]):
        if len(row) != len(header):
            raise TableError(f"{path}, line {r + 2}: {len(row)} cells, the header has {len(header)}")
        for j, i in enumerate(index):
            cell = row[i].strip()
            try:
                data[r, j] = float(cell) if cell else math.nan
            except ValueError:
                raise TableError(
                    f"{path}, line {r + 2}: column {wanted[j]!r} holds {cell!r}, not a number"
                ) from None
    bad = ~np.all(np.isfinite(data), axis=1)
    if bad.any():
        if not dropna:
            line = int(np.flatnonzero(bad)[0]) + 2
            raise TableError(
                f"{path}, line {line}: a missing, NaN or infinite value ({int(bad.sum())} such "
                "rows; pass --dropna to drop them)"
            )
        data = data[~bad]
    if len(data) < min_rows:
        raise TableError(f"{path}: {len(data)} usable rows; at least {min_rows} are needed")
    return wanted, data
