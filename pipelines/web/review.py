"""Placeholder router (filled in by the review pages)."""

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
