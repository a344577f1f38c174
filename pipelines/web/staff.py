"""Placeholder router (filled in by the staff pages)."""

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
