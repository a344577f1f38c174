"""Placeholder router (filled in by the documents work)."""

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
