"""Placeholder router (filled in by the ledger pages)."""

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
