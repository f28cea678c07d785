"""Storing a finished run without ever losing it: if the store fails when the run ends (a full disk, a
lost server, a locked file), the record goes to a JSON file instead, and the caller says where;
``wattsup import record FILE`` stores it later."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from wattsup.records import RunRecord
from wattsup.results.migrations import StoreError

if TYPE_CHECKING:
    from wattsup.results.store import Store


def save_record(record: RunRecord, folders: tuple[Path, ...] | None = None) -> str:
    """Write ``record`` as JSON to ``wattsup-run-RUNID.json`` in the first writable folder (the working
    directory, else the temporary directory); where it went. Standard output as the last resort."""
    name = f"wattsup-run-{record.run_id}.json"
    text = record.model_dump_json()
    for folder in folders or (Path.cwd(), Path(tempfile.gettempdir())):
        try:
            (folder / name).write_text(text, encoding="utf-8")
            return str(folder / name)
        except OSError:
            continue
    sys.stdout.write(text + "\n")
    return "standard output (above)"


def keep_or_save(store: Store, record: RunRecord) -> str | None:
    """``store.keep(record)``; if that fails, save the record to a file (:func:`save_record`) and return
    the sentence that says what happened and how to store it later. None when it was stored."""
    try:
        store.keep(record)
        return None
    except (StoreError, SQLAlchemyError, OSError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        saved = save_record(record)
        return (
            f"could not store run {record.run_id} in {store.location} ({reason[:300]}); its record is in "
            f"{saved}: store it later with 'wattsup import record {saved} --db DB'"
        )
