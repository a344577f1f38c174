"""The clue rules (contract rules.md): one SQL file per rule in sql/rules/, run over a night's views."""

from pipelines.rules.run import Rule, RuleRun, load_rules, run_rules

__all__ = ["Rule", "RuleRun", "load_rules", "run_rules"]
