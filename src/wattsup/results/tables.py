"""The store's tables (SQLAlchemy Core), identical on SQLite and PostgreSQL.

``runs`` holds one row per run: the configuration and the headline figures as indexed scalar columns,
so summaries over millions of runs are one SQL aggregate over a compact table. ``run_records`` holds
each run's full :class:`RunRecord` as JSON (``record_json``), so nothing is lost; it is a table of its
own because a few kilobytes of JSON inline would make every scan of ``runs`` read ten times the pages.
``phases`` holds one row per repetition × phase × component for phase analyses. ``schema_version``
records which migrations have been applied.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

SCHEMA_VERSION = 3
"""The schema this wattsup writes. Older stores are migrated on open; newer ones are refused."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so the value is stored as naive UTC text
    (which sorts and compares correctly) and made aware again on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _str(mysql_length: int = 255) -> String:
    """An unbounded string (SQLite, PostgreSQL); MySQL and MariaDB need a length to index one."""
    return String().with_variant(String(mysql_length), "mysql", "mariadb")


metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("config_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    # the configuration
    Column("task", _str(), nullable=False),
    Column("model", _str(512), nullable=False),
    Column("dataset", _str(512), nullable=False),
    Column("weights", String(32), nullable=False),
    Column("mode", String(32), nullable=False),
    Column("device", String(64), nullable=False),
    Column("dtype", String(32), nullable=False),
    Column("batch_size", Integer, nullable=False),
    Column("n", Integer, nullable=False),
    Column("reps", Integer, nullable=False),
    Column("warmup", Integer, nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("max_new_tokens", Integer),
    # when and where
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("stored_at", UTCDateTime, nullable=False),
    Column("hardware", _str()),
    Column("gpu_count", Integer),
    Column("hostname", _str()),
    Column("sensor_methods", _str(1024)),
    Column("has_modeled", Boolean),
    # headline figures: means over the measured repetitions; NULL when unknown, never a silent zero
    Column("reps_measured", Integer, nullable=False),
    Column("energy_kwh_per_1k", Float),
    Column("energy_kwh_per_1k_std", Float),
    Column("gpu_energy_kwh_per_1k", Float),
    Column("cpu_energy_kwh_per_1k", Float),
    Column("ram_energy_kwh_per_1k", Float),
    Column("error_bound_kwh_per_1k", Float),
    Column("duration_s", Float),
    Column("inferences_per_s", Float),
    Column("output_units", Float),
    Column("load_energy_j", Float),
    Column("n_params", BigInteger),
    Column("wattsup_version", String(64), nullable=False),
    # what the measuring tool of an imported run computed itself (CodeCarbon's emissions and country)
    Column("reported_emissions_kg", Float),
    Column("reported_country", String(16)),
    Index("ix_runs_config_hash", "config_hash"),
    Index("ix_runs_status", "status"),
    Index("ix_runs_task", "task"),
    Index("ix_runs_model", "model"),
    Index("ix_runs_hardware", "hardware"),
    Index("ix_runs_started_at", "started_at"),
    # covers the per-configuration pass of the summaries (status filter, group by config_hash, the
    # headline figure and the modelled flag), so a million-run summary is an index scan with no sort
    Index("ix_runs_summary", "status", "config_hash", "energy_kwh_per_1k", "has_modeled"),
)

run_records = Table(
    "run_records",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column(
        "record_json", Text, nullable=False, comment="the whole RunRecord, as RunRecord.model_dump_json()"
    ),
)

phases = Table(
    "phases",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    Column("rep", Integer, comment="repetition index; NULL for the model-load window"),
    Column("ordinal", Integer, nullable=False, comment="order of the window within its repetition"),
    Column("phase", _str(512), nullable=False, comment="'' for the whole window, else 'generate/decode'"),
    Column("depth", Integer, nullable=False),
    Column("component", String(64), nullable=False),
    Column("energy_j", Float, nullable=False),
    Column("method", String(16), nullable=False),
    Column("error_bound_j", Float, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("inferences", Integer),
    Index("ix_phases_run_id", "run_id"),
    Index("ix_phases_phase_component", "phase", "component"),
)

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UTCDateTime, nullable=False),
    Column("wattsup_version", String(64), nullable=False),
)

RUN_COLUMNS: tuple[str, ...] = tuple(c.name for c in runs.columns)
"""The flat columns of a run (the full record is ``run_records.record_json``)."""

PHASE_EXPORT_COLUMNS: tuple[str, ...] = (
    "run_id",
    "config_hash",
    "task",
    "model",
    "hardware",
    "rep",
    "ordinal",
    "phase",
    "depth",
    "component",
    "energy_j",
    "method",
    "error_bound_j",
    "duration_s",
    "inferences",
)
"""The columns of an exported phase row: the phase itself and the run columns most analyses group by."""


def column_kind(table: Table, name: str) -> str:
    """How an exporter types a column: ``"str"``, ``"int"``, ``"float"``, ``"bool"`` or ``"datetime"``."""
    kind: Any = table.c[name].type
    if isinstance(kind, UTCDateTime | DateTime):
        return "datetime"
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, Integer):  # BigInteger is an Integer
        return "int"
    if isinstance(kind, Float):
        return "float"
    return "str"
