"""Placeholder router (filled in by the monitor pages)."""

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
