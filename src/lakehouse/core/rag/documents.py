"""Knowledge documents: ``<root>/<domain>/<name>.md`` files whose YAML front matter says what the
document is and who may read it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lakehouse.config.models import Classification, Duration

SUFFIXES = (".md", ".txt")


class FrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    domain: str
    doc_type: Literal["runbook", "data_dictionary", "policy", "reference", "faq"]
    classification: Classification
    retention: Duration
    owner: str = Field(min_length=1)


class DocumentError(ValueError):
    """A knowledge document that cannot be indexed; the message names the file and the field."""


@dataclass(frozen=True)
class KnowledgeDocument:
    doc_id: str
    """``<domain>/<file name>``: stable across machines, used in citations."""
    source_uri: str
    meta: FrontMatter
    body: str
    content_hash: str

    @property
    def retention(self) -> timedelta:
        return self.meta.retention


def parse_document(path: Path, root: Path) -> KnowledgeDocument:
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    doc_id = path.relative_to(root).as_posix()
    if not text.startswith("---\n"):
        raise DocumentError(f"{doc_id}: no front matter; the file must start with a '---' line")
    header, separator, body = text[4:].partition("\n---\n")
    if not separator:
        raise DocumentError(f"{doc_id}: the front matter is not closed by a '---' line")
    try:
        values = yaml.safe_load(header) or {}
        meta = FrontMatter.model_validate(values)
    except yaml.YAMLError as exc:
        raise DocumentError(f"{doc_id}: front matter is not valid YAML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors())
        raise DocumentError(f"{doc_id}: front matter: {problems}") from None
    folder = path.parent.name
    if meta.domain != folder:
        raise DocumentError(f"{doc_id}: front matter says domain '{meta.domain}' but the file is in '{folder}/'")
    return KnowledgeDocument(
        doc_id=doc_id,
        source_uri=path.resolve().as_uri(),
        meta=meta,
        body=body.strip(),
        content_hash=hashlib.sha256(raw).hexdigest(),
    )


def load_documents(root: Path, domains: Iterable[str]) -> list[KnowledgeDocument]:
    """Every document of the given domains, sorted by id; all invalid files are reported together."""
    if not root.is_dir():
        raise DocumentError(f"knowledge folder {root} does not exist")
    documents: list[KnowledgeDocument] = []
    errors: list[str] = []
    for domain in domains:
        folder = root / domain
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SUFFIXES):
            try:
                documents.append(parse_document(path, root))
            except (DocumentError, UnicodeDecodeError) as exc:
                errors.append(str(exc))
    if errors:
        # One line: alerts quote the first line of an error.
        raise DocumentError(f"{len(errors)} knowledge document(s) cannot be indexed: " + "; ".join(errors))
    return documents
