"""Uploaded items (``uploads/upload``) kept in a folder of the server."""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import bad_request, not_found


@dataclass
class Item:
    """One uploaded file."""

    item_id: str
    item_name: str
    description: str
    date: int
    path: Path
    service: str

    def to_json(self) -> dict[str, Any]:
        """Return the item as ``uploads/<itemID>`` describes it."""
        return {
            "itemID": self.item_id,
            "itemName": self.item_name,
            "description": self.description,
            "date": self.date,
            "committed": True,
            "serviceName": self.service,
            "size": self.path.stat().st_size if self.path.exists() else 0,
        }


def safe_filename(name: str) -> str:
    """Return a file name without folders or odd characters."""
    base = re.split(r"[\\/]", name or "")[-1].strip() or "upload.dat"
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base)
    return base.lstrip(".") or "upload.dat"


class Uploads:
    """The uploaded items of one server."""

    def __init__(self, root: Path, max_size: int = 2 * 1024**3) -> None:
        self.root = root
        self.max_size = max_size
        self._items: dict[str, Item] = {}
        self._lock = threading.Lock()

    def add(self, service: str, filename: str, data: bytes, description: str = "") -> Item:
        """Store an uploaded file and return its item."""
        if not filename:
            raise bad_request("The 'file' part of the upload has no file name.")
        if len(data) > self.max_size:
            raise bad_request("The file is larger than the maximum upload size.")
        item_id = "i" + uuid.uuid4().hex
        folder = self.root / item_id
        folder.mkdir(parents=True)
        name = safe_filename(filename)
        path = folder / name
        path.write_bytes(data)
        item = Item(item_id, name, description, int(time.time() * 1000), path, service)
        with self._lock:
            self._items[item_id] = item
        return item

    def get(self, item_id: str) -> Item:
        """Return an item or raise the not-found error."""
        with self._lock:
            item = self._items.get(item_id)
        if item is None:
            raise not_found("Item does not exist or is inaccessible.", f"itemID {item_id!r}")
        return item

    def delete(self, item_id: str) -> None:
        """Remove an item."""
        item = self.get(item_id)
        with self._lock:
            self._items.pop(item_id, None)
        item.path.unlink(missing_ok=True)
