"""Retrieval-augmented generation over domain-tagged knowledge documents: the index build's parts
(documents, redaction, chunking, embeddings) and the guarded retrieval, answers and agent tools."""
