"""The stages wired together: options in, one result object out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from mlops_plan import load
from mlops_plan.findings import Finding, Severity, Summary, summarize
from mlops_plan.load import Locator
from mlops_plan.validate import Repository, validate_config, validate_documents


class LintResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    root: Path
    findings: list[Finding]
    summary: Summary

    def failed(self, strict: bool = False) -> bool:
        if self.summary.errors:
            return True
        return strict and self.summary.warnings > 0


@dataclass
class Loaded:
    """A repository read and validated: what every command starts from."""

    repo: Repository
    locator: Locator
    findings: list[Finding]
    files: int


def load_repository(path: Path) -> Loaded:
    root = load.find_root(path)
    locator = Locator(root)
    raw_config, config_text, findings = load.parse_config(root)
    if config_text is not None:
        locator.texts[load.CONFIG_FILE] = config_text
    config, config_findings = validate_config(raw_config, locator)
    findings.extend(config_findings)
    files, discovery_findings = load.discover(
        root, config.include, [*config.exclude, load.CONFIG_FILE]
    )
    findings.extend(discovery_findings)
    docs: list[load.RawDoc] = []
    for rel in files:
        text = load.read_text(root, rel)
        if isinstance(text, Finding):
            findings.append(text)
            continue
        file_docs, file_findings = load.parse(rel, text)
        if file_findings or file_docs:
            locator.texts[rel] = text
        docs.extend(file_docs)
        findings.extend(file_findings)
    repo = Repository(root=root, config=config)
    findings.extend(validate_documents(repo, docs, locator))
    return Loaded(repo=repo, locator=locator, findings=findings, files=len(files))


def apply_rule_settings(findings: list[Finding], repo: Repository) -> list[Finding]:
    """Severity overrides and `off` from mlops-plan.yaml `rules:`, then a stable order."""
    settings = repo.config.rules
    out: list[Finding] = []
    for finding in findings:
        setting = settings.get(finding.rule)
        if setting == "off":
            continue
        if setting is not None and setting != finding.severity:
            finding = finding.model_copy(update={"severity": Severity(setting)})
        out.append(finding)
    out.sort(key=Finding.sort_key)
    return out


def lint(path: Path) -> LintResult:
    loaded = load_repository(path)
    findings = apply_rule_settings(loaded.findings, loaded.repo)
    return LintResult(
        root=loaded.repo.root, findings=findings, summary=summarize(findings, loaded.files)
    )
