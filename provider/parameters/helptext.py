"""What a parameter is called and what its help says (the dialog, qgis_process, the help)."""

from __future__ import annotations

from ...gp_client.model import ParameterDescription


def display_name(p: ParameterDescription) -> str:
    """Return the label of a task parameter (its name when the label is blank)."""
    return p.label.strip() or p.name


def help_text(p: ParameterDescription, note: str = "") -> str:
    """Return a parameter's help: its description, category and any note."""
    parts = []
    description = (p.description or "").strip()
    if description:
        parts.append(description)
    category = (p.category or "").strip()
    if category:
        parts.append(f"Category: {category}.")
    if note:
        parts.append(note)
    parts.append(f"GP type: {p.data_type}.")
    return "\n".join(parts)
