"""The monitoring site (`bidui serve`): monitors watch problem counts night by night, county,
township and village staff work their clues and ledgers in the browser, data officers decide review
pairs and release held rules. Same store, same scopes and same state machine as the CLI."""

from pipelines.web.app import create_app

__all__ = ["create_app"]
