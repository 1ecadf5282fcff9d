"""Embedding models behind one small interface, so the index build and the retriever agree."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    name: str
    """Identifies the model; stored with every chunk so a model change re-embeds the index."""

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised row per text."""
        ...


class WordLlamaEmbedder:
    """WordLlama ``l2_supercat`` at 256 dimensions: static token embeddings distilled from an LLM's
    embedding layer (MIT licence). Its 16 MB of weights and its tokenizer ship inside the PyPI wheel,
    so nothing is downloaded at run time; it embeds thousands of chunks a second on one CPU core."""

    name = "wordllama-l2_supercat-256"

    def __init__(self) -> None:
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        import wordllama

        # wordllama calls logging.basicConfig(level=INFO) on import; a library must not own the root logger.
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)
        package = Path(wordllama.__file__).parent
        # The package's own lookup of its bundled tokenizer misses (it looks in "tokenizer/", the
        # file is in "tokenizers/") and falls back to a download; as a cache dir it is found.
        self._model = wordllama.WordLlama.load(cache_dir=package, disable_download=True)

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, 256), dtype=np.float32)
        vectors = self._model.embed(list(texts), norm=True)
        return np.asarray(vectors, dtype=np.float32)


@cache
def local_embedder() -> Embedder:
    """The offline default, loaded once per process."""
    return WordLlamaEmbedder()
