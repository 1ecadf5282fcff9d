"""The Databricks side of RAG, against a stand-in of the Vector Search and model serving REST APIs
on 127.0.0.1 (Databricks cannot run here; the real databricks-sdk client makes the calls)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient

from lakehouse.config import load_config
from lakehouse.core.naming import knowledge_index
from lakehouse.core.rag.retrieval import CHUNK_FIELDS
from lakehouse.core.rag.vector_search import VectorSearchSearcher, index_name, sync

ENVIRONMENT = load_config("dev").require_environment()


class VectorSearchStandIn(BaseHTTPRequestHandler):
    indexes: dict[str, dict[str, Any]]
    calls: list[tuple[str, str, Any]]
    rows: list[list[Any]]

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.calls.append(("GET", self.path, None))
        name = self.path.partition("/api/2.0/vector-search/indexes/")[2].split("?")[0]
        if not name:
            self._reply(404, {"error_code": "NOT_FOUND", "message": self.path})
        elif name in self.indexes:
            self._reply(200, self.indexes[name])
        else:
            self._reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"Index {name} does not exist"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.calls.append(("POST", self.path, body))
        if self.path == "/api/2.0/vector-search/indexes":
            self.indexes[body["name"]] = body
            self._reply(200, body)
        elif self.path.endswith("/sync"):
            self._reply(200, {})
        elif self.path.startswith("/serving-endpoints/") and self.path.endswith("/invocations"):
            content = "Replay the day with lakehouse run [1]. Questions to jane.citizen@example.com."
            self._reply(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]})
        elif self.path.endswith("/query"):
            columns = [{"name": c} for c in [*body["columns"], "score"]]
            rows = self.rows[: body["num_results"]]
            self._reply(200, {"manifest": {"columns": columns}, "result": {"row_count": len(rows), "data_array": rows}})
        else:
            self._reply(404, {"error_code": "NOT_FOUND", "message": self.path})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[type[VectorSearchStandIn]]:
    handler = type("Handler", (VectorSearchStandIn,), {"indexes": {}, "calls": [], "rows": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield handler
    httpd.shutdown()


def _client(server: Any) -> WorkspaceClient:
    return WorkspaceClient(host=server.url, token="dapi-test", auth_type="pat")


def test_sync_creates_the_delta_sync_index_once_then_only_syncs(server: Any) -> None:
    client = _client(server)
    first = sync(client, ENVIRONMENT, knowledge_index(ENVIRONMENT))
    second = sync(client, ENVIRONMENT, knowledge_index(ENVIRONMENT))
    assert (first["created"], second["created"]) == (True, False)
    name = index_name(ENVIRONMENT)
    assert name == "dev_ep_ai.knowledge.document_chunks_index"
    created = [body for method, path, body in server.calls if path == "/api/2.0/vector-search/indexes"]
    assert len(created) == 1
    spec = created[0]
    assert spec["endpoint_name"] == "lakehouse-dev-vs" and spec["primary_key"] == "chunk_id"
    assert spec["index_type"] == "DELTA_SYNC"
    delta = spec["delta_sync_index_spec"]
    assert delta["source_table"] == "dev_ep_ai.knowledge.document_chunks"
    assert delta["embedding_source_columns"] == [
        {"name": "text", "embedding_model_endpoint_name": "databricks-gte-large-en"}
    ]
    assert set(delta["columns_to_sync"]) == set(CHUNK_FIELDS)
    syncs = [path for method, path, _ in server.calls if path.endswith("/sync")]
    assert syncs == [f"/api/2.0/vector-search/indexes/{name}/sync"] * 2


def _row(chunk_id: str, domain: str, score: float) -> list[Any]:
    values = {
        "chunk_id": chunk_id,
        "doc_id": chunk_id.split("#")[0],
        "domain": domain,
        "title": "T",
        "section": "S",
        "classification": "internal",
        "source_uri": f"/Volumes/dev_ep_ai/knowledge/documents/{chunk_id}",
        "text": "text",
    }
    return [values[name] for name in CHUNK_FIELDS] + [score]


def test_queries_filter_by_classification_and_domain_and_prefer_the_routed_domain(server: Any) -> None:
    server.rows = [_row("amdm/a.md#0", "amdm", 0.9), _row("pega/b.md#0", "pega", 0.8), _row("amdm/c.md#0", "amdm", 0.7)]
    searcher = VectorSearchSearcher(_client(server), index_name(ENVIRONMENT), ["public", "internal"])
    found = searcher.search("case breach rules", 2, domains=None, prefer="pega")
    assert [chunk.chunk_id for chunk, _ in found] == ["pega/b.md#0", "amdm/a.md#0"]
    query = [body for _, path, body in server.calls if path.endswith("/query")][-1]
    assert query["query_type"] == "HYBRID" and query["num_results"] == 4 and query["query_text"] == "case breach rules"
    assert json.loads(query["filters_json"]) == {"classification": ["public", "internal"]}

    searcher.search("postcodes", 3, domains=["amdm"])
    query = [body for _, path, body in server.calls if path.endswith("/query")][-1]
    assert json.loads(query["filters_json"]) == {"classification": ["public", "internal"], "domain": ["amdm"]}
    assert query["num_results"] == 3


def test_answers_on_databricks_come_from_the_serving_endpoint_redacted_and_logged(
    server: Any, spark: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lakehouse.core.naming import rag_telemetry
    from lakehouse.spark.rag.knowledge_base import KnowledgeBase
    from lakehouse.spark.tables import Tables

    monkeypatch.setenv("DATABRICKS_HOST", server.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test")
    server.rows = [_row("jarvis/runbook.md#0", "jarvis", 0.9)]
    config = load_config("dev")
    tables = Tables(tmp_path)
    knowledge = KnowledgeBase(config, spark, tables)
    answer = knowledge.ask("How do I replay a day of services?")
    assert answer.composed_by == "databricks-meta-llama-3-3-70b-instruct"
    assert answer.text == "Replay the day with lakehouse run [1]. Questions to [EMAIL]."
    assert "redacted_answer" in answer.retrieval.safety_flags
    prompt = [body for _, path, body in server.calls if path.endswith("/invocations")][-1]
    system, user = prompt["messages"]
    assert system["role"] == "system" and "[1] T (jarvis/runbook.md > S)" in user["content"]
    (row,) = tables.read(spark, rag_telemetry(config.require_environment())).collect()
    assert row["composed_by"] == answer.composed_by and row["doc_ids"] == ["jarvis/runbook.md"]
