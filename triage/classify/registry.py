"""Versioned models on disk: `models/<version>/` plus a `models/CURRENT` pointer file."""

from __future__ import annotations

from pathlib import Path


class ModelNotFound(LookupError):
    pass


def current_version(model_dir: Path) -> str:
    pointer = Path(model_dir) / "CURRENT"
    if not pointer.exists():
        raise ModelNotFound(f"no current model in {model_dir}")
    return pointer.read_text(encoding="utf-8").strip()


def model_path(model_dir: Path, version: str | None = None) -> Path:
    version = version or current_version(model_dir)
    path = Path(model_dir) / version
    if not path.is_dir():
        raise ModelNotFound(f"model {version} not found in {model_dir}")
    return path
