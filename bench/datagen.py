"""Benchmark: synthetic table generation, ours against pandas and Faker.

One table of 20 columns (10 float, 5 category, id, timestamp, currency code,
marketplace id, binary label), by default 1M rows:

- ours: `sandbox.data.datagen.generate` to CSV, CSV gzip, Parquet and JSON lines (draw +
  write, in a warm process; median of `--repeat` runs, best shown too);
- pandas: the same table (same draws) as a DataFrame through `DataFrame.to_csv`;
- Faker: row by row into `csv.writer`, on a sample (`--faker-rows`) scaled to the
  row count; skipped with a note when Faker is not installed;
- a cold process generating 1,000 rows, imports included.

Run: `.venv/bin/python bench/datagen.py [--rows N] [--repeat K] [--faker-rows M]`.
Exit code 0 when the goals are met (CSV >= 8x pandas, Parquet < 1 s for 1M rows).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.data.datagen import (
    ColumnSpec,
    ColumnType,
    DataFormat,
    DatasetSpec,
    effective_columns,
    generate,
)

CSV_GOAL_RATIO = 8.0
PARQUET_GOAL_S = 1.0
PARQUET_GOAL_ROWS = 1_000_000
CATEGORY_VALUES = {
    "region": ("north", "south", "east", "west"),
    "channel": ("web", "store", "app", "phone"),
    "device": ("desktop", "mobile", "tablet"),
    "tier": ("bronze", "silver", "gold", "platinum"),
    "status": ("new", "active", "dormant", "churned", "returning"),
}
MARKETPLACE_IDS = (1, 3, 4, 5, 6, 7, 35691, 44551)
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CAD", "AUD", "INR", "CNY")
COLD_ROWS = 1_000


@dataclass(frozen=True)
class Leg:
    """Timings of one way of producing the table."""

    name: str
    seconds: list[float]
    megabytes: float | None = None
    note: str = ""

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)


def bench_spec(rows: int, data_format: DataFormat) -> DatasetSpec:
    """The 20-column benchmark table."""
    floats = [
        ColumnSpec(name=f"f{index}", mean=float(index), std=1.0 + index / 10, signal=0.3)
        for index in range(10)
    ]
    categories = [
        ColumnSpec(name=name, type=ColumnType.CATEGORY, categories=values)
        for name, values in CATEGORY_VALUES.items()
    ]
    columns = (
        ColumnSpec(name="record_id", type=ColumnType.ID),
        ColumnSpec(name="event_time", type=ColumnType.DATETIME),
        *floats,
        *categories,
        ColumnSpec(name="currency_code", type=ColumnType.CURRENCY, categories=CURRENCIES),
        ColumnSpec(name="marketplace_id", type=ColumnType.INT, categories=MARKETPLACE_IDS),
        ColumnSpec(name="label", type=ColumnType.LABEL),
    )
    return DatasetSpec(columns=columns, rows=rows, format=data_format, label="label")


def timed(action: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def megabytes(paths: list[Path]) -> float:
    return sum(path.stat().st_size for path in paths) / 1e6


def ours(rows: int, data_format: DataFormat, repeat: int) -> Leg:
    """`generate` (draw + write) of the benchmark table, each run into a fresh folder."""
    spec = bench_spec(rows, data_format)
    seconds, size = [], 0.0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-datagen-") as folder:
            start = time.perf_counter()
            paths = generate(spec, Path(folder) / "out")
            seconds.append(time.perf_counter() - start)
            size = megabytes(paths)
    return Leg(f"ours {data_format.value}", seconds, size)


def pandas_to_csv(rows: int) -> Leg:
    """The same table (same draws) as a DataFrame, written with `to_csv`."""
    import pandas  # noqa: F401  (its import time is counted nowhere)

    from sandbox.data.datagen.columns import ChunkRange, build_chunk

    spec = bench_spec(rows, DataFormat.CSV)
    start = time.perf_counter()
    table = build_chunk(effective_columns(spec), "label", spec.seed, ChunkRange(0, rows))
    frame = table.to_pandas()
    build_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="bench-datagen-") as folder:
        path = Path(folder) / "pandas.csv"
        write_s = timed(lambda: frame.to_csv(path, index=False))
        size = megabytes([path])
    note = f"(DataFrame {build_s:.2f} s + to_csv {write_s:.2f} s)"
    return Leg("pandas DataFrame.to_csv", [build_s + write_s], size, note)


def faker_leg(rows: int, sample_rows: int) -> Leg | None:
    """Faker row by row into `csv.writer` on a sample, scaled; None without Faker."""
    try:
        from faker import Faker
    except ImportError:
        return None
    fake = Faker()
    Faker.seed(42)
    with tempfile.TemporaryDirectory(prefix="bench-datagen-") as folder:
        path = Path(folder) / "faker.csv"
        seconds = timed(lambda: _faker_csv(fake, path, sample_rows))
        size = megabytes([path]) * rows / sample_rows
    note = f"(measured on {sample_rows:,} rows, scaled)"
    return Leg("Faker row by row", [seconds * rows / sample_rows], size, note)


def _faker_csv(fake: Any, path: Path, rows: int) -> None:
    names = [column.name for column in bench_spec(1, DataFormat.CSV).columns or ()]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for index in range(rows):
            writer.writerow(_faker_row(fake, index))


def _faker_row(fake: Any, index: int) -> list[object]:
    return [
        index + 1,
        fake.date_time_this_year().isoformat(),
        *[round(fake.pyfloat(min_value=-10, max_value=10), 4) for _ in range(10)],
        *[fake.random_element(values) for values in CATEGORY_VALUES.values()],
        fake.currency_code(),
        fake.random_element(MARKETPLACE_IDS),
        fake.random_int(0, 1),
    ]


def cold_process(data_format: DataFormat) -> Leg:
    """A fresh interpreter importing the package and writing `COLD_ROWS` rows."""
    with tempfile.TemporaryDirectory(prefix="bench-datagen-") as folder:
        code = (
            "import sys; from pathlib import Path\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "from datagen import bench_spec\n"
            "from sandbox.data.datagen import DataFormat, generate\n"
            "generate(bench_spec(int(sys.argv[2]), DataFormat(sys.argv[3])), Path(sys.argv[4]))\n"
        )
        command = [
            sys.executable,
            "-c",
            code,
            str(Path(__file__).parent),
            str(COLD_ROWS),
            data_format.value,
            str(Path(folder) / "out"),
        ]
        seconds = timed(lambda: subprocess.run(command, check=True))
    return Leg(f"cold process {data_format.value}", [seconds], note="(imports included)")


def print_leg(leg: Leg, rows: int) -> None:
    rate = rows / leg.median_s if leg.median_s > 0 else float("inf")
    best = f" best {min(leg.seconds):.2f} s" if len(leg.seconds) > 1 else ""
    size = f" {leg.megabytes:7.1f} MB" if leg.megabytes is not None else " " * 11
    line = f"  {leg.name:<26} {leg.median_s:7.2f} s{best:<13} {rate:>12,.0f} rows/s{size}"
    print(f"{line} {leg.note}".rstrip())


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures; exit 1 when a goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows (default 1M)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per leg of ours")
    parser.add_argument("--faker-rows", type=int, default=10_000, help="Faker sample rows")
    args = parser.parse_args(argv)
    rows = args.rows

    ours(COLD_ROWS, DataFormat.CSV, 1)  # warm up imports and code paths
    legs = {fmt: ours(rows, fmt, args.repeat) for fmt in DataFormat}
    pandas_leg = pandas_to_csv(rows)
    faker = faker_leg(rows, args.faker_rows)

    print(f"{rows:,} rows x 20 columns; ours: median of {args.repeat} runs")
    for leg in (*legs.values(), pandas_leg, *([faker] if faker else [])):
        print_leg(leg, rows)
    if faker is None:
        print("  Faker: not installed, leg skipped (pip install faker)")
    for fmt in (DataFormat.CSV, DataFormat.PARQUET):
        print_leg(cold_process(fmt), COLD_ROWS)

    csv_s, parquet_s = legs[DataFormat.CSV].median_s, legs[DataFormat.PARQUET].median_s
    csv_ratio = pandas_leg.median_s / csv_s
    print(f"ours CSV vs pandas to_csv: {csv_ratio:.1f}x faster (goal >= {CSV_GOAL_RATIO:g}x)")
    if faker is not None:
        print(f"ours CSV vs Faker: {faker.median_s / csv_s:.0f}x faster")
    print(f"ours Parquet: {parquet_s:.2f} s (goal < {PARQUET_GOAL_S:g} s for 1M rows)")
    parquet_ok = rows > PARQUET_GOAL_ROWS or parquet_s < PARQUET_GOAL_S
    met = csv_ratio >= CSV_GOAL_RATIO and parquet_ok
    print("goals met" if met else "GOALS MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
