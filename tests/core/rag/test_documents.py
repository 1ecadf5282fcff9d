from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.config import load_config
from lakehouse.core.rag.documents import DocumentError, load_documents, parse_document
from tests.conftest import ROOT

HEADER = "---\ntitle: T\ndomain: crm\ndoc_type: runbook\nclassification: internal\nretention: P7Y\nowner: team\n---\n"


def _write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_front_matter_is_parsed_and_the_id_is_stable(tmp_path: Path) -> None:
    path = _write(tmp_path, "crm/case.md", HEADER + "## A\nbody\n")
    document = parse_document(path, tmp_path)
    assert document.doc_id == "crm/case.md"
    assert document.meta.classification == "internal"
    assert document.retention.days == 7 * 365
    assert document.body == "## A\nbody"
    assert len(document.content_hash) == 64


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter", "crm/x.md: no front matter"),
        ("---\ntitle: T\n", "crm/x.md: the front matter is not closed"),
        (HEADER.replace("internal", "secret"), "crm/x.md: front matter: classification: Input should be"),
        (HEADER.replace("owner: team\n", ""), "crm/x.md: front matter: owner: Field required"),
        (
            HEADER.replace("domain: crm", "domain: billing"),
            "front matter says domain 'billing' but the file is in 'crm/'",
        ),
        (HEADER.replace("title: T", "title: T\ncolour: red"), "colour: Extra inputs are not permitted"),
    ],
)
def test_a_bad_document_is_named_with_its_problem(tmp_path: Path, text: str, message: str) -> None:
    _write(tmp_path, "crm/x.md", text)
    _write(tmp_path, "crm/good.md", HEADER + "fine")
    with pytest.raises(DocumentError) as raised:
        load_documents(tmp_path, ["crm"])
    assert message in str(raised.value)
    assert "1 knowledge document(s) cannot be indexed" in str(raised.value)


def test_only_the_requested_domains_are_loaded(tmp_path: Path) -> None:
    _write(tmp_path, "crm/a.md", HEADER + "a")
    _write(tmp_path, "billing/b.md", HEADER.replace("crm", "billing") + "b")
    assert [d.doc_id for d in load_documents(tmp_path, ["billing"])] == ["billing/b.md"]
    with pytest.raises(DocumentError, match="does not exist"):
        load_documents(tmp_path / "missing", ["billing"])


def test_the_shipped_knowledge_base_is_valid_and_covers_every_domain() -> None:
    rag = load_config("local", ROOT / "config").require_pipelines().rag
    documents = load_documents(ROOT / "knowledge", rag.domains)
    domains = {d.meta.domain for d in documents}
    assert domains == set(rag.domains)
    assert {d.meta.doc_type for d in documents} >= {"runbook", "data_dictionary", "policy"}
    assert {d.meta.classification for d in documents} >= {"internal", "restricted"}
